"""``torch.utils.data`` under its torch name, so that a script ports by changing ``torch`` to
``kernn``. Only re-exports: the classes live in :mod:`kernn.data`, which also holds the IDX
reader and the transforms (torchvision's, not torch.utils.data's).
"""

from .. import data as _data
from ..data import TORCH_UTILS_DATA as __all__

globals().update({name: getattr(_data, name) for name in __all__})
