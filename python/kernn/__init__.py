"""kernn: a CPU deep-learning library with C++17/OpenMP kernels and a PyTorch-style API."""

from . import _C
from ._C import get_num_threads, set_num_threads
from . import optim
from .serialization import load, save

__version__ = "0.1.0"

__all__ = ["get_num_threads", "set_num_threads", "__version__", "optim", "save", "load"]
