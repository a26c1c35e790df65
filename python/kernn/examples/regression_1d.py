"""W6: fitting y = sin(x) on x in [-3, 3] with a sequence of growing networks.

One linear neuron fits a line; five hidden linear neurons are still a line (a product of linear
maps is linear); a hidden ReLU layer gives a piecewise-linear fit that gets closer with more
neurons; tanh with the default init and with He-normal init; a second hidden layer. Each is
trained with SGD with momentum on the mean squared error, in shuffled mini-batches; the MSE is
printed inside the training interval and outside it ([-6, -3] and [3, 6]), where the ReLU nets
continue as straight lines, tanh nets flatten out, and none of them knows sin.

    kernn run regression-1d [--epochs 300] [--lr 0.01] [--momentum 0.9]
"""

import numpy as np

import kernn
from kernn import nn
from kernn.data import DataLoader, TensorDataset

from . import _common

NAME = "regression-1d"
TRAIN_RANGE = 3.0
PLOT_RANGE = 6.0


def target_function(x):
    return np.sin(x)


def _he_normal(model):
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    return model


# name -> builder, in the order the write-up introduces them
MODELS = {
    "linear": lambda: nn.Sequential(nn.Linear(1, 1)),
    "linear-5": lambda: nn.Sequential(nn.Linear(1, 5), nn.Linear(5, 1)),
    "relu-10": lambda: nn.Sequential(nn.Linear(1, 10), nn.ReLU(), nn.Linear(10, 1)),
    "relu-100": lambda: nn.Sequential(nn.Linear(1, 100), nn.ReLU(), nn.Linear(100, 1)),
    "tanh-10": lambda: nn.Sequential(nn.Linear(1, 10), nn.Tanh(), nn.Linear(10, 1)),
    "tanh-10-he": lambda: _he_normal(nn.Sequential(nn.Linear(1, 10), nn.Tanh(), nn.Linear(10, 1))),
    "relu-50-50": lambda: nn.Sequential(nn.Linear(1, 50), nn.ReLU(), nn.Linear(50, 50), nn.ReLU(),
                                        nn.Linear(50, 1)),
}


def make_data(n, seed):
    x = np.random.default_rng(seed).uniform(-TRAIN_RANGE, TRAIN_RANGE, size=(n, 1)).astype(np.float32)
    return x, target_function(x).astype(np.float32)


def predict(model, x):
    with kernn.no_grad():
        return model(kernn.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()


def train(model, loader, args):
    optimizer = kernn.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    loss_fn = nn.MSELoss()
    for _ in range(args.epochs):
        for inputs, targets in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()


def plot_fits(x_train, y_train, grid, fits):
    fig = _common.figure(figsize=(12, 5.6), dpi=80)
    if fig is None:
        return None
    axes = fig.subplots(2, 4, sharex=True, sharey=True).ravel()
    for ax, (name, prediction) in zip(axes, fits.items()):
        ax.axvspan(-TRAIN_RANGE, TRAIN_RANGE, color="0.93")
        ax.plot(grid, target_function(grid), "k--", linewidth=1, label="sin(x)")
        ax.scatter(x_train, y_train, s=4, color="0.5")
        ax.plot(grid, prediction, color="tab:red", linewidth=1.6, label="fit")
        ax.set_title(name)
        ax.set_ylim(-2.5, 2.5)
    axes[0].legend(fontsize=8, loc="lower right")
    for ax in axes[len(fits):]:
        ax.axis("off")
    fig.suptitle("fits of sin(x): trained on [-3, 3] (shaded), shown on [-6, 6]")
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = _common.make_parser(NAME, __doc__.splitlines()[0])
    parser.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    parser.add_argument("--samples", type=int, default=200, help="training points (default 200)")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS),
                        help="which models to fit (default all)")
    _common.add_common_args(parser, NAME, epochs=300, lr=0.01, batch_size=32)
    args = parser.parse_args(argv)
    if args.samples < 1:
        parser.error(f"--samples must be positive, got {args.samples}")
    if not 0 <= args.momentum < 1:
        parser.error(f"--momentum must be in [0, 1), got {args.momentum}")
    _common.setup(args)

    x_train, y_train = make_data(min(args.samples, args.limit or args.samples), args.seed)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True)
    grid = np.linspace(-PLOT_RANGE, PLOT_RANGE, 601, dtype=np.float32).reshape(-1, 1)
    inside = np.abs(grid[:, 0]) <= TRAIN_RANGE

    fits, results = {}, {}
    print(f"{'model':<12}{'parameters':>11}{'MSE train':>12}{'MSE inside':>12}{'MSE outside':>13}")
    for name in _common.ProgressBar(args.models, desc="models"):
        model = MODELS[name]()
        train(model, loader, args)
        fits[name] = predict(model, grid)
        squared_error = (fits[name] - target_function(grid)) ** 2
        results[name] = {
            "parameters": int(sum(p.numel() for p in model.parameters())),
            "mse_train": float(np.mean((predict(model, x_train) - y_train) ** 2)),
            "mse_inside": float(np.mean(squared_error[inside])),
            "mse_outside": float(np.mean(squared_error[~inside])),
        }
        r = results[name]
        print(f"{name:<12}{r['parameters']:>11}{r['mse_train']:>12.4f}{r['mse_inside']:>12.4f}"
              f"{r['mse_outside']:>13.4f}")

    metrics = {"models": results}
    for name, r in results.items():
        metrics[f"{name}_mse_inside"] = r["mse_inside"]
    return _common.finish(args, NAME, metrics,
                          figures=[("fits.png", plot_fits(x_train, y_train, grid, fits))])


if __name__ == "__main__":
    _common.run_as_script(main)
