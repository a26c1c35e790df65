"""W7: the "network from scratch" on the 8x8 digits, written with kernn's layers.

The original recipe: pixels scaled to [0, 1], labels one-hot, a 64-30-10 network with sigmoid
activations, the average over samples of half the squared error, full-batch gradient descent
with step 0.25 for 3,000 iterations; it reports 86% test accuracy. ``--recipe better`` keeps the
data and the split but uses a 64-64-10 ReLU network, cross-entropy and Adam on mini-batches of
32, and reaches far higher. Both finish by timing the forward pass written with a Python loop over samples
against the vectorised one (one matrix product per layer for the whole batch).

    kernn run digits-from-scratch                    # original recipe, cost.png
    kernn run digits-from-scratch --recipe better    # ReLU + cross-entropy + Adam
"""

import time

import numpy as np

import kernn
from kernn import nn
from kernn.data import DataLoader, TensorDataset
from kernn.datasets import load_digits

from . import _common

NAME = "digits-from-scratch"
RECIPES = {
    # recipe: (epochs, learning rate, batch size)
    "original": (3000, 0.25, None),
    "better": (30, 3e-3, 32),
}


def split_digits(test_fraction, seed, limit=None):
    """The bundled digits as float32 in [0, 1], shuffled with `seed` and split."""
    x, y = load_digits()
    order = np.random.default_rng(seed).permutation(len(x))[:limit]
    x = x[order].astype(np.float32) / np.float32(16)
    y = y[order]
    n_test = int(round(len(x) * test_fraction))
    return x[n_test:], y[n_test:], x[:n_test], y[:n_test]


def build_model(recipe):
    """64-30-10. The original recipe: sigmoid after both layers (the outputs are compared with
    one-hot targets by squared error), Glorot-uniform weights and zero biases; Glorot's scaling
    was derived for sigmoid/tanh layers and, unlike the default init, reaches the reported
    accuracy on every seed we tried. The better recipe: 64-64-10 with ReLU, logits out (the
    cross-entropy applies the softmax), default init."""
    if recipe == "better":
        return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    model = nn.Sequential(nn.Linear(64, 30), nn.Sigmoid(), nn.Linear(30, 10), nn.Sigmoid())
    for layer in (model[0], model[2]):
        nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(layer.bias)
    return model


def train_original(model, x, y, args):
    """Full-batch gradient descent on J = (1/m) sum_i 1/2 ||y_i - a_i||^2: one step per epoch."""
    inputs = kernn.from_numpy(x)
    targets = kernn.from_numpy(np.eye(10, dtype=np.float32)[y])
    squared_error = nn.MSELoss(reduction="sum")
    optimizer = kernn.optim.SGD(model.parameters(), lr=args.lr)
    costs = []
    bar = _common.ProgressBar(range(args.epochs), desc="iterations")
    for iteration in bar:
        optimizer.zero_grad()
        cost = squared_error(model(inputs), targets) / (2 * len(x))
        cost.backward()
        optimizer.step()
        costs.append(cost.item())
        if (iteration + 1) % 500 == 0:
            bar.write(f"iteration {iteration + 1}/{args.epochs}, average cost {costs[-1]:.4f}")
    return costs


def train_better(model, x, y, args):
    """ReLU + cross-entropy + Adam on shuffled mini-batches; one cost entry per epoch."""
    loader = DataLoader(TensorDataset(x, y), batch_size=args.batch_size, shuffle=True)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = kernn.optim.Adam(model.parameters(), lr=args.lr)
    costs = []
    for epoch in range(args.epochs):
        total, count = 0.0, 0
        bar = _common.ProgressBar(loader, desc=f"epoch {epoch + 1}/{args.epochs}")
        for inputs, labels in bar:
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
            count += len(labels)
            bar.set_postfix(loss=loss.item())
        costs.append(total / count)
        if (epoch + 1) % 10 == 0 or epoch + 1 == args.epochs:
            print(f"epoch {epoch + 1}/{args.epochs}, mean loss {costs[-1]:.4f}")
    return costs


