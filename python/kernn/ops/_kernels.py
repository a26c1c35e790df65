"""TEMPORARY: kernn._C, with numpy stand-ins for the entry points not yet merged."""

from types import SimpleNamespace

from .. import _C as _native
from . import _numpy_reference as _ref

_NAMES = [n for n in dir(_ref) if not n.startswith("_") and n != "np"]
_C = SimpleNamespace(**{n: getattr(_native, n, None) or getattr(_ref, n) for n in _NAMES})
