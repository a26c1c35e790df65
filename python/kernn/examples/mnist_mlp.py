"""W1: MNIST with a three-layer perceptron (784-128-64-10), Adam, batch 64, 5 epochs.

Pixels scaled to [0, 1] then normalised with mean 0.5 and std 0.5 (to [-1, 1]); cross-entropy;
the running mean loss printed every 100 iterations; the test accuracy after each epoch; the
weights saved as a state dict and the loss and accuracy per epoch plotted (training.png).

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

    history = _common.train_classifier(model, loader, criterion, optimizer, args.epochs,
                                       x_test, y_test, log_every=LOG_EVERY, running_mean=True)
    running_losses = history.logged_losses
    return _common.finish_classifier(
        args, NAME, model, history, "MNIST 784-128-64-10, Adam",
        running_losses=running_losses, iterations=len(history.step_losses),
        final_running_loss=running_losses[-1] if running_losses else float("nan"))


if __name__ == "__main__":
    _common.run_as_script(main)
