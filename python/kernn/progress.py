"""A progress bar for training loops: tqdm when installed, a plain one-line bar when not, and
silence when standard output is not a terminal (logs and CI output stay clean)."""

import sys
import time

__all__ = ["ProgressBar"]


class ProgressBar:
    """Iterate over `iterable` while showing progress on the terminal.

    Args:
        iterable: what to iterate over.
        total (int): its length (default ``len(iterable)`` when it has one).
        desc (str): label in front of the bar, e.g. ``"epoch 2/5"``.
        enabled (bool): None (default) shows the bar only when stdout is a terminal.

    ``set_postfix(loss=...)`` shows values after the bar; ``write(text)`` prints a line without
    breaking the bar (use it instead of ``print`` inside the loop).

    Example:
        >>> bar = ProgressBar(range(3), desc="epoch 1/1", enabled=False)
        >>> [i for i in bar]
        [0, 1, 2]
    """

    # the plain fallback redraws at most this often (seconds)
    _redraw_interval = 0.2

    def __init__(self, iterable, total=None, desc="", enabled=None):
        self.iterable = iterable
        if total is None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.total = total
        self.desc = desc
        if enabled is None:
            enabled = sys.stdout.isatty()
        self.enabled = bool(enabled)
        self._postfix = {}  # the latest set_postfix values, for the plain bar
        self._tqdm = None
        if self.enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                pass
            else:
                self._tqdm = tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)

    def __iter__(self):
        if self._tqdm is not None:
            yield from self._tqdm
            self._tqdm.close()
            return
        if not self.enabled:
            yield from self.iterable
            return
        last_draw = 0.0
        count = 0
        for item in self.iterable:
            yield item
            count += 1
            now = time.monotonic()
            if now - last_draw >= self._redraw_interval:
                self._draw(count)
                last_draw = now
        self._clear()

    def _draw(self, count):
        if self.total:
            width = 30
            filled = int(width * count / self.total)
            bar = f"[{'#' * filled}{'.' * (width - filled)}] {count}/{self.total}"
        else:
            bar = f"{count}"
        postfix = ", ".join(
            f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
            for key, value in self._postfix.items()
        )
        sys.stdout.write(f"\r{self.desc} {bar} {postfix}".rstrip() + " ")
        sys.stdout.flush()

    def _clear(self):
        sys.stdout.write("\r\033[K")
        sys.stdout.flush()

    def set_postfix(self, **values):
        """Show ``key=value`` pairs after the bar (numbers printed with 4 significant digits)."""
        if self._tqdm is not None:
            self._tqdm.set_postfix(values, refresh=False)
        else:
            # Formatted when the plain bar is drawn (at most every _redraw_interval), not on
            # every training step that calls this.
            self._postfix = values

    def write(self, text):
        """Print a line of text above the bar."""
        if self._tqdm is not None:
            self._tqdm.write(text)
            return
        if self.enabled:
            self._clear()
        print(text, flush=True)
