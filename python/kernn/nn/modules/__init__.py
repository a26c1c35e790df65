"""kernn.nn modules."""

from .batchnorm import BatchNorm1d, BatchNorm2d
from .conv import Conv1d, Conv2d
from .pooling import AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .activation import (ELU, GELU, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, ReLU, ReLU6,
                         SiLU, Sigmoid, Softmax, Softplus, Softsign, Tanh)
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .dropout import Dropout, Dropout1d, Dropout2d
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss,
                   NLLLoss, SmoothL1Loss)
from .module import Module
from .normalization import LayerNorm
from .sparse import Embedding

__all__ = [
    "Module", "Sequential", "ModuleList", "Linear", "Identity", "Flatten", "Dropout", "ReLU",
    "LeakyReLU", "Sigmoid", "Tanh", "Softsign", "ELU", "GELU", "SiLU", "Softplus", "Hardtanh",
    "ReLU6", "LogSigmoid", "Softmax", "LogSoftmax", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
    "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d",
    "BatchNorm1d", "BatchNorm2d",
    "LayerNorm", "ModuleDict", "ParameterList", "ParameterDict", "Unflatten", "Dropout1d",
    "Dropout2d", "Embedding",
]
