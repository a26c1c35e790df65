"""What every example shares: the command-line options, seeding and threads, MNIST loading,
the mini-batch classifier training loop and its plot, and writing the results (metrics.json,
weights, pictures) to the output directory."""

import argparse
import dataclasses
import json
import os
import sys

import numpy as np

import kernn
from kernn.datasets import MNIST, DatasetNotFoundError
from kernn.progress import ProgressBar

__all__ = [
    "ProgressBar",
    "TrainingHistory",
    "add_common_args",
    "evaluate_accuracy",
    "figure",
    "finish",
    "finish_classifier",
    "load_mnist_arrays",
    "make_parser",
    "plot_training",
    "run_as_script",
    "setup",
    "train_classifier",
]

WEIGHTS_FILE = "weights.kernn"
METRICS_FILE = "metrics.json"


def make_parser(name, description):
    """An argument parser whose usage line reads ``kernn run NAME``."""
    return argparse.ArgumentParser(prog=f"kernn run {name}", description=description)


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def add_common_args(parser, name, *, epochs=False, lr=False, batch_size=False, mnist=False):
    """The options every example accepts, with this example's defaults.

    ``--threads --seed --out --limit`` always; ``--epochs``, ``--lr`` and ``--batch-size`` when
    given a default (False leaves the option out: a workload without training or one that
    trains on the full batch does not pretend to take it; None lets the example choose after
    parsing, e.g. per recipe); ``--data-dir --download`` for the MNIST examples.
    """
    def add(flag, value, kind, text):
        if value is False:
            return
        shown = "chosen by the other options" if value is None else value
        parser.add_argument(flag, type=kind, default=value, help=f"{text} (default {shown})")

    add("--epochs", epochs, _positive_int, "passes over the training data")
    add("--lr", lr, _positive_float, "learning rate")
    add("--batch-size", batch_size, _positive_int, "samples per mini-batch")
    parser.add_argument("--threads", type=_positive_int, default=None,
                        help="kernn threads (default: OMP_NUM_THREADS or all cores)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", default=os.path.join("runs", name),
                        help=f"output directory for metrics.json, weights and pictures "
                             f"(default runs/{name})")
    parser.add_argument("--limit", type=_positive_int, default=None,
                        help="use only the first N samples of each split (short runs)")
    if mnist:
        parser.add_argument("--data-dir", default=None,
                            help="directory holding mnist/ (default $KERNN_DATA or ~/.cache/kernn)")
        parser.add_argument("--download", action="store_true",
                            help="download MNIST if it is not found (MD5-checked)")


def setup(args):
    """Apply --threads and --seed, create --out."""
    if args.threads is not None:
        kernn.set_num_threads(args.threads)
    kernn.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)


def load_mnist_arrays(args, normalize=None):
    """MNIST as float32 arrays of flattened images in [0, 1] (or ``(x - mean) / std`` with
    ``normalize=(mean, std)``) and int64 labels, cut to --limit samples per split.

    The scaling runs once over the whole uint8 array, not per sample.

    Returns:
        ``(x_train, y_train, x_test, y_test)``, x of shape (N, 784).
    """
    splits = []
    for train in (True, False):
        dataset = MNIST(args.data_dir, train=train, download=args.download)
        images = dataset.data.numpy()[: args.limit]
        labels = dataset.targets.numpy()[: args.limit]
        x = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
        if normalize is not None:
            mean, std = normalize
            x = (x - np.float32(mean)) / np.float32(std)
        splits += [x, labels]
    return tuple(splits)


def evaluate_accuracy(model, x, y, batch_size=1000):
    """Share of correctly classified samples, forward passes under no_grad in batches."""
    correct = 0
    loader = kernn.data.DataLoader(kernn.data.TensorDataset(x, y), batch_size=batch_size)
    with kernn.no_grad():
        for inputs, labels in loader:
            predicted = model(inputs).numpy().argmax(axis=1)
            correct += int((predicted == labels.numpy()).sum())
    return correct / len(y)


