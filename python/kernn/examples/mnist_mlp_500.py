"""W2: MNIST with one hidden layer of 500 (784-500-10), Adam, batch 100, 5 epochs.

Pixels scaled to [0, 1] (no further normalisation); cross-entropy; the loss printed every 100
steps as "Epoch [e/5], Step [s/600], Loss: x"; then the accuracy on the 10,000 test images under
no_grad (typically about 98%) and the weights saved.

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

    steps = len(loader)
    losses = []
    for epoch in range(args.epochs):
        bar = _common.ProgressBar(loader, desc=f"epoch {epoch + 1}/{args.epochs}")
        for step, (images, labels) in enumerate(bar, start=1):
            loss = loss_fn(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            bar.set_postfix(loss=losses[-1])
            if step % 100 == 0:
                bar.write(f"Epoch [{epoch + 1}/{args.epochs}], Step [{step}/{steps}], "
                          f"Loss: {losses[-1]:.4f}")

    test_accuracy = _common.evaluate_accuracy(model, x_test, y_test)
    print(f"Accuracy of the network on the {len(y_test)} test images: {100 * test_accuracy:.2f} %")
    metrics = {
        "test_accuracy": test_accuracy,
        "final_loss": losses[-1],
        "steps": len(losses),
        "train_samples": len(y_train),
        "test_samples": len(y_test),
    }
    return _common.finish(args, NAME, metrics, model)


if __name__ == "__main__":
    _common.run_as_script(main)
