"""`tinygrad_edu.nn`: modules, parameters, layers and losses, with PyTorch's names.

    import tinygrad_edu.nn as nn
    import tinygrad_edu.nn.functional as F

DESIGN.md drew `nn` as one file, nn.py; it is a package so that `import
tinygrad_edu.nn.functional as F` and `import tinygrad_edu.nn.init` work as PyTorch's do.
Where things live (PyTorch keeps them in torch/nn/modules/*; here one file per kind):
    parameter.py    Parameter
    module.py       Module (registration, traversal, state_dict, hooks, repr)
    containers.py   Sequential, ModuleList, ModuleDict
    layers.py       Linear, Identity, Flatten, Unflatten, Dropout, Dropout2d, Embedding,
                    LayerNorm, BatchNorm1d, BatchNorm2d
    conv.py         Conv1d, Conv2d
    pooling.py      MaxPool2d, AvgPool2d, AdaptiveAvgPool2d
    activations.py  ReLU, LeakyReLU, GELU, Tanh, Sigmoid, Hardtanh, Softmax, LogSoftmax, ...
    loss.py         MSELoss, L1Loss, SmoothL1Loss, BCELoss, BCEWithLogitsLoss, NLLLoss,
                    CrossEntropyLoss, ...
    functional.py   the functions all of these call (and the fused Functions behind them)
    init.py         weight initialisation (xavier_*, kaiming_*, ...)
    utils.py        clip_grad_norm_, clip_grad_value_, parameters_to_vector

The layers call only public functions (F.conv2d, F.max_pool2d, ...). The ops that need device
kernels or a tensor's internals (convolution, pooling, embedding, nll_loss's Function) live in
`tinygrad_edu.ops`; nn.functional exports them under their PyTorch names.
"""
from tinygrad_edu.nn import functional, init, utils
from tinygrad_edu.nn.activations import (ELU, GELU, Hardtanh, LeakyReLU, LogSoftmax, Mish, ReLU,
                                         ReLU6, Sigmoid, SiLU, Softmax, Softmin, Softplus, Tanh)
from tinygrad_edu.nn.containers import ModuleDict, ModuleList, Sequential
from tinygrad_edu.nn.conv import Conv1d, Conv2d
from tinygrad_edu.nn.layers import (BatchNorm1d, BatchNorm2d, Dropout, Dropout2d, Embedding,
                                    Flatten, Identity, LayerNorm, Linear, Unflatten)
from tinygrad_edu.nn.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss,
                                  KLDivLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss)
from tinygrad_edu.nn.module import Module
from tinygrad_edu.nn.parameter import Parameter
from tinygrad_edu.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict",
    "Linear", "Identity", "Flatten", "Unflatten", "Dropout", "Embedding", "LayerNorm",
    "BatchNorm1d", "BatchNorm2d", "Dropout2d", "Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d",
    "AdaptiveAvgPool2d",
    "ReLU", "LeakyReLU", "GELU", "Tanh", "Sigmoid", "Hardtanh", "ReLU6", "ELU", "SiLU", "Mish",
    "Softplus", "Softmax", "LogSoftmax", "Softmin",
    "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss",
    "CrossEntropyLoss", "KLDivLoss",
    "functional", "init", "utils",
]
