"""The ``kernn`` command: list and run the reference workloads.

    kernn                       train the demo (8x8 digits, bundled, offline)
    kernn list                  the workloads
    kernn run NAME [options]    run one; ``kernn run NAME --help`` shows its options

Each workload is a module of :mod:`kernn.examples` with ``main(argv)``; this file only maps
names to modules, so ``python -m kernn.examples.MODULE`` runs the same code.
"""

import argparse
import importlib
import sys

__all__ = ["WORKLOADS", "main"]

# name -> (module under kernn.examples, arguments put before the user's, one-line description)
WORKLOADS = {
    "demo": ("digits_from_scratch", ["--recipe", "better", "--out", "runs/demo"],
             "quick offline demo: a ReLU MLP with Adam on the bundled 8x8 digits"),
    "mnist-mlp": ("mnist_mlp", [], "W1: MNIST, 784-128-64-10 MLP, Adam, batch 64, 5 epochs"),
    "mnist-mlp-500": ("mnist_mlp_500", [], "W2: MNIST, 784-500-10 MLP, Adam, batch 100, 5 epochs"),
    "points": ("points", [], "W3: 2-D points, binary classifier, BCE, full-batch SGD"),
    "cnn-batchnorm": ("cnn_batchnorm", [], "W4: small CNN with batch normalisation (3x32x32)"),
    "lenet": ("lenet", [], "LeNet-5 on MNIST: two convolutions, three Linear layers, Adam"),
    "init-study": ("init_study", [], "W5: weight initialisation through 100 layers of 512x512"),
    "regression-1d": ("regression_1d", [], "W6: fitting y = f(x) with growing networks"),
    "digits-from-scratch": ("digits_from_scratch", [],
                            "W7: 64-30-10 sigmoid network on the 8x8 digits, and a better recipe"),
}


_RUN_USAGE = (
    "usage: kernn run NAME [--epochs N] [--batch-size N] [--lr X] [--threads N] [--seed N]\n"
    "                      [--data-dir DIR] [--download] [--out DIR] [--limit N]\n"
    "NAME is one of: {names}\n"
    "`kernn run NAME --help` lists the options of one workload."
)


def _parser():
    parser = argparse.ArgumentParser(
        prog="kernn",
        description="Run kernn's reference workloads. With no arguments: the offline demo "
                    "(the same as `kernn run demo`).",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="{list,run}")
    commands.add_parser("list", help="list the workloads")
    # `run` is dispatched by hand in main() so that everything after NAME reaches the workload's
    # own parser untouched; this entry is here for the help text
    commands.add_parser("run", help="run a workload: kernn run NAME [options]")
    return parser


def _version():
    import kernn

    return f"kernn {kernn.__version__}"


def _list():
    width = max(len(name) for name in WORKLOADS)
    for name, (_, _, description) in WORKLOADS.items():
        print(f"{name:<{width}}  {description}")


def _run(name, options):
    from kernn.datasets import DatasetNotFoundError

    if name not in WORKLOADS:
        import difflib

        close = difflib.get_close_matches(name, WORKLOADS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        print(f"kernn: unknown workload {name!r}{hint}; known: {', '.join(WORKLOADS)}",
              file=sys.stderr)
        return 2
    module_name, preset, _ = WORKLOADS[name]
    try:
        module = importlib.import_module(f"kernn.examples.{module_name}")
    except ModuleNotFoundError as err:
        if err.name != f"kernn.examples.{module_name}":
            raise
        print(f"kernn: workload {name!r} is not part of this installation "
              f"(no module kernn.examples.{module_name})", file=sys.stderr)
        return 1
    try:
        module.main(preset + list(options))
    except DatasetNotFoundError as err:
        print(f"kernn run {name}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"kernn run {name}: interrupted", file=sys.stderr)
        return 130
    return 0


def main(argv=None):
    """Entry point of the ``kernn`` console script and of ``python -m kernn``.

    Args:
        argv: the arguments (default ``sys.argv[1:]``).

    Returns:
        the exit status: 0 on success, 1 when data is missing, 2 for a usage error.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        argv = ["run", "demo"]
    if argv[0] == "run":
        if len(argv) < 2 or argv[1] in ("-h", "--help"):
            print(_RUN_USAGE.format(names=", ".join(WORKLOADS)),
                  file=sys.stdout if len(argv) >= 2 else sys.stderr)
            return 0 if len(argv) >= 2 else 2
        try:
            return _run(argv[1], argv[2:])
        except SystemExit as exit_:  # the workload's own argument parser (usage errors, --help)
            return exit_.code
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # usage errors (2), --help and --version (0)
        return exit_.code
    if args.command == "list":
        _list()
        return 0
    _parser().print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
