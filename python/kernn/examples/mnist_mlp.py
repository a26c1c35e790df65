"""W1: MNIST with a three-layer perceptron (784-128-64-10), Adam, batch 64, 5 epochs.

Pixels scaled to [0, 1] then normalised with mean 0.5 and std 0.5 (to [-1, 1]); cross-entropy;
the running mean loss printed every 100 iterations; the test accuracy and a plot of the running
loss at the end, and the weights saved as a state dict.

    kernn run mnist-mlp [--epochs 5] [--data-dir DIR]
"""

import kernn
from kernn import nn
from kernn.data import DataLoader, TensorDataset

from . import _common

NAME = "mnist-mlp"
LOG_EVERY = 100


def build_model():
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 128), nn.ReLU(),
        nn.Linear(128, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )


def plot_running_loss(iterations, running_losses):
    fig = _common.figure(figsize=(5, 3.2), dpi=100)
    if fig is None or not running_losses:
        return None
    ax = fig.add_subplot()
    ax.plot(iterations, running_losses, color="tab:blue")
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"mean loss over {LOG_EVERY} iterations")
    ax.set_title("MNIST 784-128-64-10, Adam")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = _common.make_parser(NAME, __doc__.splitlines()[0])
    _common.add_common_args(parser, NAME, epochs=5, lr=1e-3, batch_size=64, mnist=True)
    args = parser.parse_args(argv)
    _common.setup(args)

    x_train, y_train, x_test, y_test = _common.load_mnist_arrays(args, normalize=(0.5, 0.5))
    # images as 1x28x28, the shape a per-sample ToTensor() would give; the model flattens them
    x_train = x_train.reshape(-1, 1, 28, 28)
    x_test = x_test.reshape(-1, 1, 28, 28)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True)
    model = build_model()
    criterion = nn.CrossEntropyLoss()
    optimizer = kernn.optim.Adam(model.parameters(), lr=args.lr)

    logged_at, logged_losses = [], []
    iteration = 0
    for epoch in range(args.epochs):
        running_loss = 0.0
        bar = _common.ProgressBar(loader, desc=f"epoch {epoch + 1}/{args.epochs}")
        for i, (inputs, labels) in enumerate(bar, start=1):
            optimizer.zero_grad()
            loss = criterion(model(inputs), labels)
            loss.backward()
            optimizer.step()
            iteration += 1
            running_loss += loss.item()
            if i % LOG_EVERY == 0:
                logged_at.append(iteration)
                logged_losses.append(running_loss / LOG_EVERY)
                bar.write(f"[{epoch + 1}, {i:5d}] loss: {logged_losses[-1]:.3f}")
                bar.set_postfix(loss=logged_losses[-1])
                running_loss = 0.0

    test_accuracy = _common.evaluate_accuracy(model, x_test, y_test)
    print(f"test accuracy: {100 * test_accuracy:.2f} %")
    metrics = {
        "test_accuracy": test_accuracy,
        "running_losses": logged_losses,
        "final_running_loss": logged_losses[-1] if logged_losses else float("nan"),
        "iterations": iteration,
        "train_samples": len(y_train),
        "test_samples": len(y_test),
    }
    return _common.finish(args, NAME, metrics, model,
                          figures=[("loss.png", plot_running_loss(logged_at, logged_losses))])


if __name__ == "__main__":
    _common.run_as_script(main)
