"""kernn.cuda: what a PyTorch script asks of torch.cuda, answered for a CPU-only library.

``is_available()`` is False and ``device_count()`` is 0, so
``kernn.device("cuda" if kernn.cuda.is_available() else "cpu")`` picks the CPU.
"""


def is_available():
    """False: kernn has no CUDA backend."""
    return False


def device_count():
    """0: kernn has no CUDA backend."""
    return 0


def manual_seed(seed):
    """Does nothing, as torch.cuda.manual_seed on a machine without CUDA: there is no CUDA
    generator to seed (kernn.manual_seed seeds kernn's)."""


manual_seed_all = manual_seed
