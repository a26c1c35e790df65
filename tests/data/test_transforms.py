import numpy as np
import pytest

import kernn
from kernn.data import transforms


def test_to_tensor_scales_uint8_grey_images_to_1xHxW():
    image = np.array([[0, 51], [255, 102], [204, 0]], dtype=np.uint8)
    t = transforms.ToTensor()(image)
    assert isinstance(t, kernn.Tensor) and t.shape == (1, 3, 2) and t.dtype == kernn.float32
    np.testing.assert_allclose(t.numpy()[0], image / 255.0, rtol=1e-6)


def test_to_tensor_moves_channels_first():
    image = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    t = transforms.ToTensor()(image)
    assert t.shape == (3, 4, 5)
    np.testing.assert_allclose(t.numpy()[2, 1, 3], image[1, 3, 2] / 255.0, rtol=1e-6)
    assert t.numpy().flags.c_contiguous


def test_to_tensor_keeps_float_values_and_rejects_other_input():
    t = transforms.ToTensor()(np.full((2, 2), 3.5, np.float64))
    assert t.dtype == kernn.float64 and t.numpy().max() == 3.5
    with pytest.raises(ValueError, match=r"ToTensor.*\(H, W\) or \(H, W, C\).*\(2, 2, 2, 2\)"):
        transforms.ToTensor()(np.zeros((2, 2, 2, 2), np.uint8))
    with pytest.raises(TypeError, match="ToTensor.*int32"):
        transforms.ToTensor()(np.zeros((2, 2), np.int32))


def test_normalize_per_channel_on_tensors_and_arrays():
    image = np.stack([np.full((2, 2), 0.2), np.full((2, 2), 0.8)]).astype(np.float32)
    normalize = transforms.Normalize(mean=(0.5, 0.4), std=(0.5, 0.2))
    out = normalize(image)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_allclose(out[0], -0.6, rtol=1e-6)
    np.testing.assert_allclose(out[1], 2.0, rtol=1e-6)
    as_tensor = normalize(kernn.from_numpy(image))
    assert isinstance(as_tensor, kernn.Tensor)
    np.testing.assert_allclose(as_tensor.numpy(), out)
    assert image[0, 0, 0] == np.float32(0.2)  # the input is not modified


def test_normalize_errors():
    with pytest.raises(ValueError, match="std must be non-zero"):
        transforms.Normalize(0.5, 0.0)
    with pytest.raises(ValueError, match=r"mean has 2 values for an image with 3 channels \(shape \(3, 2, 2\)\)"):
        transforms.Normalize((0.1, 0.2), (1.0,))(np.zeros((3, 2, 2), np.float32))
    with pytest.raises(ValueError, match=r"expected a \(C, H, W\) image"):
        transforms.Normalize(0.5, 0.5)(np.zeros((4, 4), np.float32))


def test_compose_and_lambda_the_mnist_pipeline():
    pipeline = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.5,), (0.5,)),
        transforms.Lambda(lambda t: t.reshape(-1)),
    ])
    image = np.array([[0, 255], [255, 0]], dtype=np.uint8)
    out = pipeline(image)
    np.testing.assert_allclose(out.numpy(), [-1, 1, 1, -1])
    assert "Normalize" in repr(pipeline)
    with pytest.raises(TypeError, match="Compose: transform 1 is a int, not callable"):
        transforms.Compose([transforms.ToTensor(), 3])
    with pytest.raises(TypeError, match="Lambda: expected a callable"):
        transforms.Lambda(None)
