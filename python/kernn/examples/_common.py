"""What every example shares: the command-line options, seeding and threads, MNIST loading,
and writing the results (metrics.json, weights, pictures) to the output directory."""

import argparse
import json
import os
import sys

import numpy as np

import kernn
from kernn.datasets import MNIST, DatasetNotFoundError
from kernn.progress import ProgressBar

__all__ = [
    "ProgressBar",
    "add_common_args",
    "evaluate_accuracy",
    "figure",
    "finish",
    "load_mnist_arrays",
    "make_parser",
    "run_as_script",
    "setup",
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
        images, labels = dataset.data[: args.limit], dataset.targets[: args.limit]
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


def figure(**kwargs):
    """A matplotlib Figure drawn by the Agg canvas (no pyplot, no GUI backend touched), or None
    when matplotlib is not installed."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    return Figure(**kwargs)


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
