import hashlib
import os
import urllib.error

import numpy as np
import pytest
import torch

import kernn
from kernn.data import IdxFormatError, transforms, write_idx
from kernn.datasets import MNIST, DatasetNotFoundError, FashionMNIST, default_root
from kernn.datasets import mnist as mnist_module

MNIST_TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def write_fake_split(directory, split, n, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    os.makedirs(directory, exist_ok=True)
    suffix = ".gz" if gz else ""
    write_idx(os.path.join(directory, f"{split}-images-idx3-ubyte{suffix}"), images)
    write_idx(os.path.join(directory, f"{split}-labels-idx1-ubyte{suffix}"), labels)
    return images, labels


@pytest.mark.parametrize("layout", ["", "mnist", os.path.join("MNIST", "raw"), "MNIST"])
@pytest.mark.parametrize("gz", [True, False])
def test_finds_files_in_every_layout(tmp_path, layout, gz):
    images, labels = write_fake_split(tmp_path / layout, "t10k", 7, gz=gz)
    ds = MNIST(tmp_path, train=False)
    assert len(ds) == 7
    assert ds.data.dtype == kernn.uint8 and ds.data.shape == (7, 28, 28)
    assert ds.targets.dtype == kernn.int64
    np.testing.assert_array_equal(ds.data.numpy(), images)
    np.testing.assert_array_equal(ds.targets.numpy(), labels)


def test_data_and_targets_are_tensors_as_torchvisions(tmp_path):
    images, labels = write_fake_split(tmp_path, "t10k", 6)
    ds = MNIST(tmp_path, train=False)
    assert isinstance(ds.data, kernn.Tensor) and isinstance(ds.targets, kernn.Tensor)
    # the idioms of torchvision scripts, against torch on the same arrays
    x = ds.data.view(-1, 28 * 28).float() / 255
    expected = torch.from_numpy(images).view(-1, 28 * 28).float() / 255
    assert x.dtype == kernn.float32
    np.testing.assert_array_equal(x.numpy(), expected.numpy())
    assert (ds.targets == kernn.from_numpy(labels)).sum().item() == 6
    image, label = ds[2]
    np.testing.assert_array_equal(image, images[2])
    assert label == int(labels[2]) and type(label) is int
    assert ds.class_to_idx["7 - seven"] == 7 and len(ds.class_to_idx) == 10
    assert FashionMNIST.classes[9] == "Ankle boot"  # torchvision's names
    # a split cut down by assigning to .data / .targets, as done with torchvision
    ds.data, ds.targets = ds.data[:3], ds.targets[:3]
    assert len(ds) == 3
    np.testing.assert_array_equal(ds[2][0], images[2])


def test_accepts_the_original_dotted_file_names(tmp_path):
    images, labels = write_fake_split(tmp_path, "t10k", 3)
    for kind in ("images-idx3", "labels-idx1"):
        os.rename(tmp_path / f"t10k-{kind}-ubyte.gz", tmp_path / f"t10k-{kind.replace('-idx', '.idx')}-ubyte.gz")
    np.testing.assert_array_equal(MNIST(tmp_path, train=False).targets.numpy(), labels)


def test_train_and_test_splits_are_separate_files(tmp_path):
    write_fake_split(tmp_path / "mnist", "train", 11, seed=1)
    write_fake_split(tmp_path / "mnist", "t10k", 5, seed=2)
    assert len(MNIST(tmp_path, train=True)) == 11
    assert len(MNIST(tmp_path, train=False)) == 5


def test_getitem_applies_transforms(tmp_path):
    images, labels = write_fake_split(tmp_path, "t10k", 4)
    ds = MNIST(tmp_path, train=False,
               transform=transforms.Lambda(lambda image: image.astype(np.float32) / 255),
               target_transform=lambda y: y + 100)
    image, target = ds[2]
    np.testing.assert_allclose(image, images[2] / np.float32(255))
    assert target == int(labels[2]) + 100
    plain_image, plain_target = MNIST(tmp_path, train=False)[2]
    assert plain_image.dtype == np.uint8 and isinstance(plain_target, int)


def test_default_root_is_kernn_data(tmp_path, monkeypatch):
    monkeypatch.setenv("KERNN_DATA", str(tmp_path))
    assert default_root() == str(tmp_path)
    write_fake_split(tmp_path / "mnist", "t10k", 3)
    assert MNIST(train=False).root == str(tmp_path)
    monkeypatch.delenv("KERNN_DATA")
    assert default_root() == os.path.join(os.path.expanduser("~"), ".cache", "kernn")


def test_labels_that_do_not_match_the_images(tmp_path):
    write_fake_split(tmp_path, "t10k", 5)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    with pytest.raises(IdxFormatError, match=r"t10k-labels-idx1-ubyte\.gz.*\(4,\).*5 images"):
        MNIST(tmp_path, train=False)


def test_images_of_the_wrong_rank(tmp_path):
    write_fake_split(tmp_path, "t10k", 5)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((5, 784), np.uint8))
    with pytest.raises(IdxFormatError, match=r"expected uint8 images of shape \(N, H, W\).*\(5, 784\)"):
        MNIST(tmp_path, train=False)


