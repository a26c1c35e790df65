"""kernn.device (see also kernn.cuda): the name a PyTorch script uses to pick where it runs.

kernn runs on the CPU only. ``kernn.device("cuda")`` can be made (as torch lets one name a device
it does not have), ``kernn.cuda.is_available()`` is False, so the usual
``device = kernn.device("cuda" if kernn.cuda.is_available() else "cpu")`` picks the CPU, and
moving a tensor or a module to any other device raises RuntimeError naming it.
"""

from __future__ import annotations

_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "meta")


class device:
    """A device name, as torch.device: ``device("cpu")``, ``device("cuda:0")``,
    ``device("cuda", 1)``. Equal to another device or to a string naming the same device.

    Args:
        type (str or device): "cpu", "cuda", "mps", "xpu" or "meta", optionally ":index".
        index (int, optional): the device's index (not with an index in ``type``).
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002 - torch's name
        if isinstance(type, device):
            if index is not None:
                raise ValueError("device: 'index' given with a device")
            type, index = type.type, type.index
        if not isinstance(type, str):
            raise TypeError(f"device: argument 'type' must be a str, got "
                            f"{type.__class__.__name__}")
        name, sep, number = type.partition(":")
        if name not in _DEVICE_TYPES:
            raise RuntimeError(f"device: expected one of {', '.join(_DEVICE_TYPES)} device type "
                               f"at start of device string: {type!r}")
        if sep:
            if index is not None:
                raise ValueError(f"device: type {type!r} already has an index; 'index' given too")
            if not number.isdigit():
                raise RuntimeError(f"device: invalid device string {type!r}")
            index = int(number)
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)
                                  or index < 0):
            raise ValueError(f"device: 'index' must be a non-negative int, got {index!r}")
        self.type = name
        self.index = index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type={self.type!r})"
        return f"device(type={self.type!r}, index={self.index})"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, ValueError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


CPU = device("cpu")


def is_cpu(name) -> bool:
    """Whether ``name`` (a device, or a string such as "cpu" or "cpu:0") names the CPU."""
    return str(name).split(":")[0] == "cpu"
