"""LeNet-5 on MNIST: two convolutions with max pooling and three Linear layers, Adam, 3 epochs.

Conv2d(1,6,5,padding=2), ReLU, MaxPool 2x2, Conv2d(6,16,5), ReLU, MaxPool 2x2, flatten,
Linear(400,120), ReLU, Linear(120,84), ReLU, Linear(84,10); pixels scaled to [0, 1] and
normalised with MNIST's mean 0.1307 and std 0.3081; cross-entropy, Adam lr 1e-3 halved after
every epoch (StepLR), batch 64. Reaches at least 98.5% test accuracy after 3 epochs; the loss
and test accuracy per epoch are plotted (training.png).

    kernn run lenet [--epochs 3] [--data-dir DIR] [--limit N]
"""

import kernn
from kernn.data import DataLoader, TensorDataset

from . import _common

NAME = "lenet"
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def build_model(nn=kernn.nn):
    """LeNet-5 built from ``nn`` (kernn.nn, or torch.nn: the same code builds both)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def main(argv=None):
    parser = _common.make_parser(NAME, __doc__.splitlines()[0])
    _common.add_common_args(parser, NAME, epochs=3, lr=1e-3, batch_size=64, mnist=True)
    args = parser.parse_args(argv)
    _common.setup(args)

    x_train, y_train, x_test, y_test = _common.load_mnist_arrays(
        args, normalize=(MNIST_MEAN, MNIST_STD))
    x_train = x_train.reshape(-1, 1, 28, 28)
    x_test = x_test.reshape(-1, 1, 28, 28)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True)
    model = build_model()
    loss_fn = kernn.nn.CrossEntropyLoss()
    optimizer = kernn.optim.Adam(model.parameters(), lr=args.lr)
    # Halving the step each epoch settles the last epoch (a constant 1e-3 ends near 98.3%).
    scheduler = kernn.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)

    history = _common.train_classifier(model, loader, loss_fn, optimizer, args.epochs,
                                       x_test, y_test, scheduler=scheduler)
    return _common.finish_classifier(args, NAME, model, history,
                                     "LeNet-5 on MNIST, Adam with StepLR")


if __name__ == "__main__":
    _common.run_as_script(main)
