"""MNIST and Fashion-MNIST from their four IDX files, found locally or downloaded.

Where the files are looked for, in order (each file as ``NAME.gz`` or uncompressed ``NAME``):
``root``, ``root/mnist``, ``root/MNIST/raw`` (torchvision's layout), ``root/MNIST``; for
Fashion-MNIST ``root/fashion-mnist``, ``root/FashionMNIST/raw``, ``root/FashionMNIST``,
``root/fashion_mnist`` and finally ``/usr/share/datasets/fashion-mnist``, where Debian's
``dataset-fashion-mnist`` package installs them. ``root`` defaults to ``$KERNN_DATA``, else
``~/.cache/kernn``.

``download=True`` fetches missing files into ``root/mnist`` (``root/fashion-mnist``) from the
usual mirrors, checks each against its published MD5 and moves it into place only then
(temporary file + ``os.replace``). Files found locally are not hashed (Debian recompresses the
Fashion-MNIST files, so their MD5s differ from upstream's); the IDX reader checks their
structure instead.

Licences: MNIST by Yann LeCun and Corinna Cortes, CC BY-SA 3.0; Fashion-MNIST by Zalando SE,
MIT. kernn ships neither.
"""

import hashlib
import os
import tempfile
import urllib.request

import numpy as np

from ..data.dataset import Dataset
from ..data.idx import IdxFormatError, read_idx
from ..tensor import from_numpy

__all__ = ["DatasetNotFoundError", "FashionMNIST", "MNIST", "default_root"]


class DatasetNotFoundError(FileNotFoundError):
    """A data set's files are neither on disk nor downloadable; the message says where to put them."""


def default_root():
    """``$KERNN_DATA`` when set, else ``~/.cache/kernn``."""
    return os.environ.get("KERNN_DATA") or os.path.join(os.path.expanduser("~"), ".cache", "kernn")


def _fetch(url, destination, timeout=60):
    """Download `url` into the file `destination` (the tests replace this to simulate offline)."""
    with urllib.request.urlopen(url, timeout=timeout) as response, open(destination, "wb") as out:
        while True:
            chunk = response.read(1 << 20)
            if not chunk:
                break
            out.write(chunk)


