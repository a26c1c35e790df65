"""kernn.nn modules."""

from .activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softsign, Tanh
from .container import ModuleList, Sequential
from .dropout import Dropout
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module

__all__ = [
    "Module", "Sequential", "ModuleList", "Linear", "Identity", "Flatten", "Dropout", "ReLU",
    "LeakyReLU", "Sigmoid", "Tanh", "Softsign", "Softmax", "LogSoftmax", "CrossEntropyLoss",
    "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MSELoss",
]
