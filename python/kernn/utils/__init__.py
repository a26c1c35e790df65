"""kernn.utils: gradient checking, and ``kernn.utils.data`` (kernn.data under torch.utils.data's
name)."""

from . import data
from .gradcheck import GradcheckError, gradcheck

__all__ = ["gradcheck", "GradcheckError"]
