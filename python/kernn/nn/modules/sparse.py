"""Embedding."""

from __future__ import annotations

from ... import _memory
from ...ops.embedding import _padding_index, _refuse_unsupported
from ...tensor import Tensor, _np_dtype, get_default_dtype
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


class Embedding(Module):
    """A lookup table of num_embeddings vectors of size embedding_dim, indexed by integers.

    Args:
        num_embeddings (int): the table's size.
        embedding_dim (int): each vector's size.
        padding_idx (int, optional): a row that gets no gradient and starts at zeros (negative:
            counted from the end).
        max_norm, scale_grad_by_freq, sparse: torch's options; anything but the defaults
            (None, False, False) raises NotImplementedError. norm_type is unused without
            max_norm.
        dtype (kernn.dtype, optional): weight dtype (default float32).

    Shape:
        - Input: (*) int64 or int32 indices; Output: (*, embedding_dim).

    Attributes:
        weight: (num_embeddings, embedding_dim), initialised from N(0, 1) (as torch), the
            padding row zeroed.

    Example::

        >>> emb = kernn.nn.Embedding(10, 3, padding_idx=0)
        >>> emb(kernn.tensor([[0, 2, 4], [4, 3, 9]])).shape
        kernn.Size([2, 3, 3])
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        _refuse_unsupported("Embedding", max_norm, scale_grad_by_freq, sparse)
        for name, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not hasattr(v, "__index__") or isinstance(v, bool) or int(v) < 0:
                raise ValueError(f"Embedding: argument '{name}' must be a non-negative int, "
                                 f"got {v!r}")
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        self.padding_idx = _padding_index(padding_idx, self.num_embeddings, "Embedding")
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            nd = _np_dtype(dtype if dtype is not None else get_default_dtype())
            self.weight = Parameter(_memory.empty((self.num_embeddings, self.embedding_dim), nd),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if not isinstance(_weight, Tensor):
                raise TypeError(f"Embedding: argument '_weight' must be a kernn.Tensor, got "
                                f"{type(_weight).__name__}")
            expected = (self.num_embeddings, self.embedding_dim)
            if tuple(_weight.shape) != expected:
                raise ValueError(f"Embedding: argument '_weight' has shape "
                                 f"{tuple(_weight.shape)}; expected {expected} (num_embeddings, "
                                 "embedding_dim)")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        """Re-draws the weight from N(0, 1) and zeroes the padding row, as torch."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        return text

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is ``embeddings`` (2-D; its data shared, not copied, and
        the padding row not zeroed, as torch), frozen (requires_grad False) unless
        freeze=False.

        Example::

            >>> emb = kernn.nn.Embedding.from_pretrained(kernn.tensor([[1., 2.], [3., 4.]]))
            >>> emb(kernn.tensor([1])).tolist()
            [[3.0, 4.0]]
        """
        if not isinstance(embeddings, Tensor):
            raise TypeError(f"Embedding.from_pretrained: argument 'embeddings' must be a "
                            f"kernn.Tensor, got {type(embeddings).__name__}")
        if embeddings.dim() != 2:
            raise ValueError(f"Embedding.from_pretrained: argument 'embeddings' has shape "
                             f"{tuple(embeddings.shape)}; it must be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse, _weight=embeddings,
                   _freeze=freeze)
