"""Optimizers and learning-rate schedulers with torch.optim's names and semantics.

Every update runs in one C++ kernel call per parameter group and dtype (``kernn._C.sgd_step``,
``adam_step``, ``rmsprop_step``, ``adadelta_step``, ``adagrad_step``), one thread team for all
its parameters; the Python classes keep the parameter groups, the state buffers and the step
counts, and read and write state dicts in torch's layout.
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "Adagrad",
           "lr_scheduler"]