def _md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28, ten classes.

    A sample is ``(image, label)``: the image a uint8 (28, 28) array (or what ``transform``
    makes of it, e.g. ``transforms.ToTensor()`` gives a float32 (1, 28, 28) Tensor), the label a
    Python int (or what ``target_transform`` makes of it). For vectorised use the whole split is
    in ``.data`` (a uint8 Tensor, (N, 28, 28)) and ``.targets`` (an int64 Tensor, (N,)), as in
    torchvision; ``.numpy()`` gives their arrays without a copy.

    Args:
        root: directory to search (see the module docstring); default ``$KERNN_DATA`` or
            ``~/.cache/kernn``.
        train (bool): the training split (60,000) or the test split (10,000).
        transform: callable applied to each image by ``__getitem__``.
        target_transform: callable applied to each label by ``__getitem__``.
        download (bool): fetch missing files from the mirrors (MD5-checked).

    Raises:
        DatasetNotFoundError (a FileNotFoundError): the files are missing (and not downloadable);
            the message lists the files and the directories to put them in.
        IdxFormatError: a file is damaged.

    Example:
        >>> test = MNIST(train=False)                                     # doctest: +SKIP
        >>> test.data.shape, test.targets[:3]                            # doctest: +SKIP
        (kernn.Size([10000, 28, 28]), tensor([7, 2, 1]))
    """

    name = "MNIST"
    # (file name without .gz, MD5 of the published .gz)
    resources = (
        ("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c"),
    )
    mirrors = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    )
    # sub-directories of root searched after root itself; the first is where downloads go
    folders = ("mnist", os.path.join("MNIST", "raw"), "MNIST")
    system_dirs = ()
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root=None, train=True, transform=None, target_transform=None,
                 download=False):
        self.root = os.path.expanduser(os.fspath(root)) if root is not None else default_root()
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        split = "train" if self.train else "t10k"
        wanted = (f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte")
        paths = [self._find(name) for name in wanted]
        if None in paths and download:
            self.download()
            paths = [self._find(name) for name in wanted]
        if None in paths:
            missing = [name for name, path in zip(wanted, paths) if path is None]
            raise DatasetNotFoundError(self._not_found_message(missing))
        images_path, labels_path = paths
        images = read_idx(images_path)
        labels = read_idx(labels_path)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise IdxFormatError(
                f"{self.name}: {images_path}: expected uint8 images of shape (N, H, W), got "
                f"{images.dtype} of shape {images.shape}"
            )
        if labels.ndim != 1 or len(labels) != len(images):
            raise IdxFormatError(
                f"{self.name}: {labels_path} holds labels of shape {labels.shape} for the "
                f"{len(images)} images of {images_path}"
            )
        self.data = from_numpy(images)
        self.targets = from_numpy(labels.astype(np.int64))

    @property
    def class_to_idx(self):
        """{class name: label}, as torchvision's."""
        return {name: label for label, name in enumerate(self.classes)}

    @property
    def search_dirs(self):
        """The directories searched for the files, in order."""
        return [self.root] + [os.path.join(self.root, f) for f in self.folders] + list(self.system_dirs)

    def _find(self, name):
        # the original archives also circulate as e.g. train-images.idx3-ubyte
        spellings = (name, name.replace("-idx", ".idx"))
        for directory in self.search_dirs:
            for spelling in spellings:
                for candidate in (spelling + ".gz", spelling):
                    path = os.path.join(directory, candidate)
                    if os.path.isfile(path):
                        return path
        return None

    def _not_found_message(self, missing, errors=()):
        target_dir = os.path.join(self.root, self.folders[0])
        all_files = ", ".join(name + ".gz" for name, _ in self.resources)
        lines = [
            f"{self.name}: missing {', '.join(missing)} (as .gz or uncompressed).",
            "Looked in: " + ", ".join(self.search_dirs) + ".",
        ]
        if errors:
            lines.append("Download failed: " + "; ".join(errors) + ".")
        lines += [
            "To get the data, either:",
            f"  - put the four files {all_files} in {target_dir}",
            "    (the directory comes from the root argument, --data-dir, or the KERNN_DATA "
            "environment variable; default ~/.cache/kernn), or",
            f"  - pass download=True (on the command line: --download) to fetch them from "
            f"{self.mirrors[0]} (MD5-checked).",
        ]
        return "\n".join(lines)

    def download(self):
        """Fetch the files that are not found locally into ``root/<folder>``, MD5-checked.

        Raises:
            DatasetNotFoundError: a file could not be fetched from any mirror (offline, or a
                checksum mismatch); the message lists the attempts and the manual alternative.
        """
        target_dir = os.path.join(self.root, self.folders[0])
        for name, md5 in self.resources:
            if self._find(name) is not None:
                continue
            os.makedirs(target_dir, exist_ok=True)
            destination = os.path.join(target_dir, name + ".gz")
            errors = []
            for mirror in self.mirrors:
                url = mirror + name + ".gz"
                handle, temporary = tempfile.mkstemp(dir=target_dir, prefix=name, suffix=".part")
                os.close(handle)
                try:
                    _fetch(url, temporary)
                    digest = _md5(temporary)
                    if digest != md5:
                        errors.append(f"{url}: MD5 {digest}, expected {md5}")
                        continue
                    os.replace(temporary, destination)
                    break
                except OSError as err:  # URLError, HTTPError and socket timeouts are OSErrors
                    errors.append(f"{url}: {err}")
                finally:
                    if os.path.exists(temporary):
                        os.remove(temporary)
            else:
                raise DatasetNotFoundError(self._not_found_message([name], errors))

    def __getitem__(self, index):
        # the image as a numpy array, as the transforms take it (torchvision: a PIL image);
        # np.asarray also takes data a user has replaced by a numpy array or a slice
        image = np.asarray(self.data)[index]
        target = int(np.asarray(self.targets)[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"{self.name}(split={split}, samples={len(self)}, root={self.root!r})"


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): 60,000 + 10,000 28x28 grey images of ten kinds of clothing.

    Same interface and file names as :class:`MNIST`; also found in
    ``/usr/share/datasets/fashion-mnist`` (Debian package ``dataset-fashion-mnist``).
    """

    name = "FashionMNIST"
    resources = (
        ("train-images-idx3-ubyte", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte", "bb300cfdad3c16e7a12a480ee83cd310"),
    )
    mirrors = (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    )
    folders = ("fashion-mnist", os.path.join("FashionMNIST", "raw"), "FashionMNIST", "fashion_mnist")
    system_dirs = ("/usr/share/datasets/fashion-mnist",)
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
