"""kernn.utils: gradient checking (and, from kernn.optim's side, save/load)."""

from .gradcheck import GradcheckError, gradcheck

__all__ = ["gradcheck", "GradcheckError"]