@dataclasses.dataclass
class TrainingHistory:
    """What train_classifier records.

    Attributes:
        train_samples, test_samples: the sizes of the two splits.
        steps_per_epoch: mini-batches in one pass over the loader.
        log_every: steps between log lines.
        step_losses: the loss of every mini-batch, in order.
        epoch_losses: the mean of step_losses over each epoch.
        epoch_test_accuracy: the test accuracy after each epoch, in [0, 1].
        logged_steps: the global step numbers (from 1) at which a log line was printed.
        logged_losses: the mean loss over the ``log_every`` steps before each of those.
    """

    train_samples: int
    test_samples: int
    steps_per_epoch: int
    log_every: int
    step_losses: list = dataclasses.field(default_factory=list)
    epoch_losses: list = dataclasses.field(default_factory=list)
    epoch_test_accuracy: list = dataclasses.field(default_factory=list)
    logged_steps: list = dataclasses.field(default_factory=list)
    logged_losses: list = dataclasses.field(default_factory=list)

    @property
    def test_accuracy(self):
        """The accuracy after the last epoch (nan before the first)."""
        return self.epoch_test_accuracy[-1] if self.epoch_test_accuracy else float("nan")

    def metrics(self):
        """The metrics every classifier example reports, for metrics.json."""
        return {
            "test_accuracy": self.test_accuracy,
            "final_loss": self.step_losses[-1] if self.step_losses else float("nan"),
            "steps": len(self.step_losses),
            "epoch_losses": self.epoch_losses,
            "epoch_test_accuracy": self.epoch_test_accuracy,
            "train_samples": self.train_samples,
            "test_samples": self.test_samples,
        }


def train_classifier(model, loader, loss_fn, optimizer, epochs, x_test, y_test, *,
                     scheduler=None, log_every=100, running_mean=False, eval_batch_size=1000):
    """Train ``model`` with mini-batches from ``loader`` for ``epochs`` passes and measure the
    test accuracy after each one.

    Every step: zero_grad, forward, ``loss_fn``, backward, ``optimizer.step()``; a progress bar
    per epoch shows the latest loss. Every ``log_every`` steps of an epoch one line is printed:
    ``Epoch [e/E], Step [s/S], Loss: x`` with the latest loss, or with ``running_mean=True``
    ``[e,     s] loss: x`` with the mean over those ``log_every`` steps. After each epoch
    ``scheduler.step()`` (when given), then the test accuracy with the model in eval mode (so
    batch norm uses its running statistics) under no_grad, and one line with the epoch's mean
    loss and that accuracy. The model is left in eval mode.

    Args:
        model: the Module to train; its output holds one score per class.
        loader: a DataLoader of (inputs, integer labels) batches.
        loss_fn: maps (scores, labels) to a scalar loss Tensor.
        optimizer: an optimizer over ``model.parameters()``.
        epochs (int): passes over ``loader``.
        x_test, y_test: test inputs and labels (arrays) for evaluate_accuracy.
        scheduler: an lr scheduler stepped once per epoch, or None.
        log_every (int): steps between log lines.
        running_mean (bool): log the mean loss over the last ``log_every`` steps (W1's form)
            instead of the latest loss.
        eval_batch_size (int): batch size of the evaluation passes.

    Returns:
        a TrainingHistory.

    Example:
        >>> history = train_classifier(model, loader, nn.CrossEntropyLoss(),
        ...                            kernn.optim.Adam(model.parameters()), 2, x_test, y_test)
        >>> len(history.epoch_losses), len(history.epoch_test_accuracy)
        (2, 2)
    """
    history = TrainingHistory(train_samples=len(loader.dataset), test_samples=len(y_test),
                              steps_per_epoch=len(loader), log_every=log_every)
    for epoch in range(1, epochs + 1):
        model.train()
        epoch_start = len(history.step_losses)
        bar = ProgressBar(loader, desc=f"epoch {epoch}/{epochs}")
        for step, (inputs, labels) in enumerate(bar, start=1):
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), labels)
            loss.backward()
            optimizer.step()
            history.step_losses.append(loss.item())
            bar.set_postfix(loss=history.step_losses[-1])
            if step % log_every == 0:
                window_mean = sum(history.step_losses[-log_every:]) / log_every
                history.logged_steps.append(len(history.step_losses))
                history.logged_losses.append(window_mean)
                if running_mean:
                    bar.write(f"[{epoch}, {step:5d}] loss: {window_mean:.3f}")
                else:
                    bar.write(f"Epoch [{epoch}/{epochs}], Step [{step}/{len(loader)}], "
                              f"Loss: {history.step_losses[-1]:.4f}")
        if scheduler is not None:
            scheduler.step()
        epoch_steps = history.step_losses[epoch_start:]
        history.epoch_losses.append(sum(epoch_steps) / len(epoch_steps) if epoch_steps
                                    else float("nan"))
        model.eval()
        history.epoch_test_accuracy.append(
            evaluate_accuracy(model, x_test, y_test, batch_size=eval_batch_size))
        print(f"Epoch [{epoch}/{epochs}] mean loss {history.epoch_losses[-1]:.4f}, "
              f"test accuracy {100 * history.epoch_test_accuracy[-1]:.2f} %", flush=True)
    return history