def forward_loops(model, x):
    """The forward pass as the from-scratch code writes it: one sample at a time, one
    matrix-vector product per layer (kept as 1-row matrices)."""
    rows = []
    with kernn.no_grad():
        for i in range(len(x)):
            h = kernn.from_numpy(x[i:i + 1])
            for layer in model:
                if isinstance(layer, nn.Linear):
                    h = h @ layer.weight.T + layer.bias
                else:
                    h = layer(h)
            rows.append(h.numpy())
    return np.concatenate(rows)


def forward_vectorised(model, x):
    """One matrix product per layer for all samples at once."""
    with kernn.no_grad():
        return model(kernn.from_numpy(x)).numpy()


def compare_forward(model, x, repeats=3):
    """Best-of-`repeats` wall times of both forward passes, and their largest difference."""
    timings = {}
    outputs = {}
    for name, forward in (("loops", forward_loops), ("vectorised", forward_vectorised)):
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            outputs[name] = forward(model, x)
            best = min(best, time.perf_counter() - start)
        timings[name] = best
    difference = float(np.max(np.abs(outputs["loops"] - outputs["vectorised"])))
    return timings, difference


def plot_costs(costs, recipe):
    fig = _common.figure(figsize=(5, 3.2), dpi=100)
    if fig is None:
        return None
    ax = fig.add_subplot()
    ax.plot(np.arange(1, len(costs) + 1), costs, color="tab:blue")
    ax.set_xlabel("iteration" if recipe == "original" else "epoch")
    ax.set_ylabel("average cost" if recipe == "original" else "cross-entropy")
    ax.set_title(f"8x8 digits, {recipe} recipe")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = _common.make_parser(NAME, __doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="original",
                        help="original: sigmoid + squared error + full-batch GD (default); "
                             "better: ReLU + cross-entropy + Adam on mini-batches")
    parser.add_argument("--test-fraction", type=float, default=0.4,
                        help="share of the 1,797 samples held out for testing (default 0.4)")
    _common.add_common_args(parser, NAME, epochs=None, lr=None, batch_size=None)
    args = parser.parse_args(argv)
    if not 0 < args.test_fraction < 1:
        parser.error(f"--test-fraction must be between 0 and 1, got {args.test_fraction}")
    epochs, lr, batch_size = RECIPES[args.recipe]
    args.epochs = args.epochs or epochs
    args.lr = args.lr or lr
    args.batch_size = args.batch_size or batch_size
    _common.setup(args)

    x_train, y_train, x_test, y_test = split_digits(args.test_fraction, args.seed, args.limit)
    print(f"8x8 digits: {len(x_train)} training and {len(x_test)} test samples, "
          f"recipe {args.recipe}")
    model = build_model(args.recipe)
    train = train_original if args.recipe == "original" else train_better
    costs = train(model, x_train, y_train, args)

    timings, difference = compare_forward(model, x_test)
    print(f"forward pass over {len(x_test)} samples: loops {timings['loops'] * 1e3:.1f} ms, "
          f"vectorised {timings['vectorised'] * 1e3:.2f} ms "
          f"({timings['loops'] / timings['vectorised']:.0f}x), max difference {difference:.1e}")
    metrics = {
        "recipe": args.recipe,
        "train_accuracy": _common.evaluate_accuracy(model, x_train, y_train),
        "test_accuracy": _common.evaluate_accuracy(model, x_test, y_test),
        "final_cost": costs[-1],
        "costs": costs,
        "forward_loops_ms": timings["loops"] * 1e3,
        "forward_vectorised_ms": timings["vectorised"] * 1e3,
        "forward_max_difference": difference,
    }
    return _common.finish(args, NAME, metrics, model,
                          figures=[("cost.png", plot_costs(costs, args.recipe))])


if __name__ == "__main__":
    _common.run_as_script(main)
