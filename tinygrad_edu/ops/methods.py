"""Tensor's operators and methods: each is the ops function of the same name (x.exp() is
exp(x), a + b is Add.apply(a, b)), attached to the class once, when ops is imported.

vector.py defines what a tensor *is* (storage, geometry, autograd fields); the ops modules
define what can be *done* with one; this table joins the two without vector.py importing ops.
"""
from __future__ import annotations

import numpy as np

from tinygrad_edu import vector as V
from tinygrad_edu.ops import (composites, elementwise, indexing, inplace, joining, linalg, random,
                              reduce, selection, views)
from tinygrad_edu.ops.views import to
from tinygrad_edu.printing import tensor_repr
from tinygrad_edu.ops.elementwise import (Add, Div, Mul, Rsub, Sub, abs, bitwise_and, bitwise_not,
                                          bitwise_or, bitwise_xor, eq, floor_divide, ge, gt, le,
                                          lt, ne, neg, pow, reciprocal, remainder, where)
from tinygrad_edu.ops.helpers import Number, empty, full, ones, sum_to_shape, zeros
from tinygrad_edu.ops.inplace import _inplace, _inplace_method, add_, div_, mul_, pow_, sub_
from tinygrad_edu.ops.linalg import matmul
from tinygrad_edu.ops.views import _shape_args, transpose
from tinygrad_edu.vector import Tensor


def _reflect(fn):
    def method(self, other):
        return fn(other, self)
    return method


def _iop(inplace_fn):
    def method(self, other):
        return inplace_fn(self, other)
    return method


def _matmul_op(self, other):
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul(self, other)


def _rmatmul_op(self, other):
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul(other, self)


def _not_implemented_for_other(fn, arrays: bool = False):
    """Return NotImplemented for operands we don't know, so Python can try the other side;
    with `arrays` (== and !=), a numpy array becomes a tensor operand (a copy, on self's
    device), as in PyTorch. (Arithmetic with an array goes the other way, as in PyTorch too:
    numpy computes it and Tensor.__array_wrap__ wraps the result.)"""
    def method(self, other):
        if arrays and isinstance(other, np.ndarray):
            other = V.tensor(other, device=self.device)
        elif not isinstance(other, (Tensor,) + Number):
            return NotImplemented
        return fn(self, other)
    method.__name__ = fn.__name__
    return method


def _rtruediv(self, number):
    """number / tensor, computed as PyTorch computes it: reciprocal(tensor) * number (so the
    graph shows MulBackward0 over ReciprocalBackward0, and the values agree to the last bit)."""
    return reciprocal(self) * number


def _pow_op(self, exponent):
    return pow(self, exponent)


def _rpow_op(self, base):
    return pow(base, self)


def _ilshift(*_):
    raise NotImplementedError("shift operators are not supported by tinygrad_edu")


def _arithmetic(fn_cls, reflected: bool = False):
    """`a + b` and friends: straight to the Function (this is the hottest path of all)."""
    operands = (Tensor,) + Number

    def method(self, other):
        if not isinstance(other, operands):
            return NotImplemented
        return fn_cls.apply(other, self) if reflected else fn_cls.apply(self, other)
    return method


_T = _not_implemented_for_other


OPERATORS = {
    "__add__": _arithmetic(Add), "__radd__": _arithmetic(Add, True), "__iadd__": _T(add_),
    "__sub__": _arithmetic(Sub), "__rsub__": _arithmetic(Rsub, True), "__isub__": _T(sub_),
    "__mul__": _arithmetic(Mul), "__rmul__": _arithmetic(Mul, True), "__imul__": _T(mul_),
    "__truediv__": _arithmetic(Div), "__rtruediv__": _T(_rtruediv),
    "__itruediv__": _T(div_),
    "__floordiv__": _T(floor_divide), "__rfloordiv__": _T(_reflect(floor_divide)),
    "__mod__": _T(remainder), "__rmod__": _T(_reflect(remainder)),
    "__pow__": _T(_pow_op), "__rpow__": _T(_rpow_op), "__ipow__": _T(pow_),
    "__matmul__": _matmul_op, "__rmatmul__": _rmatmul_op,
    "__eq__": _T(eq, arrays=True), "__ne__": _T(ne, arrays=True),
    "__lt__": _T(lt), "__le__": _T(le), "__gt__": _T(gt), "__ge__": _T(ge),
    "__and__": _T(bitwise_and), "__rand__": _T(_reflect(bitwise_and)),
    "__or__": _T(bitwise_or), "__ror__": _T(_reflect(bitwise_or)),
    "__xor__": _T(bitwise_xor), "__rxor__": _T(_reflect(bitwise_xor)),
    "__ifloordiv__": _T(lambda s, o: _inplace(s, floor_divide, o)),
    "__imod__": _T(lambda s, o: _inplace(s, remainder, o)),
    "__iand__": _T(lambda s, o: _inplace(s, bitwise_and, o)),
    "__ior__": _T(lambda s, o: _inplace(s, bitwise_or, o)),
    "__ixor__": _T(lambda s, o: _inplace(s, bitwise_xor, o)),
    "__neg__": neg, "__pos__": lambda self: self, "__abs__": abs, "__invert__": bitwise_not,
    "__getitem__": indexing.getitem, "__setitem__": indexing.setitem,
}