def figure(**kwargs):
    """A matplotlib Figure drawn by the Agg canvas (no pyplot, no GUI backend touched), or None
    when matplotlib is not installed."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    return Figure(**kwargs)


def plot_training(history, title):
    """The training curves of a TrainingHistory: the loss per epoch (its mean) over the loss of
    every step (faint), and the test accuracy after each epoch; None without matplotlib."""
    fig = figure(figsize=(8, 3.4), dpi=100, layout="constrained")
    if fig is None or not history.step_losses:
        return None
    loss_ax, accuracy_ax = fig.subplots(1, 2)
    epochs = len(history.epoch_losses)
    # steps on the epoch scale: step k of the run ends at k / steps_per_epoch epochs
    step_x = [(k + 1) / history.steps_per_epoch for k in range(len(history.step_losses))]
    epoch_ends = list(range(1, epochs + 1))
    loss_ax.plot(step_x, history.step_losses, color="tab:blue", alpha=0.2, linewidth=0.5,
                 label="loss of each step")
    if history.logged_steps:
        # each mean drawn at the middle of the steps it averages, like the epoch means
        middles = [k - history.log_every / 2 for k in history.logged_steps]
        loss_ax.plot([k / history.steps_per_epoch for k in middles], history.logged_losses,
                     color="tab:blue", linewidth=1.2, label=f"mean of {history.log_every} steps")
    # an epoch's mean loss belongs to the middle of that epoch
    loss_ax.plot([e - 0.5 for e in epoch_ends], history.epoch_losses, "o", color="tab:orange",
                 markeredgecolor="black", markersize=6, zorder=3, label="epoch mean")
    loss_ax.set_yscale("log")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("training loss")
    accuracy_ax.plot(epoch_ends, [100 * a for a in history.epoch_test_accuracy], "o-",
                     color="tab:green", label="test accuracy after each epoch")
    for x, accuracy in zip(epoch_ends, history.epoch_test_accuracy):
        accuracy_ax.annotate(f"{100 * accuracy:.2f}", (x, 100 * accuracy),
                             textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    accuracy_ax.set_xlabel("epoch")
    accuracy_ax.set_ylabel("test accuracy (%)")
    accuracy_ax.margins(y=0.25)
    for ax in (loss_ax, accuracy_ax):
        ax.set_xlim(0, epochs + 0.3)
        ax.set_xticks([0] + epoch_ends)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    # one legend for both panels, under the axes so that it covers no curve
    fig.legend(loc="outside lower center", ncol=4, frameon=False, fontsize=8)
    return fig


def finish_classifier(args, name, model, history, title, **extra_metrics):
    """The end of a train_classifier run: print the final test accuracy, then finish() with the
    history's metrics plus ``extra_metrics``, the weights, and the curves of plot_training
    (titled ``title``) as training.png."""
    print(f"Accuracy of the network on the {history.test_samples} test images: "
          f"{100 * history.test_accuracy:.2f} %")
    return finish(args, name, dict(history.metrics(), **extra_metrics), model,
                  figures=[("training.png", plot_training(history, title))])


def finish(args, name, metrics, model=None, figures=()):
    """Save the weights, the figures and metrics.json under --out; print the metrics.

    Args:
        args: the parsed options (recorded in metrics.json).
        name: the workload name.
        metrics: dict of JSON-serialisable results.
        model: a Module whose state_dict is saved with kernn.save, or None.
        figures: (file name, Figure or None) pairs; None figures (no matplotlib) are skipped.

    Returns:
        the metrics dict, with the written file names under "files".
    """
    files = []
    if model is not None:
        path = os.path.join(args.out, WEIGHTS_FILE)
        kernn.save(model.state_dict(), path)
        files.append(path)
    for filename, fig in figures:
        if fig is None:
            continue
        path = os.path.join(args.out, filename)
        fig.savefig(path, dpi=fig.dpi)
        files.append(path)
    metrics = dict(metrics, files=files)
    record = {"workload": name, "options": vars(args), "metrics": metrics}
    path = os.path.join(args.out, METRICS_FILE)
    with open(path, "w") as out:
        json.dump(record, out, indent=2, default=float)
    for key, value in metrics.items():
        if key != "files" and not isinstance(value, (list, dict)):
            print(f"{key}: {value:.4g}" if isinstance(value, float) else f"{key}: {value}")
    print(f"wrote {path}" + "".join(f", {f}" for f in files))
    return metrics


def run_as_script(main):
    """``python -m kernn.examples.NAME``: run main(sys.argv[1:]) and turn a missing data set
    into a message and exit status 1 instead of a traceback."""
    try:
        main(sys.argv[1:])
    except DatasetNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
