import builtins
import sys

from kernn.progress import ProgressBar


def test_disabled_bar_only_iterates(capsys):
    bar = ProgressBar(range(5), desc="epoch 1/1", enabled=False)
    bar.set_postfix(loss=0.5)
    assert list(bar) == [0, 1, 2, 3, 4]
    bar.write("a line")
    captured = capsys.readouterr()
    assert captured.out == "a line\n" and captured.err == ""


def test_default_is_silent_when_stdout_is_not_a_terminal(capsys):
    assert not sys.stdout.isatty()  # pytest captures stdout
    assert list(ProgressBar([1, 2, 3], desc="x")) == [1, 2, 3]
    assert capsys.readouterr().out == ""


def test_plain_fallback_without_tqdm(capsys, monkeypatch):
    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError("no tqdm here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    monkeypatch.setattr(ProgressBar, "_redraw_interval", 0.0)
    bar = ProgressBar(range(4), desc="epoch 2/5", enabled=True)
    items = []
    for i in bar:
        bar.set_postfix(loss=1.0 / (i + 1))
        items.append(i)
    assert items == [0, 1, 2, 3]
    out = capsys.readouterr().out
    assert "\repoch 2/5 [" in out and "] 4/4 loss=0.25" in out
    assert out.endswith("\r\033[K")  # the line is cleared at the end
