"""W3: a binary classifier of points in the plane (label 1 where x + y > 0).

Linear(2,4), ReLU, Linear(4,1), Sigmoid; binary cross-entropy; plain SGD on the full batch,
the loss printed every 100 epochs. Pictures: the loss curve, and the points coloured by the
rounded prediction (diverging colour map, black edges) with the true boundary x + y = 0.

    kernn run points [--epochs 2000] [--lr 0.1] [--samples 200]
"""

import numpy as np

import kernn
from kernn import nn

from . import _common

NAME = "points"


def make_points(n, seed):
    """n standard-normal points and their labels 1.0 where x + y > 0, else 0.0 (float32)."""
    xy = np.random.default_rng(seed).standard_normal((n, 2)).astype(np.float32)
    labels = (xy.sum(axis=1) > 0).astype(np.float32).reshape(-1, 1)
    return xy, labels


def build_model():
    return nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid())


def plot_loss(losses):
    fig = _common.figure(figsize=(5, 3.2), dpi=100)
    if fig is None:
        return None
    ax = fig.add_subplot()
    ax.plot(np.arange(1, len(losses) + 1), losses, color="tab:blue")
    ax.set_xlabel("epoch")
    ax.set_ylabel("binary cross-entropy")
    ax.set_title("2-D points: training loss")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_predictions(xy, predicted):
    fig = _common.figure(figsize=(4.2, 4), dpi=100)
    if fig is None:
        return None
    ax = fig.add_subplot()
    ax.scatter(xy[:, 0], xy[:, 1], c=predicted, cmap="coolwarm", vmin=0, vmax=1,
               edgecolors="black", linewidths=0.6, s=28)
    limit = float(np.abs(xy).max()) * 1.05
    ax.plot([-limit, limit], [limit, -limit], "k--", linewidth=0.8, label="x + y = 0")
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_title("rounded predictions (blue 0, red 1)")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = _common.make_parser(NAME, __doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200, help="number of points (default 200)")
    _common.add_common_args(parser, NAME, epochs=2000, lr=0.1)
    args = parser.parse_args(argv)
    if args.samples < 2:
        parser.error(f"--samples must be at least 2, got {args.samples}")
    _common.setup(args)

    n = min(args.samples, args.limit or args.samples)
    xy, labels = make_points(n, args.seed)
    inputs, targets = kernn.from_numpy(xy), kernn.from_numpy(labels)
    model = build_model()
    criterion = nn.BCELoss()
    optimizer = kernn.optim.SGD(model.parameters(), lr=args.lr)

    losses = []
    bar = _common.ProgressBar(range(args.epochs), desc="epochs")
    for epoch in bar:
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if (epoch + 1) % 100 == 0:
            bar.write(f"epoch {epoch + 1}/{args.epochs}, loss {losses[-1]:.4f}")

    with kernn.no_grad():
        predicted = np.round(model(inputs).numpy()).ravel()
    accuracy = float(np.mean(predicted == labels.ravel()))
    print(f"training accuracy: {100 * accuracy:.1f} %")
    metrics = {"accuracy": accuracy, "initial_loss": losses[0], "final_loss": losses[-1],
               "losses_every_100": losses[99::100], "samples": n}
    return _common.finish(args, NAME, metrics, model, figures=[
        ("loss.png", plot_loss(losses)),
        ("predictions.png", plot_predictions(xy, predicted)),
    ])


if __name__ == "__main__":
    _common.run_as_script(main)