# Functions that are also Tensor methods with the same name (self is the first argument).
METHODS = """
    neg negative abs absolute exp log log2 log1p expm1 sqrt rsqrt reciprocal sin cos tan tanh
    sigmoid relu erf sign floor ceil round trunc fix square logical_not bitwise_not isnan isinf
    isfinite add sub subtract mul multiply div divide true_divide floor_divide remainder pow
    maximum minimum atan2 arctan2 eq ne lt le gt ge less less_equal greater greater_equal
    not_equal logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor clamp clip
    clamp_min clamp_max lerp addcmul addcdiv sum mean prod max min amax amin argmax argmin all
    any var std logsumexp norm count_nonzero matmul mm bmm mv dot inner outer ger addmm view
    view_as reshape reshape_as flatten unflatten ravel permute transpose swapaxes swapdims t
    movedim moveaxis unsqueeze squeeze expand expand_as broadcast_to select narrow diagonal
    as_strided unbind split chunk tensor_split clone contiguous repeat flip roll tril triu
    cumsum cumprod gather scatter scatter_add index_select index_add masked_fill masked_select
    nonzero argwhere sort argsort topk kthvalue median unique bincount allclose isclose equal
    sinh cosh atan asin acos log10 exp2 frac softmax log_softmax diag trace diff take
    take_along_dim nansum nanmean add_ sub_ mul_ div_ pow_ clamp_ zero_ fill_ copy_ uniform_ normal_ bernoulli_ exponential_
    random_ bernoulli multinomial
""".split()


# The torch.* functions: the methods above that are also module-level functions, plus
# functions that are not methods.
NOT_FUNCTIONS = set("""
    view view_as reshape_as expand expand_as new_zeros add_ sub_ mul_ div_ pow_ clamp_ zero_
    fill_ copy_ uniform_ normal_ bernoulli_ exponential_ random_
""".split())


FUNCTIONS = [name for name in METHODS if name not in NOT_FUNCTIONS] + """
    where broadcast_tensors broadcast_shapes cat concat concatenate stack hstack vstack var_mean
    std_mean meshgrid einsum
""".split()


# In-place twins of out-of-place ops (x.exp_() is x = exp(x) written into x's memory).
INPLACE = """
    neg exp log log2 log1p expm1 sqrt rsqrt reciprocal sin cos tan tanh sigmoid relu erf sign
    floor ceil round trunc abs clamp_min clamp_max lerp addcmul addcdiv masked_fill scatter
    scatter_add index_add remainder floor_divide maximum minimum
""".split()


# Those whose derivative never reads the old values of self (no snapshot needed, see _inplace).
INPLACE_NOT_READING_SELF = set("""
    neg sign floor ceil round trunc masked_fill scatter scatter_add index_add
""".split())


# Where the functions named above live, lowest layer first.
_OP_MODULES = (elementwise, views, joining, reduce, linalg, selection, composites, inplace,
               random)


def op(name: str):
    """The ops function called `name` (e.g. op("exp") is ops.elementwise.exp)."""
    for module in _OP_MODULES:
        fn = module.__dict__.get(name)
        if fn is not None:
            return fn
    raise AttributeError(f"no op named {name!r}")


def attach_methods(cls) -> None:
    """Give Tensor its operators and methods (called once, by ops/__init__.py)."""
    for name in METHODS:
        setattr(cls, name, op(name))
    for name in INPLACE:
        setattr(cls, name + "_", _inplace_method(op(name), name not in INPLACE_NOT_READING_SELF))
    for name, fn in OPERATORS.items():
        setattr(cls, name, fn)
    cls.to = to
    cls.__repr__ = tensor_repr
    cls.T = property(lambda self: self.permute(tuple(range(self.dim() - 1, -1, -1))))
    cls.mT = property(lambda self: transpose(self, -2, -1))
    cls.H = cls.T
    cls.mH = cls.mT
    cls.new_zeros = lambda self, *size, **kw: zeros(*size, **_new_kw(self, kw))
    cls.new_ones = lambda self, *size, **kw: ones(*size, **_new_kw(self, kw))
    cls.new_empty = lambda self, *size, **kw: empty(*size, **_new_kw(self, kw))
    cls.new_full = lambda self, size, value, **kw: full(size, value, **_new_kw(self, kw))
    cls.new_tensor = lambda self, data, **kw: V.tensor(data, **_new_kw(self, kw))
    cls.where = lambda self, condition, y: where(condition, self, y)   # self where cond, else y
    cls.sum_to_size = lambda self, *size: sum_to_shape(self, _shape_args(size))


def _new_kw(t: Tensor, kw: dict) -> dict:
    kw = dict(kw)
    kw.setdefault("dtype", t.dtype)
    kw.setdefault("device", t.device)
    return kw
