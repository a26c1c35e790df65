"""W2: MNIST with one hidden layer of 500 (784-500-10), Adam, batch 100, 5 epochs.

Pixels scaled to [0, 1] (no further normalisation); cross-entropy; the loss printed every 100
steps as "Epoch [e/5], Step [s/600], Loss: x"; the accuracy on the 10,000 test images under
no_grad after each epoch (typically about 98% at the end); the weights saved and the loss and
accuracy per epoch plotted (training.png).

    kernn run mnist-mlp-500 [--epochs 5] [--data-dir DIR]
"""

import kernn
from kernn import nn
from kernn.data import DataLoader, TensorDataset

from . import _common

NAME = "mnist-mlp-500"


def build_model():
    return nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 10))


def main(argv=None):
    parser = _common.make_parser(NAME, __doc__.splitlines()[0])
    _common.add_common_args(parser, NAME, epochs=5, lr=1e-3, batch_size=100, mnist=True)
    args = parser.parse_args(argv)
    _common.setup(args)

    x_train, y_train, x_test, y_test = _common.load_mnist_arrays(args)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True)
    model = build_model()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = kernn.optim.Adam(model.parameters(), lr=args.lr)

    history = _common.train_classifier(model, loader, loss_fn, optimizer, args.epochs,
                                       x_test, y_test)
    return _common.finish_classifier(args, NAME, model, history, "MNIST 784-500-10, Adam")


if __name__ == "__main__":
    _common.run_as_script(main)
