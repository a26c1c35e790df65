"""Embedding and F.embedding against torch: lookups, gradients with repeated indices and a
padding row, index shapes and dtypes, from_pretrained, errors, thread-count independence."""

import numpy as np
import pytest
import torch

import kernn
import kernn.nn as nn
import kernn.nn.functional as F
from kernel_check import same_under_1_and_2_threads
from torch_compare import compare

DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index_dtype", [np.int64, np.int32])
@pytest.mark.parametrize("indices,padding_idx", [
    (np.array([3, 1, 3, 3, 0]), None),            # repeated indices
    (np.array([[0, 2, 4], [4, 4, 1]]), 4),        # 2-D, padding row looked up
    (np.array([[[5]], [[0]]]), -1),                # 3-D, negative padding_idx
    (np.array(2), None),                           # 0-d index
    (np.zeros((0, 3), np.int64), None),            # no indices: an all-zero gradient
])
def test_embedding_matches_torch(indices, padding_idx, index_dtype, dtype):
    weight = np.random.default_rng(0).standard_normal((6, 4))
    idx = indices.astype(index_dtype)
    compare(lambda lib, w, i: lib.nn.functional.embedding(i, w, padding_idx), [weight, idx],
            dtype=dtype, rtol=0, atol=0 if dtype == np.float64 else 1e-6)


def test_embedding_of_non_contiguous_indices_and_weight():
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((5, 8))
    indices = np.array([[0, 1, 2], [4, 3, 4]])
    compare(lambda lib, w, i: lib.nn.functional.embedding(i.t(), w[:, ::2]), [weight, indices])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding_idx", [None, 0, 3])
def test_embedding_module_as_torch(padding_idx, dtype):
    k, t = nn.Embedding(7, 5, padding_idx=padding_idx), torch.nn.Embedding(7, 5, padding_idx)
    assert repr(k) == repr(t)
    assert [(n, tuple(p.shape)) for n, p in k.state_dict().items()] == \
        [(n, tuple(p.shape)) for n, p in t.state_dict().items()]
    if padding_idx is not None:
        np.testing.assert_array_equal(k.weight.detach().numpy()[padding_idx], np.zeros(5))
    indices = np.array([[padding_idx or 0, 1, 6], [6, 6, 2]])
    k.load_state_dict({n: v.detach().numpy() for n, v in t.state_dict().items()})
    kernn_dtype = kernn.float64 if dtype == np.float64 else kernn.float32
    k.to(kernn_dtype)
    t.to(torch.float64 if dtype == np.float64 else torch.float32)
    ky, ty = k(kernn.tensor(indices)), t(torch.from_numpy(indices))
    np.testing.assert_array_equal(ky.detach().numpy(), ty.detach().numpy())
    g = np.random.default_rng(2).standard_normal(ty.shape).astype(dtype)
    (ky * kernn.tensor(g)).sum().backward()
    (ty * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(k.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_embedding_init_is_standard_normal():
    w = nn.Embedding(2000, 50).weight.detach().numpy()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    assert w.dtype == np.float32
    assert nn.Embedding(3, 2, dtype=kernn.float64).weight.dtype == kernn.float64


def test_from_pretrained_as_torch():
    table = np.arange(12.0).reshape(4, 3)
    k = nn.Embedding.from_pretrained(kernn.tensor(table), padding_idx=1)
    t = torch.nn.Embedding.from_pretrained(torch.tensor(table), padding_idx=1)
    assert repr(k) == repr(t)
    assert not k.weight.requires_grad
    np.testing.assert_array_equal(k.weight.detach().numpy(), table)  # padding row kept
    np.testing.assert_array_equal(k(kernn.tensor([1, 3])).numpy(), table[[1, 3]])
    shared = kernn.tensor(table)
    trainable = nn.Embedding.from_pretrained(shared, freeze=False)
    assert trainable.weight.requires_grad
    trainable.weight._data[0, 0] = -1
    assert float(shared[0, 0]) == -1  # the data is shared, as torch's
    trainable(kernn.tensor([0, 0])).sum().backward()
    np.testing.assert_array_equal(trainable.weight.grad.numpy()[0], [2, 2, 2])


def test_embedding_errors():
    weight = kernn.randn(5, 3)
    with pytest.raises(IndexError, match="embedding.*holds 5 .*num_embeddings = 5"):
        F.embedding(kernn.tensor([0, 5]), weight)
    with pytest.raises(IndexError, match="embedding.*holds -1 .*num_embeddings = 5"):
        F.embedding(kernn.tensor([[-1]]), weight)
    with pytest.raises(IndexError, match="holds 9"):
        nn.Embedding(5, 3)(kernn.tensor([9]))
    with pytest.raises(TypeError, match="embedding: argument 'input'.*int64 or int32.*float32"):
        F.embedding(kernn.tensor([1.0]), weight)
    with pytest.raises(TypeError, match="embedding: argument 'weight'.*float32 or float64"):
        F.embedding(kernn.tensor([1]), kernn.tensor([[1, 2]]))
    with pytest.raises(ValueError, match=r"embedding: argument 'weight' has shape \(5,\)"):
        F.embedding(kernn.tensor([1]), kernn.randn(5))
    with pytest.raises(ValueError, match="'padding_idx' is 5; it must be within "
                                         "num_embeddings = 5"):
        nn.Embedding(5, 3, padding_idx=5)
    with pytest.raises(ValueError, match="'padding_idx' is -6"):
        F.embedding(kernn.tensor([1]), weight, padding_idx=-6)
    for kw in (dict(max_norm=1.0), dict(scale_grad_by_freq=True), dict(sparse=True)):
        name = next(iter(kw))
        with pytest.raises(NotImplementedError, match=f"Embedding: argument '{name}'"):
            nn.Embedding(5, 3, **kw)
        with pytest.raises(NotImplementedError, match=f"embedding: argument '{name}'"):
            F.embedding(kernn.tensor([1]), weight, **kw)
    with pytest.raises(ValueError, match="from_pretrained.*2-dimensional"):
        nn.Embedding.from_pretrained(kernn.randn(5))
    with pytest.raises(ValueError, match=r"'_weight' has shape \(2, 2\); expected \(5, 3\)"):
        nn.Embedding(5, 3, _weight=kernn.randn(2, 2))


def test_embedding_backward_same_bits_with_1_and_2_threads():
    rng = np.random.default_rng(3)
    # Many repeats of few rows and a wide table: both sides of the parallel split have work.
    indices = rng.integers(0, 300, (4000,))
    dy = rng.standard_normal((4000, 64)).astype(np.float32)

    def backward():
        return kernn._C.embedding_backward(dy, indices, 300, 7)

    dweight = same_under_1_and_2_threads(backward)
    expected = np.zeros((300, 64), np.float64)
    np.add.at(expected, indices, dy.astype(np.float64))
    expected[7] = 0
    np.testing.assert_allclose(dweight, expected, rtol=1e-4, atol=1e-4)
    weight = rng.standard_normal((300, 64))
    same_under_1_and_2_threads(lambda: kernn._C.embedding_forward(weight, indices))
