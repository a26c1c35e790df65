"""W4: a small convolutional network with batch normalisation on 3x32x32 images, SGD lr 0.01.

Conv2d(3,64,3,padding=1), BatchNorm2d(64), ReLU, MaxPool 2x2/2, Conv2d(64,128,3,padding=1),
BatchNorm2d(128), ReLU, MaxPool 2x2/2, flatten, Linear(128*8*8,256), ReLU, Linear(256,10);
cross-entropy, batch 64. Trains on arrays you supply (--data FILE.npz with x_train
(N, 3, 32, 32), y_train, x_test, y_test), by default on Fashion-MNIST (MNIST when it is not
found, or --dataset) padded to 32x32 and replicated to three channels. The test accuracy in
eval mode (running statistics) after each epoch, the weights saved and the loss and accuracy per
epoch plotted (training.png).

The original text writes Linear(128*16*16, 256); after two 2x2 poolings a 32x32 input is 8x8,
so 128*8*8 is right: --flat-features 32768 reproduces the original and fails with the sizes.

    kernn run cnn-batchnorm [--epochs 1] [--dataset mnist] [--data FILE.npz] [--limit N]
"""

import numpy as np

import kernn
from kernn.data import DataLoader, TensorDataset
from kernn.datasets import MNIST, DatasetNotFoundError, FashionMNIST

from . import _common

NAME = "cnn-batchnorm"
FLAT_FEATURES = 128 * 8 * 8  # 128 channels of 8x8 after two 2x2 poolings of 32x32


def build_model(nn=kernn.nn, flat_features=FLAT_FEATURES):
    """The W4 network, built from ``nn`` (kernn.nn, or torch.nn: the same code builds both)."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(flat_features, 256), nn.ReLU(), nn.Linear(256, 10))


def to_three_channels_32(images):
    """(N, 28, 28) or (N, 784) images in [0, 1] -> (N, 3, 32, 32): zero-padded by 2 on each
    side and replicated over three channels (the grey image as R, G and B)."""
    images = np.asarray(images, np.float32).reshape(len(images), 28, 28)
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2)))
    return np.ascontiguousarray(np.repeat(padded[:, None], 3, axis=1))


def load_arrays(args):
    """(x_train, y_train, x_test, y_test): x float32 (N, 3, 32, 32), y int64."""
    if args.data:
        with np.load(args.data) as f:
            arrays = [f[k] for k in ("x_train", "y_train", "x_test", "y_test")]
        for x in arrays[::2]:
            if x.ndim != 4 or x.shape[1:] != (3, 32, 32):
                raise ValueError(f"{NAME}: --data arrays x_train/x_test must be (N, 3, 32, 32), "
                                 f"got {x.shape}")
        arrays = [a[: args.limit] for a in arrays]
        return (arrays[0].astype(np.float32), arrays[1].astype(np.int64),
                arrays[2].astype(np.float32), arrays[3].astype(np.int64))
    kinds = {"fashion-mnist": [FashionMNIST], "mnist": [MNIST], "auto": [FashionMNIST, MNIST]}
    for i, kind in enumerate(kinds[args.dataset]):
        try:
            splits = [kind(args.data_dir, train=train, download=args.download)
                      for train in (True, False)]
            break
        except DatasetNotFoundError:
            if i + 1 == len(kinds[args.dataset]):
                raise
            print(f"{NAME}: {kind.__name__} not found, using MNIST")
    arrays = []
    for split in splits:
        images = split.data.numpy()[: args.limit].astype(np.float32) / np.float32(255)
        arrays += [to_three_channels_32(images), split.targets.numpy()[: args.limit]]
    return tuple(arrays)


def check_flat_features(flat_features, image_shape):
    """ValueError with the computed sizes unless the first Linear fits the feature map that the
    convolution stack makes of ``image_shape`` (C, H, W): two 2x2/2 poolings leave H//4 x W//4."""
    h, w = image_shape[1] // 4, image_shape[2] // 4
    if flat_features != 128 * h * w:
        raise ValueError(
            f"{NAME}: the first Linear takes {flat_features} features, but the convolution stack "
            f"turns a {'x'.join(map(str, image_shape))} image into 128 x {h} x {w} = {128 * h * w}"
            f" (two 2x2 max-poolings of {image_shape[1]}x{image_shape[2]} leave {h}x{w}); use "
            f"Linear(128*{h}*{w}, 256)")


def main(argv=None):
    parser = _common.make_parser(NAME, __doc__.splitlines()[0])
    _common.add_common_args(parser, NAME, epochs=1, lr=0.01, batch_size=64, mnist=True)
    parser.add_argument("--dataset", choices=["auto", "fashion-mnist", "mnist"], default="auto",
                        help="the training data without --data (default auto: Fashion-MNIST when "
                             "found, else MNIST)")
    parser.add_argument("--data", default=None,
                        help="an .npz with x_train (N,3,32,32), y_train, x_test, y_test to train "
                             "on instead")
    parser.add_argument("--flat-features", type=int, default=FLAT_FEATURES,
                        help=f"in_features of the first Linear (default {FLAT_FEATURES}; the "
                             "original text's 32768 fails with the computed sizes)")
    args = parser.parse_args(argv)
    _common.setup(args)

    x_train, y_train, x_test, y_test = load_arrays(args)
    check_flat_features(args.flat_features, x_train.shape[1:])
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True)
    model = build_model(flat_features=args.flat_features)
    loss_fn = kernn.nn.CrossEntropyLoss()
    optimizer = kernn.optim.SGD(model.parameters(), lr=args.lr)

    # evaluated in eval mode after each epoch: batch norm then uses its running statistics
    history = _common.train_classifier(model, loader, loss_fn, optimizer, args.epochs,
                                       x_test, y_test, eval_batch_size=500)
    return _common.finish_classifier(args, NAME, model, history, "Conv-BN-ReLU-pool x2, SGD")


if __name__ == "__main__":
    _common.run_as_script(main)