def test_missing_files_message_says_what_to_put_where(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        MNIST(tmp_path, train=True)
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message and "train-labels-idx1-ubyte" in message
    assert "t10k-images-idx3-ubyte.gz" in message  # all four files are listed for the manual fix
    assert os.path.join(str(tmp_path), "mnist") in message
    assert "KERNN_DATA" in message and "download" in message
    assert isinstance(info.value, FileNotFoundError)


def test_download_offline_gives_a_clear_error_and_leaves_no_partial_files(tmp_path, monkeypatch):
    attempts = []

    def offline(url, destination, timeout=60):
        attempts.append(url)
        with open(destination, "wb") as partial:
            partial.write(b"\x1f\x8b half a file")
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(mnist_module, "_fetch", offline)
    with pytest.raises(DatasetNotFoundError) as info:
        MNIST(tmp_path, train=False, download=True)
    message = str(info.value)
    assert "network is unreachable" in message
    assert "train-images-idx3-ubyte.gz" in message and os.path.join(str(tmp_path), "mnist") in message
    assert attempts == [mirror + "train-images-idx3-ubyte.gz" for mirror in MNIST.mirrors]
    assert os.listdir(tmp_path / "mnist") == []


def make_fake_mirror(tmp_path):
    """gz files of a small fake MNIST and a dataset class whose checksums are theirs."""
    mirror = tmp_path / "mirror"
    write_fake_split(mirror, "train", 6, seed=3)
    write_fake_split(mirror, "t10k", 2, seed=4)
    md5 = {name: hashlib.md5((mirror / (name + ".gz")).read_bytes()).hexdigest()
           for name, _ in MNIST.resources}

    class FakeMNIST(MNIST):
        resources = tuple((name, md5[name]) for name, _ in MNIST.resources)
        mirrors = ("https://unreachable.invalid/", "https://mirror.example/")

    def fetch(url, destination, timeout=60):
        if url.startswith("https://unreachable.invalid/"):
            raise urllib.error.URLError("no route")
        with open(destination, "wb") as out:
            out.write((mirror / url.rsplit("/", 1)[1]).read_bytes())

    return FakeMNIST, fetch


def test_download_falls_back_to_the_next_mirror_and_verifies_md5(tmp_path, monkeypatch):
    FakeMNIST, fetch = make_fake_mirror(tmp_path)
    monkeypatch.setattr(mnist_module, "_fetch", fetch)
    root = tmp_path / "root"
    ds = FakeMNIST(root, train=True, download=True)
    assert len(ds) == 6
    assert sorted(os.listdir(root / "mnist")) == sorted(name + ".gz" for name, _ in MNIST.resources)
    assert len(FakeMNIST(root, train=False)) == 2


def test_download_rejects_a_checksum_mismatch(tmp_path, monkeypatch):
    FakeMNIST, fetch = make_fake_mirror(tmp_path)

    class WrongSums(FakeMNIST):
        resources = tuple((name, "0" * 32) for name, _ in MNIST.resources)

    monkeypatch.setattr(mnist_module, "_fetch", fetch)
    with pytest.raises(DatasetNotFoundError, match="MD5 [0-9a-f]{32}, expected 0{32}"):
        WrongSums(tmp_path / "root", download=True)
    assert os.listdir(tmp_path / "root" / "mnist") == []


def test_fashion_mnist_searches_its_own_folders_and_debian(tmp_path):
    ds = FashionMNIST.__new__(FashionMNIST)
    ds.root = str(tmp_path)
    assert "/usr/share/datasets/fashion-mnist" in ds.search_dirs
    write_fake_split(tmp_path / "fashion-mnist", "t10k", 3)
    fashion = FashionMNIST(tmp_path, train=False)
    assert len(fashion) == 3 and fashion.classes[9] == "Ankle boot"


def real_mnist(train):
    try:
        return MNIST(train=train)
    except DatasetNotFoundError:
        pytest.skip(f"MNIST not found under {default_root()} (set KERNN_DATA to a directory with mnist/)")


def test_real_mnist_counts():
    train, test = real_mnist(True), real_mnist(False)
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    assert np.bincount(train.targets.numpy()).tolist() == MNIST_TRAIN_LABEL_COUNTS
    assert np.bincount(test.targets.numpy()).tolist() == MNIST_TEST_LABEL_COUNTS
    assert test.targets[:5].tolist() == [7, 2, 1, 0, 4]
    assert train.data.max().item() == 255 and train.data.min().item() == 0


def test_real_fashion_mnist_counts():
    try:
        train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    except DatasetNotFoundError:
        pytest.skip("Fashion-MNIST not found (apt-get install dataset-fashion-mnist)")
    assert np.bincount(train.targets.numpy()).tolist() == [6000] * 10
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    assert train.data.shape == (60000, 28, 28)
