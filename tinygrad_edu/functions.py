"""Differentiable tensor operations, written once against the device primitives.

Each op is a `Function`: `forward` computes the result with the primitives of the input's device
(docs/primitives.md) and `backward` turns the gradient of the result into gradients of the inputs,
using tensor ops (so that `create_graph=True` can differentiate them again). Forward and
derivative sit side by side, with the math in the docstring:

    class Mul(BinaryFunction):
        '''z = a * b;  dz/da = b,  dz/db = a'''

The functional forms below (`add`, `exp`, `sum`, ...) double as Tensor methods: `x.exp()` is
`exp(x)`. Every argument is checked here, in Python, before a compiled kernel sees it.
"""
from __future__ import annotations

import builtins
import math
from collections import namedtuple
from typing import Sequence

import numpy as np

from tinygrad_edu import vector as V
from tinygrad_edu.vector import (Function, Tensor, _grad_enabled, _wrap_dim, bool_,
                                 int64, kernels, result_type)

Number = (builtins.int, builtins.float, builtins.bool, np.number, np.bool_)

# ---------------------------------------------------------------------------------------- helpers


def _k(t: Tensor):
    """The primitives (kernels module) of t's device."""
    return t._storage._kernels


def _same_device(*tensors) -> V.device:
    """The one device all tensor arguments live on (mixing devices is an error, as in PyTorch)."""
    dev = None
    for t in tensors:
        if isinstance(t, Tensor):
            if dev is None:
                dev = t._storage.device
            elif t._storage.device != dev:
                raise RuntimeError("Expected all tensors to be on the same device, but found at "
                                   f"least two devices, {dev} and {t._storage.device}!")
    return dev or V.CPU


def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...]:
    """The shape that `shapes` broadcast to: align them at the right; sizes must agree or be 1."""
    ndim = builtins.max(len(s) for s in shapes)
    out = [1] * ndim
    for s in shapes:
        for i, n in enumerate(s, ndim - len(s)):
            if n != 1:
                if out[i] != 1 and out[i] != n:
                    raise RuntimeError(f"The size of tensor a ({out[i]}) must match the size of "
                                       f"tensor b ({n}) at non-singleton dimension {i}")
                out[i] = n
    return tuple(out)


def _broadcast_strides(t: Tensor, shape: tuple) -> tuple:
    """Strides that show `t` with `shape`: new leading and size-1 dims get stride 0."""
    pad = len(shape) - len(t._shape)
    return (0,) * pad + tuple(st if sz == n else 0
                              for sz, st, n in zip(t._shape, t._strides, shape[pad:]))


def _operand(x, dt: V.dtype, shape: tuple, dev: V.device):
    """`x` (a tensor or a number) as a device array of dtype `dt` broadcast to `shape`."""
    k = kernels(dev)
    if isinstance(x, Tensor):
        if x._storage.dtype is not dt:
            x = _cast(x, dt)
        if x._shape == shape:
            return x._view()
        return k.as_strided(x._storage._data, x._offset, shape, _broadcast_strides(x, shape))
    return _scalar_operand(k, x, dt, shape)


_scalar_operands: dict = {}


def _scalar_operand(k, x, dt: V.dtype, shape: tuple):
    """A number as a stride-0 array of `shape`. Kernels never write their inputs, so the arrays
    are kept and reused: `lr * grad` in every training step costs no new allocation."""
    key = (k, dt, shape, x.hex() if isinstance(x, builtins.float) else x, type(x))
    arr = _scalar_operands.get(key)
    if arr is None:
        one = k.empty((1,), dt.np_dtype)
        k.fill(one, x)
        arr = k.as_strided(one, 0, shape, (0,) * len(shape))
        if len(_scalar_operands) > 1024:
            _scalar_operands.clear()
        _scalar_operands[key] = arr
    return arr


def _cast(t: Tensor, dt: V.dtype) -> Tensor:
    """A contiguous copy of `t` converted to dtype `dt` (no autograd)."""
    out = V._new(t._shape, dt, t._storage.device)
    _k(t).copy(t._view(), out._view())
    return out


def _check_number(x, what: str) -> None:
    if not isinstance(x, Number):
        raise TypeError(f"{what}: expected a Tensor or a number, got {type(x).__name__}")


def unary_forward(op: str, x: Tensor, dt: V.dtype | None = None,
                  out_dtype: V.dtype | None = None) -> Tensor:
    """out = op(x) elementwise by the device's kernel, computed in dtype `dt` (default: x's),
    written in `out_dtype` (default: dt; bool for tests like isnan)."""
    dt = dt or x._storage.dtype
    out = V._new(x._shape, out_dtype or dt, x._storage.device)
    src = x._view() if x._storage.dtype is dt else _cast(x, dt)._view()
    _k(x).unary(op, src, out._arr)
    return out


def binary_forward(op: str, a, b, out_dtype: V.dtype | None = None,
                   compute_dtype: V.dtype | None = None) -> Tensor:
    """out = op(a, b) elementwise with broadcasting; a and b are tensors or numbers."""
    dt = compute_dtype or result_type(a, b)
    a_is_tensor, b_is_tensor = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_is_tensor and b_is_tensor:
        if a._storage.dtype is dt and b._storage.dtype is dt and \
                a._storage.device is b._storage.device:
            if a._shape == b._shape:  # the common case (same shape, dtype and device)
                out = V._new(a._shape, out_dtype or dt, a._storage.device)
                a._storage._kernels.binary(op, a._view(), b._view(), out._arr)
                return out
            out = _one_element_broadcast(op, a, b, out_dtype or dt)
            if out is not None:
                return out
    elif a_is_tensor or b_is_tensor:
        # tensor (op) number or number (op) tensor, the other common case: `x ** 2`, `lr * grad`
        t = a if a_is_tensor else b
        if t._storage.dtype is dt:
            k = t._storage._kernels
            out = V._new(t._shape, out_dtype or dt, t._storage.device)
            number = _scalar_operand(k, b if a_is_tensor else a, dt, t._shape)
            k.binary(op, t._view() if a_is_tensor else number,
                     number if a_is_tensor else t._view(), out._arr)
            return out
    dev = _same_device(a, b)
    shape = broadcast_shapes(a._shape if isinstance(a, Tensor) else (),
                             b._shape if isinstance(b, Tensor) else ())
    out = V._new(shape, out_dtype or dt, dev)
    kernels(dev).binary(op, _operand(a, dt, shape, dev), _operand(b, dt, shape, dev), out._arr)
    return out


def _one_element_broadcast(op: str, a: Tensor, b: Tensor, out_dt: V.dtype) -> Tensor | None:
    """op(a, b) when one operand has a single element and no more dims than the other (`w * x`
    with a 0-d weight): that element, seen through strides 0, meets the other operand's
    elements. None for any other pair of shapes."""
    big, one = (b, a) if math.prod(a._shape) == 1 else (a, b)
    if len(one._shape) > len(big._shape) or math.prod(one._shape) != 1:
        return None
    shape = big._shape
    k = big._storage._kernels
    out = V._new(shape, out_dt, big._storage.device)
    spread = k.as_strided(one._storage._data, one._offset, shape, (0,) * len(shape))
    k.binary(op, a._view() if big is a else spread, spread if big is a else b._view(), out._arr)
    return out


def sum_to_shape(g: Tensor, shape: tuple) -> Tensor:
    """Undo broadcasting: sum `g` over the dimensions that broadcasting added or stretched."""
    if g._shape == shape:
        return g
    lead = len(g._shape) - len(shape)
    dims = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                      if n == 1 and g._shape[i + lead] != 1)
    if not _grad_enabled[0] and dims:  # plain backward: one reduction kernel, nothing else
        return reduce_forward("sum", g, dims, True, g._storage.dtype, shape)
    s = g.sum(dims, keepdim=True) if dims else g
    return s.reshape(shape) if s._shape != shape else s


def _float_dtype(x) -> V.dtype:
    """The dtype of a float-valued op: integers and bools are promoted to the default float."""
    dt = x.dtype if isinstance(x, Tensor) else V._scalar_dtype(x)
    return dt if dt.is_floating_point else V.get_default_dtype()


def _require_float(t: Tensor, op: str) -> None:
    if not t.dtype.is_floating_point:
        raise RuntimeError(f"{op}(): input dtype must be a floating point dtype, got {t.dtype}; "
                           "convert it first, e.g. x.float()")


# ---------------------------------------------------------------------------------------- unary ops


class UnaryFunction(Function):
    """y = f(x) elementwise, computed by the kernel `op`; `derivative(grad, x, y)` is dL/dx.

    `saves` says what the derivative needs: "x", "y" or "" (nothing).
    """

    op: str = ""
    saves: str = "x"

    @staticmethod
    def derivative(grad: Tensor, x: Tensor, y: Tensor) -> Tensor:
        raise NotImplementedError

    @classmethod
    def _fn(cls, ctx):
        return type(ctx)._forward_cls

    @staticmethod
    def forward(ctx, x):
        cls = type(ctx)._forward_cls
        y = unary_forward(cls.op, x, _float_dtype(x) if cls.float_only else None)
        ctx.save_for_backward(x if "x" in cls.saves else None, y if "y" in cls.saves else None)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return type(ctx)._forward_cls.derivative(grad, x, y)

    float_only = True  # integer inputs are promoted to float (exp of an int tensor is float)


class Neg(UnaryFunction):
    """y = -x;  dy/dx = -1"""
    op, saves, float_only, backward_name = "neg", "", False, "NegBackward0"

    @staticmethod
    def derivative(grad, x, y):
        return -grad


class Abs(UnaryFunction):
    """y = |x|;  dy/dx = sign(x) (0 at 0, as PyTorch)"""
    op, saves, float_only, backward_name = "abs", "x", False, "AbsBackward0"

    @staticmethod
    def derivative(grad, x, y):
        return grad * x.sign()


class Exp(UnaryFunction):
    """y = e^x;  dy/dx = e^x = y"""
    op, saves, backward_name = "exp", "y", "ExpBackward0"

    @staticmethod
    def derivative(grad, x, y):
        return grad * y


class Log(UnaryFunction):
    """y = ln x;  dy/dx = 1/x"""
    op, backward_name = "log", "LogBackward0"

    @staticmethod
    def derivative(grad, x, y):
        return grad / x


class Log2(UnaryFunction):
    """y = log2 x;  dy/dx = 1/(x ln 2)"""
    op, backward_name = "log2", "Log2Backward0"

    @staticmethod
    def derivative(grad, x, y):
        return grad / (x * math.log(2.0))


class Log1p(UnaryFunction):
    """y = ln(1 + x);  dy/dx = 1/(1 + x)"""
    op, backward_name = "log1p", "Log1PBackward0"

    @staticmethod
    def derivative(grad, x, y):
        return grad / (x + 1)


class Expm1(UnaryFunction):
    """y = e^x - 1;  dy/dx = e^x = y + 1"""
    op, saves, backward_name = "expm1", "y", "Expm1Backward0"

    @staticmethod
    def derivative(grad, x, y):
        return grad * (y + 1)


class Sqrt(UnaryFunction):
    """y = sqrt(x);  dy/dx = 1/(2 sqrt(x)) = 1/(2y)"""
    op, saves, backward_name = "sqrt", "y", "SqrtBackward0"

    @staticmethod
    def derivative(grad, x, y):
        return grad / (2 * y)


class Rsqrt(UnaryFunction):
    """y = 1/sqrt(x);  dy/dx = -y^3 / 2"""
    op, saves, backward_name = "rsqrt", "y", "RsqrtBackward0"

    @staticmethod
    def derivative(grad, x, y):
        return grad * (-0.5) * y * y * y


class Reciprocal(UnaryFunction):
    """y = 1/x;  dy/dx = -1/x^2 = -y^2"""
    op, saves, backward_name = "reciprocal", "y", "ReciprocalBackward0"

    @staticmethod
    def derivative(grad, x, y):
        return -grad * y * y


class Sin(UnaryFunction):
    """y = sin x;  dy/dx = cos x"""
    op, backward_name = "sin", "SinBackward0"

    @staticmethod
    def derivative(grad, x, y):
        return grad * x.cos()


class Cos(UnaryFunction):
    """y = cos x;  dy/dx = -sin x"""
    op, backward_name = "cos", "CosBackward0"

    @staticmethod
    def derivative(grad, x, y):
        return -grad * x.sin()


class Tan(UnaryFunction):
    """y = tan x;  dy/dx = 1 + tan^2 x = 1 + y^2"""
    op, saves, backward_name = "tan", "y", "TanBackward0"

    @staticmethod
    def derivative(grad, x, y):
        return grad * (y * y + 1)


class Tanh(UnaryFunction):
    """y = tanh x;  dy/dx = 1 - tanh^2 x = 1 - y^2 (one fused kernel when not differentiating
    twice)"""
    op, saves, backward_name = "tanh", "y", "TanhBackward0"

    @staticmethod
    def derivative(grad, x, y):
        if _grad_enabled[0]:
            return grad * (1 - y * y)
        return binary_forward("tanh_backward", grad, y)


class Sigmoid(UnaryFunction):
    """y = 1/(1 + e^-x);  dy/dx = y (1 - y)"""
    op, saves, backward_name = "sigmoid", "y", "SigmoidBackward0"

    @staticmethod
    def derivative(grad, x, y):
        if _grad_enabled[0]:
            return grad * y * (1 - y)
        return binary_forward("sigmoid_backward", grad, y)


class Relu(UnaryFunction):
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0"""
    op, saves, float_only, backward_name = "relu", "y", False, "ReluBackward0"

    @staticmethod
    def derivative(grad, x, y):
        if _grad_enabled[0]:
            return grad * (y > 0).to(grad.dtype)
        return binary_forward("relu_backward", grad, y)


class Gelu(UnaryFunction):
    """y = x Φ(x) with Φ the standard normal CDF;  dy/dx = Φ(x) + x φ(x)"""
    op, backward_name = "gelu", "GeluBackward0"

    @staticmethod
    def derivative(grad, x, y):
        if _grad_enabled[0]:
            cdf = 0.5 * (1 + (x * (1 / math.sqrt(2))).erf())
            pdf = (-0.5 * x * x).exp() * (1 / math.sqrt(2 * math.pi))
            return grad * (cdf + x * pdf)
        return binary_forward("gelu_backward", grad, x)


class Erf(UnaryFunction):
    """y = erf x;  dy/dx = 2/sqrt(pi) e^(-x^2)"""
    op, backward_name = "erf", "ErfBackward0"

    @staticmethod
    def derivative(grad, x, y):
        return grad * (2 / math.sqrt(math.pi)) * (-x * x).exp()


class _ZeroGrad(UnaryFunction):
    """Piecewise-constant ops (sign, floor, round, ...): their derivative is 0 almost everywhere."""
    saves, float_only = "", False

    @staticmethod
    def derivative(grad, x, y):
        return zeros_like(grad)


class Sign(_ZeroGrad):
    op, backward_name = "sign", "SignBackward0"


class Floor(_ZeroGrad):
    op, backward_name = "floor", "FloorBackward0"


class Ceil(_ZeroGrad):
    op, backward_name = "ceil", "CeilBackward0"


class Round(_ZeroGrad):
    op, backward_name = "round", "RoundBackward0"


class Trunc(_ZeroGrad):
    op, backward_name = "trunc", "TruncBackward0"


def _unary_api(fn_cls: type, name: str):
    def op(input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not "
                            f"{type(input).__name__}")
        return fn_cls.apply(input)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = fn_cls.__doc__
    return op


neg = negative = _unary_api(Neg, "neg")
abs = absolute = _unary_api(Abs, "abs")
exp = _unary_api(Exp, "exp")
log = _unary_api(Log, "log")
log2 = _unary_api(Log2, "log2")
log1p = _unary_api(Log1p, "log1p")
expm1 = _unary_api(Expm1, "expm1")
sqrt = _unary_api(Sqrt, "sqrt")
rsqrt = _unary_api(Rsqrt, "rsqrt")
reciprocal = _unary_api(Reciprocal, "reciprocal")
sin = _unary_api(Sin, "sin")
cos = _unary_api(Cos, "cos")
tan = _unary_api(Tan, "tan")
tanh = _unary_api(Tanh, "tanh")
sigmoid = _unary_api(Sigmoid, "sigmoid")
relu = _unary_api(Relu, "relu")
gelu = _unary_api(Gelu, "gelu")
erf = _unary_api(Erf, "erf")
sign = _unary_api(Sign, "sign")
floor = _unary_api(Floor, "floor")
ceil = _unary_api(Ceil, "ceil")
trunc = fix = _unary_api(Trunc, "trunc")


def round(input: Tensor, decimals: int = 0) -> Tensor:
    """Round half to even; with `decimals`, to that many digits after the point."""
    if decimals == 0:
        return Round.apply(input)
    scale = 10.0 ** decimals
    return Round.apply(input * scale) / scale


def square(input: Tensor) -> Tensor:
    """input ** 2 (a PowBackward0 node, as in PyTorch)."""
    return pow(input, 2)


def logical_not(input: Tensor) -> Tensor:
    return unary_forward("logical_not", input, out_dtype=bool_)


def bitwise_not(input: Tensor) -> Tensor:
    if input.dtype.is_floating_point:
        raise TypeError(f"bitwise_not is only defined for integer and bool tensors, got "
                        f"{input.dtype}")
    return unary_forward("bitwise_not", input)


def isnan(input: Tensor) -> Tensor:
    return unary_forward("isnan", input, out_dtype=bool_) if input.dtype.is_floating_point else \
        zeros_like(input, dtype=bool_)


def isinf(input: Tensor) -> Tensor:
    return unary_forward("isinf", input, out_dtype=bool_) if input.dtype.is_floating_point else \
        zeros_like(input, dtype=bool_)


def isfinite(input: Tensor) -> Tensor:
    return logical_not(logical_or(isnan(input), isinf(input)))


# ---------------------------------------------------------------------------------------- binary ops


class BinaryFunction(Function):
    """z = f(a, b) elementwise with broadcasting; `derivative(grad, a, b, z)` gives (dL/da, dL/db)
    before broadcasting is undone (summed back to each input's shape)."""

    op: str = ""
    saves: str = "ab"

    @classmethod
    def apply(cls, a, b):
        """Function.apply for the hottest ops of all. With nothing to record it calls the kernel
        directly (no ctx); to record, it builds the node without looping over the arguments and
        runs forward without switching grad mode off (binary_forward records nothing)."""
        if _grad_enabled[0]:
            a_needs = isinstance(a, Tensor) and a.requires_grad
            b_needs = isinstance(b, Tensor) and b.requires_grad
            if a_needs or b_needs:
                return V._apply_recording_binary(cls, a, b, a_needs, b_needs)
        return binary_forward(cls.op, a, b, compute_dtype=cls.compute_dtype(a, b))

    @staticmethod
    def forward(ctx, a, b):
        cls = type(ctx)._forward_cls
        z = binary_forward(cls.op, a, b, compute_dtype=cls.compute_dtype(a, b))
        # Save only what the needed derivatives use: a tensor changed in place later only
        # matters if backward really reads it (as in PyTorch).
        want = cls.to_save(ctx.needs_input_grad)
        ctx.save_for_backward(a if "a" in want and isinstance(a, Tensor) else None,
                              b if "b" in want and isinstance(b, Tensor) else None,
                              z if "z" in want else None)
        # per operand: its shape if it is a tensor, else the number itself
        ctx.operands = (a._shape if isinstance(a, Tensor) else a,
                        b._shape if isinstance(b, Tensor) else b)
        return z

    @classmethod
    def to_save(cls, needs: tuple) -> str:
        """Which of a, b, z to save, given which inputs need gradients."""
        return cls.saves

    @staticmethod
    def compute_dtype(a, b) -> V.dtype:
        return result_type(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b, z = ctx.saved_tensors
        sa, sb = ctx.operands
        a_is_tensor, b_is_tensor = type(sa) is tuple, type(sb) is tuple
        a = a if a_is_tensor else sa
        b = b if b_is_tensor else sb
        ga, gb = type(ctx)._forward_cls.derivative(grad, a, b, z, ctx.needs_input_grad)
        return (sum_to_shape(ga, sa) if ga is not None and a_is_tensor else None,
                sum_to_shape(gb, sb) if gb is not None and b_is_tensor else None)


class Add(BinaryFunction):
    """z = a + b;  dz/da = 1,  dz/db = 1"""
    op, saves, backward_name = "add", "", "AddBackward0"

    @staticmethod
    def derivative(grad, a, b, z, needs):
        return grad, grad


class Sub(BinaryFunction):
    """z = a - b;  dz/da = 1,  dz/db = -1"""
    op, saves, backward_name = "sub", "", "SubBackward0"

    @staticmethod
    def compute_dtype(a, b):
        dt = result_type(a, b)
        if dt is bool_:
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                               "supported. Use the `^` or `logical_xor()` operator instead.")
        return dt

    @staticmethod
    def derivative(grad, a, b, z, needs):
        return grad, (-grad if needs[1] else None)


class Rsub(Sub):
    """z = number - tensor (the reflected `-`), named RsubBackward1 as in PyTorch"""
    backward_name = "RsubBackward1"


class Mul(BinaryFunction):
    """z = a * b;  dz/da = b,  dz/db = a"""
    op, saves, backward_name = "mul", "ab", "MulBackward0"

    @classmethod
    def to_save(cls, needs):
        return ("b" if needs[0] else "") + ("a" if needs[1] else "")

    @staticmethod
    def derivative(grad, a, b, z, needs):
        return (grad * b if needs[0] else None), (grad * a if needs[1] else None)


class Div(BinaryFunction):
    """z = a / b;  dz/da = 1/b,  dz/db = -a/b^2"""
    op, saves, backward_name = "div", "ab", "DivBackward0"

    @classmethod
    def to_save(cls, needs):
        return "ab" if needs[1] else "b"

    @staticmethod
    def compute_dtype(a, b):
        return _float_dtype_of(result_type(a, b))

    @staticmethod
    def derivative(grad, a, b, z, needs):
        return ((grad / b) if needs[0] else None), ((-grad * a / (b * b)) if needs[1] else None)


def _float_dtype_of(dt: V.dtype) -> V.dtype:
    return dt if dt.is_floating_point else V.get_default_dtype()


class Pow(BinaryFunction):
    """z = a^b;  dz/da = b a^(b-1),  dz/db = a^b ln a

    This class is tensor ** number: as in PyTorch it keeps only a (so its result may change in
    place later). The subclasses, with a tensor exponent, keep the result too, for dz/db.
    """
    op, saves, backward_name = "pow", "a", "PowBackward0"

    @staticmethod
    def derivative(grad, a, b, z, needs):
        ga = gb = None
        if needs[0]:
            if isinstance(b, Tensor):  # 0 where b = 0 (not 0 * 0^-1 = NaN at a = 0), as PyTorch
                ga = where(b == 0, zeros_like(z), grad * b * a ** (b - 1))
            elif b == 0:
                ga = grad * 0.0
            elif b == 2:  # the square of a loss: skip computing a ** 1
                ga = grad * a * 2.0 if _grad_enabled[0] else \
                    _in_place_by_number("mul", grad * a, 2.0)
            else:
                ga = grad * b * a ** (b - 1)
        if needs[1]:
            # a^b ln a, taken as 0 where a = 0 and b >= 0 (the limit), as PyTorch does
            base = a if isinstance(a, Tensor) else full_like(z, a)
            safe = where((base == 0) & (b >= 0), ones_like(z), base)
            gb = grad * z * safe.log()
        return ga, gb


class PowTensor(Pow):
    """z = a^b for tensors a and b"""
    saves, backward_name = "abz", "PowBackward1"


class PowOfNumber(Pow):
    """z = a^b for a number a and a tensor b"""
    saves, backward_name = "abz", "PowBackward2"


class Maximum(BinaryFunction):
    """z = max(a, b);  the gradient goes to the larger input (split in half on ties)"""
    op, saves, backward_name = "maximum", "ab", "MaximumBackward0"

    @staticmethod
    def derivative(grad, a, b, z, needs):
        return _select_grads(grad, a > b, a == b, needs)


class Minimum(BinaryFunction):
    """z = min(a, b);  the gradient goes to the smaller input (split in half on ties)"""
    op, saves, backward_name = "minimum", "ab", "MinimumBackward0"

    @staticmethod
    def derivative(grad, a, b, z, needs):
        return _select_grads(grad, a < b, a == b, needs)


def _select_grads(grad, first_wins, tie, needs):
    share = where(tie, grad * 0.5, zeros_like(grad))
    ga = where(first_wins, grad, share) if needs[0] else None
    gb = where(first_wins | tie, share, grad) if needs[1] else None
    return ga, gb


class Atan2(BinaryFunction):
    """z = atan2(a, b);  dz/da = b/(a^2+b^2),  dz/db = -a/(a^2+b^2)"""
    op, saves, backward_name = "atan2", "ab", "Atan2Backward0"

    @staticmethod
    def compute_dtype(a, b):
        return _float_dtype_of(result_type(a, b))

    @staticmethod
    def derivative(grad, a, b, z, needs):
        r2 = a * a + b * b
        inv = where(r2 == 0, zeros_like(r2), r2.reciprocal())  # 0 at (0, 0), as PyTorch's
        return (grad * b * inv if needs[0] else None), (-grad * a * inv if needs[1] else None)


def _binary_args(name: str, a, b) -> None:
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{name}(): expected at least one Tensor argument, got "
                        f"{type(a).__name__} and {type(b).__name__}")
    for x in (a, b):
        if not isinstance(x, Tensor):
            _check_number(x, name)


def add(input, other, *, alpha=1) -> Tensor:
    """input + alpha * other"""
    _binary_args("add", input, other)
    if alpha != 1:
        other = other * alpha
    return Add.apply(input, other)


def sub(input, other, *, alpha=1) -> Tensor:
    """input - alpha * other"""
    _binary_args("sub", input, other)
    if alpha != 1:
        other = other * alpha
    return Sub.apply(input, other)


subtract = sub


def mul(input, other) -> Tensor:
    _binary_args("mul", input, other)
    return Mul.apply(input, other)


multiply = mul


def div(input, other, *, rounding_mode: str | None = None) -> Tensor:
    """True division; rounding_mode "floor" or "trunc" rounds the quotient (not differentiable)."""
    _binary_args("div", input, other)
    if rounding_mode is None:
        return Div.apply(input, other)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        q = Div.apply(input, other)
        dt = result_type(input, other)
        return q.trunc().to(dt) if not dt.is_floating_point else q.trunc()
    raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                     f"found '{rounding_mode}'")


divide = true_divide = div


class IntegerDivisionByZero(RuntimeError, ZeroDivisionError):
    """PyTorch raises RuntimeError("ZeroDivisionError") here; Python code expects
    ZeroDivisionError: this is both."""


def _check_int_division(op: str, a, b) -> None:
    """Integer division by zero would crash a compiled kernel: refuse it here."""
    dt = result_type(a, b)
    if dt.is_floating_point:
        return
    zero = (b == 0) if isinstance(b, Number) else builtins.bool((b == 0).any())
    if zero:
        raise IntegerDivisionByZero(f"ZeroDivisionError: {op}: integer division by zero")


def floor_divide(input, other) -> Tensor:
    """floor(input / other), elementwise (integers stay integers)."""
    _binary_args("floor_divide", input, other)
    _check_int_division("floor_divide", input, other)
    return binary_forward("floor_divide", input, other)


def remainder(input, other) -> Tensor:
    """input - floor(input / other) * other: the sign follows the divisor, as in Python."""
    _binary_args("remainder", input, other)
    _check_int_division("remainder", input, other)
    if isinstance(input, Tensor) and input.requires_grad or \
            isinstance(other, Tensor) and other.requires_grad:
        return input - floor_divide(input, other) * other
    return binary_forward("remainder", input, other)


def pow(input, exponent) -> Tensor:
    """input ** exponent elementwise (either may be a number)."""
    _binary_args("pow", input, exponent)
    if isinstance(exponent, Tensor):
        return (PowTensor if isinstance(input, Tensor) else PowOfNumber).apply(input, exponent)
    # here input is a tensor, exponent a number
    if not input.dtype.is_floating_point and not isinstance(exponent, builtins.float) and \
            exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return Pow.apply(input, exponent)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    return Maximum.apply(input, other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    return Minimum.apply(input, other)


def atan2(input: Tensor, other: Tensor) -> Tensor:
    return Atan2.apply(input, other)


arctan2 = atan2


def _comparison(op: str):
    def compare(input, other) -> Tensor:
        _binary_args(op, input, other)
        return binary_forward(op, input, other, out_dtype=bool_)
    compare.__name__ = compare.__qualname__ = op
    compare.__doc__ = f"Elementwise `{op}` comparison with broadcasting; a bool tensor."
    return compare


eq, ne, lt, le, gt, ge = (_comparison(op) for op in ("eq", "ne", "lt", "le", "gt", "ge"))
less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne


def _logical(op: str):
    def logical(input, other) -> Tensor:
        _binary_args(op, input, other)
        return binary_forward(op, input, other, out_dtype=bool_)
    logical.__name__ = logical.__qualname__ = op
    return logical


logical_and, logical_or, logical_xor = (_logical(op) for op in
                                        ("logical_and", "logical_or", "logical_xor"))


def _bitwise(op: str):
    def bitwise(input, other) -> Tensor:
        _binary_args(op, input, other)
        dt = result_type(input, other)
        if dt.is_floating_point:
            raise TypeError(f"{op} is only defined for integer and bool tensors, got {dt}")
        return binary_forward(op, input, other)
    bitwise.__name__ = bitwise.__qualname__ = op
    return bitwise


bitwise_and, bitwise_or, bitwise_xor = (_bitwise(op) for op in
                                        ("bitwise_and", "bitwise_or", "bitwise_xor"))


# ---------------------------------------------------------------------------------------- where, clamp


class Where(Function):
    """z = a where cond else b;  the gradient flows to a where cond holds, to b elsewhere"""
    backward_name = "WhereBackward0"

    @staticmethod
    def forward(ctx, cond, a, b):
        dt = result_type(a, b)
        dev = _same_device(cond, a, b)
        shape = broadcast_shapes(cond._shape, *(x._shape for x in (a, b) if isinstance(x, Tensor)))
        out = V._new(shape, dt, dev)
        kernels(dev).where(_operand(cond, bool_, shape, dev), _operand(a, dt, shape, dev),
                           _operand(b, dt, shape, dev), out._view())
        ctx.save_for_backward(cond)
        ctx.shapes = tuple(x._shape if isinstance(x, Tensor) else None for x in (a, b))
        return out

    @staticmethod
    def backward(ctx, grad):
        cond, = ctx.saved_tensors
        zero = zeros_like(grad)
        sa, sb = ctx.shapes
        ga = sum_to_shape(where(cond, grad, zero), sa) if ctx.needs_input_grad[1] else None
        gb = sum_to_shape(where(cond, zero, grad), sb) if ctx.needs_input_grad[2] else None
        return None, ga, gb


class MaskedFill(Where):
    """z = value where mask else x (x.masked_fill(mask, value)): Where's math, PyTorch's name"""
    backward_name = "MaskedFillBackward0"


def where(condition: Tensor, input=None, other=None):
    """Elementwise choice: `input` where `condition` is true, else `other`.

    With only a condition, the indices of its true elements (like `nonzero(as_tuple=True)`).
    """
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        raise TypeError(f"where(): argument 'condition' must be Tensor, not "
                        f"{type(condition).__name__}")
    if condition.dtype is not bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {condition.dtype}")
    for x in (input, other):
        if not isinstance(x, Tensor):
            _check_number(x, "where")
    return Where.apply(condition, input, other)


def clamp(input: Tensor, min=None, max=None) -> Tensor:
    """Limit every element to [min, max]; the gradient is 1 inside the range and 0 outside."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    out = input
    if min is not None:
        out = _clamp_side(out, min, "maximum")
    if max is not None:
        out = _clamp_side(out, max, "minimum")
    return out


clip = clamp


def _clamp_side(x: Tensor, bound, op: str) -> Tensor:
    """max(x, bound) or min(x, bound), passing the gradient to x only where x is inside."""
    if not isinstance(bound, Tensor):
        V.check_fits(bound, x.dtype)
    return Clamp.apply(x, bound, op)


class Clamp(Function):
    """y = max(x, lo) (or min(x, hi));  dy/dx = 1 where x is inside the bound, else 0"""
    backward_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, x, bound, op):
        y = binary_forward(op, x, bound, compute_dtype=result_type(x, bound))
        inside = binary_forward("ge" if op == "maximum" else "le", x, bound, out_dtype=bool_)
        ctx.save_for_backward(inside, bound if isinstance(bound, Tensor) else None)
        ctx.x_shape = x._shape
        return y

    @staticmethod
    def backward(ctx, grad):
        inside, bound = ctx.saved_tensors
        zero = zeros_like(grad)
        gx = sum_to_shape(where(inside, grad, zero), ctx.x_shape) if ctx.needs_input_grad[0] \
            else None
        gb = sum_to_shape(where(inside, zero, grad), bound._shape) \
            if bound is not None and ctx.needs_input_grad[1] else None
        return gx, gb, None


def clamp_min(input: Tensor, min) -> Tensor:
    return clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:
    return clamp(input, max=max)


def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    return input + weight * (end - input)


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    return input + value * tensor1 * tensor2


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    return input + value * tensor1 / tensor2


# ---------------------------------------------------------------------------------------- reductions


def _reduce_dims(t: Tensor, dim) -> tuple[int, ...]:
    """`dim` (None, an int, or a sequence) as a sorted tuple of non-negative dimensions."""
    nd = len(t._shape)
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(nd))
    dims = (dim,) if isinstance(dim, (builtins.int, np.integer)) else tuple(dim)
    out = tuple(sorted({_wrap_dim(d, nd) for d in dims}))
    if len(out) != len(dims):
        raise RuntimeError(f"dim {list(dims)} appears multiple times in the list of dims")
    return out if nd else ()


def _kept_shape(shape: tuple, dims: tuple) -> tuple:
    return tuple([1 if i in dims else n for i, n in enumerate(shape)])


def _drop_dims(shape: tuple, dims: tuple) -> tuple:
    return tuple([n for i, n in enumerate(shape) if i not in dims])


def reduce_forward(op: str, x: Tensor, dims: tuple, keepdim: bool, dt: V.dtype,
                   shape: tuple | None = None) -> Tensor:
    """Reduce `x` over `dims` with the kernel `op` into a new tensor of dtype `dt`, shaped as
    keepdim says, or as `shape` (any shape of as many elements) if given."""
    kept = _kept_shape(x._shape, dims)
    if shape is None:
        shape = kept if keepdim else _drop_dims(x._shape, dims)
    out = V._new(shape, dt, x._storage.device)
    if not dims:  # reducing over nothing (a 0-d tensor): the value itself
        x._storage._kernels.copy(x._view(), out._arr)
    else:
        src = x if x._storage.dtype is dt else _cast(x, dt)
        # the kernel writes the kept-dims shape; without keepdim that is a reshape of `out`
        x._storage._kernels.reduce(op, src._view(), dims,
                                   out._arr if shape == kept else out._arr.reshape(kept))
    return out


def _expand_grad(grad: Tensor, shape: tuple, dims: tuple, keepdim: bool) -> Tensor:
    """Broadcast a reduced gradient back over the reduced dims (a stride-0 view, no copy)."""
    kept = _kept_shape(shape, dims)
    if _grad_enabled[0]:  # differentiating the backward pass itself: record the ops
        return grad.reshape(kept).expand(shape)
    if not grad.is_contiguous():
        grad = _contiguous_copy(grad)
    # grad seen with the kept shape, then stretched over the reduced dims by strides 0
    strides = V.contiguous_strides(kept)
    return grad._as_view(grad._offset, shape,
                         tuple([0 if d in dims else st for d, st in enumerate(strides)]))


def _in_place_by_number(op: str, fresh: Tensor, number) -> Tensor:
    """fresh = fresh (op) number, by the kernel alone, for a result the caller has just made
    and nobody else sees: no second tensor, and no graph or version counter to update."""
    k = fresh._storage._kernels
    k.binary(op, fresh._arr, _scalar_operand(k, number, fresh._storage.dtype, fresh._shape),
             fresh._arr)
    return fresh


class Sum(Function):
    """y = sum_i x_i over `dims`;  dy/dx_i = 1, so the gradient is broadcast back"""
    backward_name = "SumBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim, dt):
        ctx.shape, ctx.dims, ctx.keepdim = x._shape, dims, keepdim
        return reduce_forward("sum", x, dims, keepdim, dt)

    @staticmethod
    def backward(ctx, grad):
        return _expand_grad(grad, ctx.shape, ctx.dims, ctx.keepdim), None, None, None


class SumAll(Sum):
    """y = the sum of all elements (PyTorch names this node SumBackward0)"""
    backward_name = "SumBackward0"


def _sum_dtype(t: Tensor, dtype) -> V.dtype:
    if dtype is not None:
        return V.as_dtype(dtype)
    return t.dtype if t.dtype.is_floating_point else int64


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The sum of the elements (over `dim` if given). Integers and bools sum to int64."""
    if not isinstance(input, Tensor):
        return builtins.sum(input)
    cls = SumAll if dim is None else Sum
    return cls.apply(input, _reduce_dims(input, dim), keepdim, _sum_dtype(input, dtype))


class Mean(Function):
    """y = (1/n) sum_i x_i;  dy/dx_i = 1/n"""
    backward_name = "MeanBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x._shape, dims, keepdim
        n = math.prod([x._shape[d] for d in dims])
        ctx.n = n
        return _in_place_by_number("div", reduce_forward("sum", x, dims, keepdim, x.dtype), n)

    @staticmethod
    def backward(ctx, grad):
        return _expand_grad(grad / ctx.n, ctx.shape, ctx.dims, ctx.keepdim), None, None


class MeanAll(Mean):
    """y = the mean of all elements (PyTorch names this node MeanBackward0)"""
    backward_name = "MeanBackward0"


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The average of the elements (over `dim` if given); floating-point tensors only."""
    if dtype is not None:
        input = input.to(V.as_dtype(dtype))
    if not input.dtype.is_floating_point:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {input.dtype}")
    cls = MeanAll if dim is None else Mean
    return cls.apply(input, _reduce_dims(input, dim), keepdim)


class Prod(Function):
    """y = prod_i x_i;  dy/dx_i = prod_{j != i} x_j (computed without dividing, so zeros work)"""
    backward_name = "ProdBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim, dt):
        ctx.dims, ctx.keepdim = dims, keepdim
        y = reduce_forward("prod", x, dims, keepdim, dt)
        ctx.save_for_backward(x)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        g = _expand_grad(grad, x._shape, ctx.dims, ctx.keepdim)
        return g * _prod_others(x, ctx.dims), None, None, None


def _prod_others(x: Tensor, dims: tuple) -> Tensor:
    """For each element, the product of all the *other* elements along `dims`."""
    flat = x.movedim(dims, tuple(range(len(x._shape) - len(dims), len(x._shape))))
    rest = flat._shape[:len(flat._shape) - len(dims)]
    flat = flat.reshape(rest + (-1,))
    n = flat._shape[-1]
    ones_col = ones(rest + (1,), dtype=x.dtype, device=x.device)
    # exclusive prefix and suffix products: others_i = (x_0 ... x_{i-1}) (x_{i+1} ... x_{n-1})
    prefix = cat([ones_col, flat[..., :n - 1]], -1).cumprod(-1)
    suffix = cat([flat[..., 1:], ones_col], -1).flip(-1).cumprod(-1).flip(-1)
    others = (prefix * suffix).reshape(tuple(x.movedim(dims, tuple(
        range(len(x._shape) - len(dims), len(x._shape))))._shape))
    return others.movedim(tuple(range(len(x._shape) - len(dims), len(x._shape))), dims)


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The product of the elements (over one `dim` if given). Integers multiply to int64."""
    if dim is not None and not isinstance(dim, (builtins.int, np.integer)):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    return Prod.apply(input, _reduce_dims(input, dim), keepdim, _sum_dtype(input, dtype))


class MaxMin(Function):
    """y = max (or min) over `dims`;  the gradient goes to the element(s) that won, split evenly
    among ties (as PyTorch's full reduction does)"""
    backward_name = "MaxBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim, op):
        y = reduce_forward(op, x, dims, keepdim, x.dtype)
        ctx.dims, ctx.keepdim = dims, keepdim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        winners = (x == _expand_grad(y, x._shape, ctx.dims, ctx.keepdim)).to(grad.dtype)
        count = winners.sum(ctx.dims, keepdim=True)
        g = _expand_grad(grad, x._shape, ctx.dims, ctx.keepdim)
        return g * winners / count, None, None, None


class MinBackward(MaxMin):
    backward_name = "MinBackward1"


class MaxMinDim(Function):
    """(values, indices) = max (or min) along one dim;  the gradient goes to the index chosen"""
    backward_name = "MaxBackward0"

    @staticmethod
    def forward(ctx, x, dim, keepdim, op):
        kept = _kept_shape(x._shape, (dim,))
        idx = V._new(kept, int64, x.device)
        _k(x).argreduce("arg" + op, x._view(), dim, idx._view())
        values = gather(x, dim, idx)
        if not keepdim:
            values, idx = values.squeeze(dim), idx.squeeze(dim)
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(idx)
        ctx.dim, ctx.keepdim, ctx.shape = dim, keepdim, x._shape
        return values, idx

    @staticmethod
    def backward(ctx, grad, _grad_idx):
        idx, = ctx.saved_tensors
        if not ctx.keepdim:
            grad, idx = grad.unsqueeze(ctx.dim), idx.unsqueeze(ctx.dim)
        g = zeros(ctx.shape, dtype=grad.dtype, device=grad.device)
        return g.scatter(ctx.dim, idx, grad), None, None, None


class MinDim(MaxMinDim):
    backward_name = "MinBackward0"


def _return_type(name: str) -> type:
    """The (values, indices) named tuple that op `name` returns, printed as PyTorch prints its
    torch.return_types.<name>: one field per line."""
    def __repr__(self) -> str:
        return f"torch.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"
    cls = namedtuple(name, ["values", "indices"])
    cls.__repr__ = __repr__
    return cls


return_types_max, return_types_min = _return_type("max"), _return_type("min")
return_types_kthvalue, return_types_median = _return_type("kthvalue"), _return_type("median")


def _max_min(op: str, input: Tensor, dim, keepdim: bool, other):
    if isinstance(dim, Tensor) and other is None:  # max(a, b) is maximum(a, b)
        return (maximum if op == "max" else minimum)(input, dim)
    if other is not None:
        return (maximum if op == "max" else minimum)(input, other)
    if input.numel() == 0 and (dim is None or input._shape[_wrap_dim(dim, input.dim())] == 0):
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == "
                           "0. Specify the reduction dim with the 'dim' argument.")
    if dim is None:
        cls = MaxMin if op == "max" else MinBackward
        return cls.apply(input, _reduce_dims(input, None), False, op)
    cls = MaxMinDim if op == "max" else MinDim
    values, indices = cls.apply(input, _wrap_dim(dim, input.dim()), keepdim, op)
    return (return_types_max if op == "max" else return_types_min)(values, indices)


def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """The largest element; with `dim`, (values, indices) along it; with a tensor, `maximum`."""
    return _max_min("max", input, dim, keepdim, other)


def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """The smallest element; with `dim`, (values, indices) along it; with a tensor, `minimum`."""
    return _max_min("min", input, dim, keepdim, other)


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    cls = MaxMin
    return cls.apply(input, _reduce_dims(input, dim), keepdim, "max")


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    return MinBackward.apply(input, _reduce_dims(input, dim), keepdim, "min")


def _arg_reduce(op: str, input: Tensor, dim, keepdim: bool) -> Tensor:
    if input.dtype is bool_:
        raise RuntimeError(f"{op}(): does not support bool input; convert it with .long()")
    if input.numel() == 0:
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == "
                           "0.")
    if dim is None:
        flat = input.reshape(-1)
        out = V._new((1,), int64, input.device)
        _k(input).argreduce(op, flat._view(), 0, out._view())
        return out.reshape(()) if not keepdim else out.reshape((1,) * input.dim())
    d = _wrap_dim(dim, input.dim())
    if input.dim() == 0:
        return zeros((), dtype=int64, device=input.device)
    out = V._new(_kept_shape(input._shape, (d,)), int64, input.device)
    _k(input).argreduce(op, input._view(), d, out._view())
    return out if keepdim else out.squeeze(d)


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The index of the largest element (over the flattened tensor if `dim` is None)."""
    return _arg_reduce("argmax", input, dim, keepdim)


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The index of the smallest element (over the flattened tensor if `dim` is None)."""
    return _arg_reduce("argmin", input, dim, keepdim)


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True where every element (along `dim`) is nonzero."""
    if not isinstance(input, Tensor):
        return builtins.all(input)
    return _logical_reduce("all", input, dim, keepdim)


def _logical_reduce(op: str, input: Tensor, dim, keepdim: bool) -> Tensor:
    x = input if input.dtype is bool_ else input != 0
    out = reduce_forward(op, x, _reduce_dims(x, dim), keepdim, bool_)
    # PyTorch keeps uint8 for uint8 inputs (a legacy of masks being bytes)
    return out.to(V.uint8) if input.dtype is V.uint8 else out


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True where some element (along `dim`) is nonzero."""
    if not isinstance(input, Tensor):
        return builtins.any(input)
    return _logical_reduce("any", input, dim, keepdim)


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """The variance: sum (x - mean)^2 / (n - correction); correction 1 (unbiased) by default."""
    return Var.apply(input, *_var_args("var", input, dim, unbiased, correction), keepdim)


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """The standard deviation: the square root of `var`."""
    return Std.apply(input, *_var_args("std", input, dim, unbiased, correction), keepdim)


def _var_args(op: str, x: Tensor, dim, unbiased, correction) -> tuple:
    """(dims, divisor n - correction) of var/std; correction 1 (unbiased) by default."""
    if isinstance(dim, builtins.bool):  # var(x, False): the old `unbiased` positional form
        unbiased, dim = dim, None
    _require_float(x, op)
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    dims = _reduce_dims(x, dim)
    return dims, builtins.max(math.prod(x._shape[d] for d in dims) - correction, 0)


class Var(Function):
    """v = sum (x - mean)^2 / (n - correction) over dims;
    dv/dx = 2 (x - mean) / (n - correction)  (the mean's own derivative drops out: the centered
    values sum to 0)"""
    backward_name = "VarBackward0"

    @staticmethod
    def forward(ctx, x, dims, divisor, keepdim):
        ctx.save_for_backward(x)
        ctx.dims, ctx.divisor, ctx.keepdim = dims, divisor, keepdim
        centered = x - x.mean(dims, keepdim=True)
        return (centered * centered).sum(dims, keepdim=keepdim) / divisor

    @staticmethod
    def backward(ctx, grad):
        return Var.grad_x(ctx, grad, ctx.saved_tensors[0])

    @staticmethod
    def grad_x(ctx, g, x) -> tuple:
        """The gradients of forward's arguments, given dL/dv = g. (The mean is recomputed from
        x so that a second derivative sees it.)"""
        if not ctx.keepdim and ctx.dims:
            g = g.reshape(_kept_shape(x._shape, ctx.dims))
        scale = 2.0 / ctx.divisor if ctx.divisor else math.inf  # 0 * inf: NaN, as the variance
        return g * scale * (x - x.mean(ctx.dims, keepdim=True)), None, None, None


class Std(Var):
    """s = sqrt(var);  ds/dx = dvar/dx / (2 s), taken as 0 where s = 0 (a constant input), as
    PyTorch does (the plain chain rule would give 0/0)"""
    backward_name = "StdBackward0"

    @staticmethod
    def forward(ctx, x, dims, divisor, keepdim):
        s = Var.forward(ctx, x, dims, divisor, keepdim).sqrt()
        ctx.save_for_backward(x, s)
        return s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return Var.grad_x(ctx, where(s == 0, zeros_like(grad), grad / (2 * s)), x)


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) computed stably by factoring out the maximum."""
    dims = _reduce_dims(input, dim)
    m = amax(input, dims, keepdim=True).detach()
    m = where(isinf(m), zeros_like(m), m)
    out = (input - m).exp().sum(dims, keepdim=True).log() + m
    return out if keepdim else out.squeeze(dims) if dims else out


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False) -> Tensor:
    """The p-norm (default 2, "fro") of the elements, over `dim` if given."""
    if p in (float("inf"), "inf"):
        return input.abs().amax(dim if dim is not None else (), keepdim=keepdim)
    if p == 1:
        return input.abs().sum(dim, keepdim=keepdim)
    p = 2 if p == "fro" else p
    if not isinstance(p, (builtins.int, builtins.float)) or p <= 0:
        raise ValueError(f"norm: p must be a positive number, 'fro' or inf, got {p!r}")
    _require_float(input, "norm")
    return VectorNorm.apply(input, p, _reduce_dims(input, dim), keepdim)


class VectorNorm(Function):
    """n = (sum |x|^p)^(1/p) over dims (p > 0 finite);
    dn/dx = sgn(x) |x|^(p-1) / n^(p-1)  (x / n for p = 2), taken as 0 where n = 0, as in
    PyTorch (the chain rule through the root would give 0/0 at a zero vector)"""
    backward_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        n = (x * x).sum(dims, keepdim=keepdim).sqrt() if p == 2 else \
            (x.abs() ** p).sum(dims, keepdim=keepdim) ** (1.0 / p)
        ctx.save_for_backward(x, n)
        ctx.p, ctx.dims, ctx.keepdim = p, dims, keepdim
        return n

    @staticmethod
    def backward(ctx, grad):
        x, n = ctx.saved_tensors
        p = ctx.p
        if not ctx.keepdim and ctx.dims:
            kept = _kept_shape(x._shape, ctx.dims)
            grad, n = grad.reshape(kept), n.reshape(kept)
        scale = where(n == 0, zeros_like(n), grad / (n if p == 2 else n ** (p - 1)))
        if p == 2:
            return x * scale, None, None, None
        powered = x.abs() ** (p - 1)
        if p < 1:  # |x|^(p-1) is infinite at 0, where the gradient is 0
            powered = where(x == 0, zeros_like(powered), powered)
        return x.sign() * powered * scale, None, None, None


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    return (input != 0).sum(dim)


# ---------------------------------------------------------------------------------------- matmul


def _check_matmul_dtypes(a: Tensor, b: Tensor) -> None:
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype} != "
                           f"{b.dtype}")


def _matmul_kernel(a3: Tensor, b3: Tensor) -> Tensor:
    """out[b] = a3[b] @ b3[b] for 3-D tensors of equal batch size."""
    bsz, m, _ = a3._shape
    n = b3._shape[2]
    out = V._new((bsz, m, n), a3.dtype, a3.device)
    _k(a3).matmul(a3._view(), b3._view(), out._view())
    return out


def _mm(a: Tensor, b: Tensor) -> Tensor:
    """a @ b for two matrices, by the 3-D matmul primitive on batch-of-one views (no autograd,
    no intermediate tensors: this is every Linear layer's forward and backward)."""
    out = V._new((a._shape[0], b._shape[1]), a._storage.dtype, a._storage.device)
    _k(a).matmul(_batch_of_one(a), _batch_of_one(b), _batch_of_one(out))
    return out


def _batch_of_one(t: Tensor):
    """t's array seen as a batch of one matrix: shape (1, rows, cols)."""
    return _k(t).as_strided(t._storage._data, t._offset, (1,) + t._shape, (0,) + t._strides)


class MatMul(Function):
    """C = A B (batched, broadcasting the batch dims);  dL/dA = dL/dC B^T,  dL/dB = A^T dL/dC"""
    backward_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if len(a._shape) == 2 and len(b._shape) == 2:
            return _mm(a, b)
        batch = broadcast_shapes(a._shape[:-2], b._shape[:-2])
        m, k, n = a._shape[-2], a._shape[-1], b._shape[-1]
        a3 = a.expand(batch + (m, k)).reshape((-1, m, k))
        b3 = b.expand(batch + (k, n)).reshape((-1, k, n))
        return _matmul_kernel(a3, b3).reshape(batch + (m, n))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga = sum_to_shape(_matmul_grad(grad, b.mT, a), a._shape) if ctx.needs_input_grad[0] \
            else None
        gb = sum_to_shape(_matmul_grad(a.mT, grad, b), b._shape) if ctx.needs_input_grad[1] \
            else None
        return ga, gb


def _matmul_grad(x: Tensor, y: Tensor, like: Tensor) -> Tensor:
    """x @ y, laid out like `like`: for a transposed input (as Linear's weight.t()), compute
    (y^T x^T)^T so the gradient comes out transposed too and needs no copy (as PyTorch does)."""
    if like.dim() >= 2 and _is_transposed(like):
        return (y.mT @ x.mT).mT
    return x @ y


def _is_transposed(t: Tensor) -> bool:
    """Column-major in its last two dims: a .t() / .mT of a contiguous matrix."""
    rows, cols = t._shape[-2:]
    return t._strides[-2] == 1 and t._strides[-1] == rows and rows > 1 and cols > 1


class BatchMatMul(MatMul):
    backward_name = "BmmBackward0"


class UnsafeMatMul(MatMul):
    backward_name = "UnsafeViewBackward0"


def _matmul_shape_error(a: Tensor, b: Tensor):
    ash = "x".join(map(str, a._shape if a.dim() != 1 else (1,) + a._shape))
    bsh = "x".join(map(str, b._shape if b.dim() != 1 else b._shape + (1,)))
    return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({ash} and {bsh})")


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """The matrix product with numpy's rules: 1-D operands are vectors, leading dims broadcast."""
    for name, t in (("input", input), ("other", other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"matmul(): argument '{name}' must be Tensor, not {type(t).__name__}")
        if t.dim() == 0:
            raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                               f"{input.dim()}D and {other.dim()}D")
    _same_device(input, other)
    _check_matmul_dtypes(input, other)
    a = input.unsqueeze(0) if input.dim() == 1 else input
    b = other.unsqueeze(-1) if other.dim() == 1 else other
    if a._shape[-1] != b._shape[-2]:
        raise _matmul_shape_error(input, other)
    cls = MatMul if a.dim() == 2 and b.dim() == 2 else UnsafeMatMul
    out = cls.apply(a, b)
    if input.dim() == 1:
        out = out.squeeze(-2)
    if other.dim() == 1:
        out = out.squeeze(-1)
    return out


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices (2-D only)."""
    if input.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"mm: expected 2D tensors, got {input.dim()}D and {mat2.dim()}D")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of (b, n, m) and (b, m, p) tensors (no broadcasting)."""
    if input.dim() != 3 or mat2.dim() != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor, batch2 must be a 3D tensor; got "
                           f"{input.dim()}D and {mat2.dim()}D")
    if input._shape[0] != mat2._shape[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input._shape[0]}, {input._shape[2]}] but got: "
                           f"[{mat2._shape[0]}, {mat2._shape[1]}].")
    if input._shape[2] != mat2._shape[1]:
        raise _matmul_shape_error(input, mat2)
    _check_matmul_dtypes(input, mat2)
    return BatchMatMul.apply(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    if input.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.dim()}D and "
                           f"{vec.dim()}D")
    return matmul(input, vec)


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input.dim() != 1 or other.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {other.dim()}D "
                           "tensors")
    if input._shape != other._shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input._shape[0]}] and "
                           f"src [{other._shape[0]}] to have the same number of elements, but got "
                           f"{input._shape[0]} and {other._shape[0]} elements respectively")
    return matmul(input, other)


inner = dot


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    return input.reshape((-1, 1)) * vec2.reshape((1, -1))


ger = outer


class Addmm(Function):
    """out = beta * bias + alpha * (A B);  the Linear layer's op (AddmmBackward0)"""
    backward_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, bias, a, b, beta, alpha):
        ctx.save_for_backward(a, b)
        ctx.bias_shape, ctx.beta, ctx.alpha = bias._shape, beta, alpha
        out = _mm(a, b)
        k, arr = _k(out), out._arr
        if alpha != 1:
            k.binary("mul", arr, _operand(alpha, out.dtype, out._shape, out.device), arr)
        scaled = bias if beta == 1 else binary_forward("mul", bias, beta)
        # the bias is added into the product in place: it is new, nobody else sees it yet
        k.binary("add", arr, _operand(scaled, out.dtype, out._shape, out.device), arr)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        g_bias = sum_to_shape(grad * ctx.beta if ctx.beta != 1 else grad, ctx.bias_shape) \
            if need[0] else None
        g = grad * ctx.alpha if ctx.alpha != 1 else grad
        return (g_bias, _matmul_grad(g, b.t(), a) if need[1] else None,
                _matmul_grad(a.t(), g, b) if need[2] else None, None, None)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2), input broadcast to the product's shape."""
    if mat1.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"addmm: expected 2D matrices, got {mat1.dim()}D and {mat2.dim()}D")
    if mat1._shape[1] != mat2._shape[0]:
        raise _matmul_shape_error(mat1, mat2)
    _check_matmul_dtypes(mat1, mat2)
    _same_device(input, mat1, mat2)
    broadcast_shapes(input._shape, (mat1._shape[0], mat2._shape[1]))
    return Addmm.apply(input, mat1, mat2, beta, alpha)


# ---------------------------------------------------------------------------------------- views


def _view_strides(t: Tensor, shape: tuple) -> tuple | None:
    """Strides that show `t`'s elements with a new `shape` without copying, or None if impossible.

    Dimensions of `t` that are laid out one after another in memory ("chunks") can be split or
    merged freely; a new dimension may not straddle two chunks (PyTorch's computeStride).
    """
    old_shape, old_strides = t._shape, t._strides
    if math.prod(old_shape) == 0 or not old_shape:
        return V.contiguous_strides(shape)
    new_strides = [0] * len(shape)
    view_d = len(shape) - 1
    chunk_base_stride = old_strides[-1]
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        # a chunk ends where the next (outer) dim does not continue this one in memory
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and
                             old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_strides[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_strides)


def _infer_shape(shape: Sequence[int], numel: int) -> tuple:
    """Replace a single -1 in `shape` by what makes the element count `numel`."""
    shape = tuple(builtins.int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    if builtins.any(s < 0 for s in shape):
        raise RuntimeError(f"invalid shape dimension {builtins.min(shape)}")
    return shape


class ViewFunction(Function):
    """A view: the output shares the input's storage with new (offset, shape, strides).

    `geometry(x, *args)` computes the new (offset, shape, strides); `backward` maps the gradient
    back to the input's shape.
    """

    @staticmethod
    def forward(ctx, x, *args):
        cls = type(ctx)._forward_cls
        offset, shape, strides = cls.geometry(x, *args)
        ctx.in_shape = x._shape
        ctx.args = args
        return x._as_view(offset, shape, strides)


class View(ViewFunction):
    """y = x seen with another shape;  dL/dx = dL/dy reshaped back"""
    backward_name = "ViewBackward0"

    @staticmethod
    def geometry(x, shape):
        strides = _view_strides(x, shape)
        if strides is None:
            raise RuntimeError("view size is not compatible with input tensor's size and stride "
                               "(at least one dimension spans across two contiguous subspaces). "
                               "Use .reshape(...) instead.")
        return x._offset, shape, strides

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


def _shape_args(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def view(input: Tensor, *shape) -> Tensor:
    """The same elements seen with a new shape, never copying (may contain one -1)."""
    if len(shape) == 1 and (isinstance(shape[0], V.dtype) or isinstance(shape[0], str)):
        raise NotImplementedError("view(dtype) reinterpretation is not supported by "
                                  "tinygrad_edu; use .to(dtype) to convert")
    return View.apply(input, _infer_shape(_shape_args(shape), input.numel()))


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return view(input, other._shape)


class Reshape(Function):
    """y = x with a new shape, copied only when a view is impossible;  dL/dx = dL/dy reshaped"""
    backward_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._shape
        out = _contiguous_copy(x)
        return out._as_view(0, shape, V.contiguous_strides(shape))

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


def reshape(input: Tensor, *shape) -> Tensor:
    """The elements in a new shape: a view when the strides allow it, otherwise a copy."""
    shape = _infer_shape(_shape_args(shape), input.numel())
    if shape == input._shape:
        return View.apply(input, shape) if input.requires_grad and _grad_enabled[0] else \
            input._as_view(input._offset, shape, input._strides)
    if _view_strides(input, shape) is not None:
        return View.apply(input, shape)
    return Reshape.apply(input, shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other._shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one."""
    nd = input.dim()
    if nd == 0:
        return reshape(input, (1,))
    s, e = _wrap_dim(start_dim, nd), _wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shape = input._shape[:s] + (math.prod(input._shape[s:e + 1]),) + input._shape[e + 1:]
    return reshape(input, shape)


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    d = _wrap_dim(dim, input.dim())
    sizes = _infer_shape(sizes, input._shape[d])
    return reshape(input, input._shape[:d] + tuple(sizes) + input._shape[d + 1:])


def ravel(input: Tensor) -> Tensor:
    return reshape(input, (-1,))


class Permute(ViewFunction):
    """y = x with its dimensions reordered;  dL/dx = dL/dy with the inverse order"""
    backward_name = "PermuteBackward0"

    @staticmethod
    def geometry(x, dims):
        return (x._offset, tuple(x._shape[d] for d in dims), tuple(x._strides[d] for d in dims))

    @staticmethod
    def backward(ctx, grad):
        dims, = ctx.args
        inverse = [0] * len(dims)
        for i, d in enumerate(dims):
            inverse[d] = i
        return grad.permute(inverse), None


class Transpose(Permute):
    backward_name = "TransposeBackward0"


def permute(input: Tensor, *dims) -> Tensor:
    """Reorder the dimensions: output dim i is input dim dims[i] (a view)."""
    dims = _shape_args(dims) if dims else ()
    nd = input.dim()
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    wrapped = tuple(_wrap_dim(d, nd) for d in dims)
    if len(set(wrapped)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, wrapped)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (a view: the strides swap, the storage stays)."""
    nd = input.dim()
    d0, d1 = _wrap_dim(dim0, nd), _wrap_dim(dim1, nd)
    if nd == 0:
        return input
    dims = list(range(nd))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Transpose.apply(input, tuple(dims))


swapaxes = swapdims = transpose


class T(Permute):
    backward_name = "TBackward0"


def t(input: Tensor) -> Tensor:
    """Transpose a matrix (0-D and 1-D tensors come back as they are)."""
    if input.dim() > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.dim()}D")
    return T.apply(input, (1, 0)) if input.dim() == 2 else input


def movedim(input: Tensor, source, destination) -> Tensor:
    nd = input.dim()
    src = (source,) if isinstance(source, builtins.int) else tuple(source)
    dst = (destination,) if isinstance(destination, builtins.int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    src = [_wrap_dim(d, nd) for d in src]
    dst = [_wrap_dim(d, nd) for d in dst]
    order = [None] * nd
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(nd) if d not in src)
    order = [next(rest) if o is None else o for o in order]
    return permute(input, order) if order != list(range(nd)) else input


moveaxis = movedim


class Unsqueeze(ViewFunction):
    """y = x with a new dimension of size 1 at `dim`;  dL/dx = dL/dy with it squeezed out"""
    backward_name = "UnsqueezeBackward0"

    @staticmethod
    def geometry(x, dim):
        stride = x._strides[dim] * x._shape[dim] if dim < len(x._shape) else 1
        return (x._offset, x._shape[:dim] + (1,) + x._shape[dim:],
                x._strides[:dim] + (stride,) + x._strides[dim:])

    @staticmethod
    def backward(ctx, grad):
        return grad.squeeze(ctx.args[0]), None


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at `dim` (a view)."""
    return Unsqueeze.apply(input, _wrap_dim(dim, input.dim() + 1))


class Squeeze(ViewFunction):
    """y = x without the size-1 dimensions `dims`;  dL/dx = dL/dy reshaped back"""
    backward_name = "SqueezeBackward0"

    @staticmethod
    def geometry(x, dims):
        keep = [i for i in range(len(x._shape)) if i not in dims]
        return (x._offset, tuple(x._shape[i] for i in keep), tuple(x._strides[i] for i in keep))

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class SqueezeDim(Squeeze):
    backward_name = "SqueezeBackward1"


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove dimensions of size 1 (only those in `dim`, if given)."""
    nd = input.dim()
    if dim is None:
        return Squeeze.apply(input, tuple(i for i, n in enumerate(input._shape) if n == 1))
    dims = (dim,) if isinstance(dim, (builtins.int, np.integer)) else tuple(dim)
    wrapped = tuple(_wrap_dim(d, nd) for d in dims)
    return SqueezeDim.apply(input, tuple(d for d in wrapped if nd and input._shape[d] == 1))


class Expand(ViewFunction):
    """y = x broadcast to a larger shape (stride 0 on the stretched dims, no copy);
    dL/dx = dL/dy summed over the stretched dims"""
    backward_name = "ExpandBackward0"

    @staticmethod
    def geometry(x, shape):
        return x._offset, shape, _broadcast_strides(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return sum_to_shape(grad, ctx.in_shape), None


def expand(input: Tensor, *sizes) -> Tensor:
    """Broadcast to `sizes` without copying (-1 keeps a size); only size-1 dims can grow."""
    sizes = _shape_args(sizes)
    nd = input.dim()
    if len(sizes) < nd:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(input._shape)}}}, size={list(sizes)}"
                           f"): the number of sizes provided ({len(sizes)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({nd})")
    pad = len(sizes) - nd
    shape = []
    for i, s in enumerate(sizes):
        old = input._shape[i - pad] if i >= pad else None
        if s == -1:
            if old is None:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            s = old
        if old is not None and old != 1 and old != s:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({old}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(input._shape)}")
        shape.append(builtins.int(s))
    shape = tuple(shape)
    if shape == input._shape:
        return input
    return Expand.apply(input, shape)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other._shape)


def broadcast_to(input: Tensor, shape) -> Tensor:
    return expand(input, tuple(shape))


def broadcast_tensors(*tensors: Tensor) -> tuple:
    shape = broadcast_shapes(*(t._shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


class Region(ViewFunction):
    """y = a sub-block of x (select, slice, narrow, diagonal, as_strided);
    dL/dx = zeros with dL/dy written into the same sub-block"""
    backward_name = "SliceBackward0"

    @staticmethod
    def backward(ctx, grad):
        cls = type(ctx)._forward_cls
        base = zeros(ctx.in_shape, dtype=grad.dtype, device=grad.device)
        if _grad_enabled[0]:  # differentiable scatter of grad into the block
            return _region_scatter(base, grad, cls, ctx.args), *([None] * len(ctx.args))
        offset, shape, strides = cls.geometry(base, *ctx.args)
        _k(base).copy(grad._view(), base._as_view(offset, shape, strides)._view())
        return (base,) + (None,) * len(ctx.args)


def _region_scatter(base: Tensor, grad: Tensor, cls, args) -> Tensor:
    """base with grad written into cls's region, built from differentiable ops (double backward)."""
    mask = zeros(base._shape, dtype=bool_, device=base.device)
    offset, shape, strides = cls.geometry(mask, *args)
    mask._as_view(offset, shape, strides)._view()[...] = True
    spread = zeros(base._shape, dtype=grad.dtype, device=grad.device)
    index = arange(base.numel(), device=base.device).reshape(base._shape)
    picked = index._as_view(offset, shape, strides).reshape(-1)
    flat = spread.reshape(-1).index_add(0, picked, grad.reshape(-1))
    return where(mask, flat.reshape(base._shape), base)


class Select(Region):
    """y = x[..., index, ...] along `dim` (one fewer dimension)"""
    backward_name = "SelectBackward0"

    @staticmethod
    def geometry(x, dim, index):
        return (x._offset + index * x._strides[dim], x._shape[:dim] + x._shape[dim + 1:],
                x._strides[:dim] + x._strides[dim + 1:])


class Slice(Region):
    """y = x[start:stop:step] along `dim`"""
    backward_name = "SliceBackward0"

    @staticmethod
    def geometry(x, dim, start, stop, step):
        n = builtins.max(0, (stop - start + step - 1) // step)
        return (x._offset + start * x._strides[dim] if n else x._offset,
                x._shape[:dim] + (n,) + x._shape[dim + 1:],
                x._strides[:dim] + (x._strides[dim] * step,) + x._strides[dim + 1:])


class Diagonal(Region):
    """y = the diagonal of x over dims (dim1, dim2), shifted by `offset`"""
    backward_name = "DiagonalBackward0"

    @staticmethod
    def geometry(x, offset, d1, d2):
        n1, n2 = x._shape[d1], x._shape[d2]
        length = builtins.max(0, builtins.min(n1, n2 - offset) if offset >= 0 else
                              builtins.min(n1 + offset, n2))
        start = x._offset
        if length:
            start += offset * x._strides[d2] if offset >= 0 else -offset * x._strides[d1]
        keep = [i for i in range(len(x._shape)) if i not in (d1, d2)]
        return (start, tuple(x._shape[i] for i in keep) + (length,),
                tuple(x._strides[i] for i in keep) + (x._strides[d1] + x._strides[d2],))


class AsStrided(Function):
    """y = x's memory seen with explicit geometry: y[i] = storage[offset + sum_d i_d * stride_d];
    dL/dx = at each of x's elements, the sum of dL/dy over the elements of y that are the same
    memory location (none, one, or several where y overlaps itself)"""
    backward_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, x, size, stride, offset):
        y = x._as_view(offset, size, stride)
        ctx.x, ctx.y = _Layout(x), _Layout(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        return ctx.x.from_memory(ctx.y.to_memory(grad)), None, None, None


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at `index` along `dim`, which disappears (a view): x.select(0, 1) is x[1]."""
    nd = input.dim()
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, nd)
    n = input._shape[d]
    index = builtins.int(index)
    if not -n <= index < n:
        raise IndexError(f"index {index} is out of bounds for dimension {d} with size {n}")
    return Select.apply(input, d, index % n)


def _slice(input: Tensor, dim: int, start, stop, step: int) -> Tensor:
    """input[start:stop:step] along dim, with Python's clamping of out-of-range bounds."""
    if step == 0:
        raise ValueError("slice step cannot be zero")   # PyTorch's words, as Python's
    if step is not None and step < 0:
        raise ValueError("step must be greater than zero")
    n = input._shape[dim]
    start, stop, step = slice(start, stop, step).indices(n)
    stop = builtins.max(stop, start)
    return Slice.apply(input, dim, start, stop, step)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """`length` elements along `dim` from `start` (a view)."""
    d = _wrap_dim(dim, input.dim())
    n = input._shape[d]
    if isinstance(start, Tensor):
        start = start.item()
    if start < 0:
        start += n
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return Slice.apply(input, d, start, start + length, 1)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    nd = input.dim()
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, offset, d1, d2)


def as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """A view with explicit geometry; every element it reaches must lie inside the storage."""
    size, stride = tuple(size), tuple(stride)
    offset = input._offset if storage_offset is None else storage_offset
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(size)} and "
                           f"{len(stride)}")
    if builtins.any(s < 0 for s in stride) or builtins.any(s < 0 for s in size):
        raise RuntimeError("as_strided: negative sizes and strides are not supported")
    last = offset + builtins.sum((n - 1) * s for n, s in zip(size, stride)) if 0 not in size \
        else offset
    if offset < 0 or last >= input._storage.size() and math.prod(size):
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset} require elements up to {last}, but the storage has "
                           f"only {input._storage.size()}")
    return AsStrided.apply(input, size, stride, offset)


class Unbind(Function):
    """(y_0, ..., y_n-1) = the slices of x along `dim`;  dL/dx = stack of the dL/dy_i"""
    backward_name = "UnbindBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim, ctx.shape = dim, x._shape
        shape = x._shape[:dim] + x._shape[dim + 1:]
        strides = x._strides[:dim] + x._strides[dim + 1:]
        step = x._strides[dim]  # slice i starts i steps along dim (Select.geometry, for all i)
        views = tuple([x._as_view(x._offset + i * step, shape, strides)
                       for i in range(x._shape[dim])])
        for i, v in enumerate(views):
            v._multi_output_of = ("Unbind", i)  # see _check_multi_output_view
        return views

    @staticmethod
    def backward(ctx, *grads):
        if _grad_enabled[0]:              # differentiating backward itself: record the stack
            return stack(grads, ctx.dim), None
        # plain backward: each slice's gradient copied straight into its place (an array view
        # of the slice is enough: no tensor object for it)
        g = V._new(ctx.shape, grads[0]._storage.dtype, grads[0]._storage.device)
        k, buffer = _k(g), g._storage._data
        for i, gi in enumerate(grads):
            k.copy(gi._view(), k.as_strided(buffer, *Select.geometry(g, ctx.dim, i)))
        return g, None


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """All slices along `dim`, each without that dimension (views)."""
    ndim = len(input._shape)
    if ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return Unbind.apply(input, _wrap_dim(dim, ndim))


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces along `dim`: of size `split_size` each (the last may be smaller), or of the sizes
    listed (which must add up to the dimension's size). Views."""
    d = _wrap_dim(dim, tensor.dim())
    n = tensor._shape[d]
    if isinstance(split_size_or_sections, (builtins.int, np.integer)):
        size = builtins.int(split_size_or_sections)
        if size <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = [builtins.min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sizes = [builtins.int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
    pieces, start = [], 0
    for i, s in enumerate(sizes):
        piece = narrow(tensor, d, start, s)
        piece._multi_output_of = ("Split", i)  # as PyTorch's split: see _check_multi_output_view
        pieces.append(piece)
        start += s
    return tuple(pieces)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """`chunks` pieces along `dim` of equal size ceil(n/chunks) (the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = input._shape[_wrap_dim(dim, input.dim())]
    return split(input, builtins.max(1, -(-n // chunks)), dim)


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    d = _wrap_dim(dim, input.dim())
    n = input._shape[d]
    if isinstance(indices_or_sections, builtins.int):
        k = indices_or_sections
        bounds = [i * (n // k) + builtins.min(i, n % k) for i in range(k + 1)]
    else:
        bounds = [0] + [builtins.min(builtins.max(i, 0), n) for i in indices_or_sections] + [n]
    return tuple(narrow(input, d, a, builtins.max(b - a, 0)) for a, b in zip(bounds, bounds[1:]))


# ---------------------------------------------------------------------------------------- copies


def _contiguous_copy(x: Tensor) -> Tensor:
    out = V._new(x._shape, x._storage.dtype, x._storage.device)
    _k(x).copy(x._view(), out._view())
    return out


class Clone(Function):
    """y = a copy of x in new storage;  dL/dx = dL/dy"""
    backward_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, x):
        return _contiguous_copy(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy of the elements in new, contiguous storage (differentiable)."""
    return Clone.apply(input)


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """The tensor itself if its strides are row-major, else a contiguous copy."""
    return input if input.is_contiguous() else Clone.apply(input)


class ToCopy(Function):
    """y = x converted to another dtype and/or device;  dL/dx = dL/dy converted back"""
    backward_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, dt, dev):
        ctx.dtype, ctx.device = x.dtype, x.device
        if dev == x.device:
            out = V._new(x._shape, dt, dev)
            _k(x).copy(x._view(), out._view())
            return out
        host = np.ascontiguousarray(x._host())
        if dt is not x.dtype:
            host = V._cast_host(host, dt)
        return V._from_array(V._to_device(np.array(host, copy=True), dev), dt, dev)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.dtype.is_floating_point:
            return None, None, None
        return grad.to(ctx.dtype, ctx.device), None, None


def to_copy(x: Tensor, dt: V.dtype, dev: V.device) -> Tensor:
    if dev.type == "cuda":
        kernels(dev)  # raises a clear error when CUDA is unavailable
    return ToCopy.apply(x, dt, dev)


# ---------------------------------------------------------------------------------------- joining


class Cat(Function):
    """y = x_0, x_1, ... joined along `dim`;  dL/dx_i = the slice of dL/dy that came from x_i"""
    backward_name = "CatBackward0"

    @staticmethod
    def forward(ctx, dim, dt, *tensors):
        parts = [t for t in tensors if not _skipped_in_cat(t, tensors)]
        shape = list(parts[0]._shape)
        shape[dim] = builtins.sum(t._shape[dim] for t in parts)
        out = V._new(tuple(shape), dt, tensors[0].device)
        k, start = _k(out), 0
        for t in parts:
            n = t._shape[dim]
            region = out._as_view(*Slice.geometry(out, dim, start, start + n, 1))
            k.copy(t._view(), region._view())
            start += n
        ctx.dim, ctx.sizes = dim, [t._shape[dim] for t in parts]
        ctx.inputs = [(t._shape, t.dtype, _skipped_in_cat(t, tensors)) for t in tensors]
        return out

    @staticmethod
    def backward(ctx, grad):
        pieces = iter(split(grad, ctx.sizes, ctx.dim))
        grads = []
        for shape, dt, skipped in ctx.inputs:
            p = zeros(shape, dtype=grad.dtype, device=grad.device) if skipped else next(pieces)
            grads.append(p.to(dt) if dt is not p.dtype else p)
        return (None, None) + tuple(grads)


def _skipped_in_cat(t: Tensor, tensors) -> bool:
    """PyTorch's legacy rule: 1-D empty tensors are skipped when the others are not 1-D."""
    return t.dim() == 1 and t._shape[0] == 0 and builtins.any(x.dim() != 1 for x in tensors)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension; all other sizes must agree."""
    if isinstance(tensors, Tensor):
        raise TypeError("cat(): argument 'tensors' must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(x).__name__}")
    _same_device(*tensors)
    parts = [x for x in tensors if not _skipped_in_cat(x, tensors)]
    ref = parts[0]
    if ref.dim() == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _wrap_dim(dim, ref.dim())
    for i, x in enumerate(parts):
        if x.dim() != ref.dim():
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.dim()} "
                               f"and {x.dim()}")
        for j in range(ref.dim()):
            if j != d and x._shape[j] != ref._shape[j]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref._shape[j]} but got size {x._shape[j]} "
                                   f"for tensor number {i} in the list.")
    dt = parts[0].dtype
    for x in parts[1:]:
        dt = V.promote_types(dt, x.dtype)
    return Cat.apply(d, dt, *tensors)


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join equal-shaped tensors along a new dimension `dim`."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, x in enumerate(tensors[1:], 1):
        if x._shape != tensors[0]._shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(tensors[0]._shape)} at entry 0 and {list(x._shape)} at "
                               f"entry {i}")
    d = _wrap_dim(dim, tensors[0].dim() + 1)
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(x).__name__}")
    _same_device(*tensors)
    dt = tensors[0].dtype
    for x in tensors[1:]:
        dt = V.promote_types(dt, x.dtype)
    return Stack.apply(d, dt, *tensors)


class Stack(Function):
    """y = x_0, x_1, ... stacked along a new dim;  dL/dx_i = the i-th slice of dL/dy"""
    backward_name = "StackBackward0"

    @staticmethod
    def forward(ctx, dim, dt, *tensors):
        ctx.dim, ctx.dtypes = dim, [t.dtype for t in tensors]
        views = [t._as_view(*Unsqueeze.geometry(t, dim)) for t in tensors]
        return Cat.forward(Cat._idle_ctx, dim, dt, *views)

    @staticmethod
    def backward(ctx, grad):
        pieces = unbind(grad, ctx.dim)
        return (None, None) + tuple(p.to(d) if d is not p.dtype else p
                                    for p, d in zip(pieces, ctx.dtypes))


def hstack(tensors) -> Tensor:
    tensors = [x if x.dim() else x.reshape(1) for x in tensors]
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


def vstack(tensors) -> Tensor:
    return cat([x.reshape(1, -1) if x.dim() < 2 else x for x in tensors], 0)


def repeat(input: Tensor, *sizes) -> Tensor:
    """Tile the tensor `sizes[i]` times along each dimension (a copy)."""
    sizes = _shape_args(sizes)
    if len(sizes) < input.dim():
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    x = input.reshape((1,) * (len(sizes) - input.dim()) + input._shape)
    # insert a broadcast dim before each dim, expand it to the repeat count, then merge
    expanded = []
    for i, (r, n) in enumerate(zip(sizes, x._shape)):
        expanded += [r, n]
    y = x.reshape(tuple(v for n in x._shape for v in (1, n))).expand(tuple(expanded))
    out = y.reshape(tuple(r * n for r, n in zip(sizes, x._shape)))
    return out.clone() if out._storage is input._storage else out  # (repeat(1): still a copy)


def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order of elements along `dims` (a copy)."""
    dims = (dims,) if isinstance(dims, builtins.int) else tuple(dims)
    if not dims:
        return input.clone()  # flip(()) flips nothing, but is still a copy
    out = input
    for d in dims:
        d = _wrap_dim(d, input.dim())
        idx = arange(input._shape[d] - 1, -1, -1, device=input.device)
        out = IndexSelect.apply(out, d, idx)  # in range by construction: no check to pay for
    return out


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    if dims is None:
        return roll(input.reshape(-1), shifts, 0).reshape(input._shape)
    shifts = (shifts,) if isinstance(shifts, builtins.int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, builtins.int) else tuple(dims)
    out = input
    for s, d in zip(shifts, dims):
        d = _wrap_dim(d, input.dim())
        n = input._shape[d]
        if n:
            idx = (arange(n, device=input.device) - s) % n
            out = index_select(out, d, idx)
    return out


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    rows, cols = input._shape[-2:]
    keep = _column_minus_row(rows, cols, input.device) <= diagonal
    return where(keep, input, zeros((), dtype=input.dtype, device=input.device))


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    rows, cols = input._shape[-2:]
    keep = _column_minus_row(rows, cols, input.device) >= diagonal
    return where(keep, input, zeros((), dtype=input.dtype, device=input.device))


def _column_minus_row(rows: int, cols: int, dev: V.device) -> Tensor:
    """The (rows, cols) table of j - i, made on `dev`: which diagonal each element is on."""
    return arange(cols, device=dev).unsqueeze(0) - arange(rows, device=dev).unsqueeze(1)


# ---------------------------------------------------------------------------------------- cumulative


def _cumulative_forward(op: str, x: Tensor, dim: int) -> Tensor:
    """The running sums (op "cumsum") or products ("cumprod") of x along dim, by the device's
    primitive: floats keep their dtype (accumulated in float64), integers and bools give int64."""
    out = V._new(x._shape, _sum_dtype(x, None), x.device)
    if x.dim() == 0:                      # one element: scan it as a 1-D tensor of one
        x, view = x.reshape(1), out._as_view(0, (1,), (1,))
    else:
        view = out
    getattr(_k(x), op)(x._view(), dim, view._view())
    return out


def _reverse_cumsum(t: Tensor, dim: int) -> Tensor:
    """s_i = t_i + t_i+1 + ... + t_n-1 along dim."""
    return t.flip(dim).cumsum(dim).flip(dim)


class CumSum(Function):
    """y_i = x_0 + ... + x_i along `dim`;  dL/dx_i = dL/dy_i + ... + dL/dy_n-1 (a reversed cumsum)"""
    backward_name = "CumsumBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return _cumulative_forward("cumsum", x, dim)

    @staticmethod
    def backward(ctx, grad):
        return (_reverse_cumsum(grad, ctx.dim) if grad.dim() else grad), None


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sums along `dim`."""
    x = input if dtype is None else input.to(V.as_dtype(dtype))
    return CumSum.apply(x, _wrap_dim(dim, x.dim()))


class CumProd(Function):
    """y_i = x_0 * ... * x_i along `dim`;  dL/dx_i = sum over j >= i of dL/dy_j * y_j / x_i,
    which is (reversed cumsum of dL/dy * y) / x_i where no zero comes at or before i.
    A zero breaks that division, so, with z the position of the first zero of a row:
        i < z:  the formula above (x_i is not 0);
        i > z:  0 (every product y_j, j >= i, contains the factor x_z = 0);
        i = z:  (x_0 * ... * x_z-1) * sum over j >= z of dL/dy_j * (x_z+1 * ... * x_j),
                a running product that skips x_z (and everything before it)."""
    backward_name = "CumprodBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        y = _cumulative_forward("cumprod", x, dim)
        ctx.save_for_backward(x, y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        if x.dim() == 0:                                      # y = x
            return grad, None
        d = ctx.dim
        zeros_so_far = (x == 0).cumsum(d)
        before = zeros_so_far == 0                            # i < z
        at_first_zero = (x == 0) & (zeros_so_far == 1)        # i = z
        one = ones((), dtype=x.dtype, device=x.device)
        x_before = where(before, x, one)
        no_zero_yet = _reverse_cumsum(grad * y, d) / x_before
        prefix = x_before.cumprod(d)                          # x_0 * ... * x_z-1 at z
        suffix = where(before | at_first_zero, one, x).cumprod(d)  # x_z+1 * ... * x_j at j
        at_zero = prefix * _reverse_cumsum(grad * suffix, d)
        g = where(before, no_zero_yet, where(at_first_zero, at_zero, zeros_like(x)))
        return g, None


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running products along `dim`."""
    x = input if dtype is None else input.to(V.as_dtype(dtype))
    return CumProd.apply(x, _wrap_dim(dim, x.dim()))


# ---------------------------------------------------------------------------------------- indexing ops


class Gather(Function):
    """y[i][j] = x[index[i][j]][j] (dim 0);  dL/dx = zeros with dL/dy added at the gathered
    positions (scatter_add)"""
    backward_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, x, dim, index):
        out = V._new(index._shape, x.dtype, x.device)
        _k(x).gather(_narrow_to_index(x, dim, index)._view(), dim, index._view(), out._view())
        ctx.save_for_backward(index)
        ctx.dim, ctx.shape = dim, x._shape
        return out

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        g = zeros(ctx.shape, dtype=grad.dtype, device=grad.device)
        # index was checked by gather: straight to the Function, no second check (on CUDA
        # each check is a transfer)
        return Scatter.apply(g, ctx.dim, index, grad, "add"), None, None


def _check_index_tensor(op: str, index: Tensor, x: Tensor, dim: int,
                        sizes_from: Tensor | None) -> Tensor:
    """Validate an index tensor for gather/scatter: int64 or int32 (returned as int64, what the
    kernels take), same rank, every value in range."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype is V.int32:
        index = index.to(int64)
    if index.dtype is not int64:
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index, got {index.dtype}")
    if index.dim() != x.dim() and not (index.dim() <= 1 and x.dim() <= 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as "
                           f"{'input' if op == 'gather' else 'self'} tensor ({index.dim()} vs "
                           f"{x.dim()})")
    for d in range(index.dim()):
        if d != dim and index._shape[d] > x._shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(index._shape)} to be smaller than self "
                               f"{list(x._shape)} apart from dimension {dim}")
        if sizes_from is not None and index._shape[d] > sizes_from._shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(index._shape)} to be smaller than src "
                               f"{list(sizes_from._shape)}")
    # PyTorch reports gather's and scatter's bad indices as RuntimeError (index_select's as
    # IndexError), so that is what code written for it catches
    _check_range(op, index, dim, x._shape[dim] if x.dim() else 1, RuntimeError)
    return index


def _check_range(op: str, index: Tensor, dim: int, n: int, error: type = IndexError) -> None:
    """Every index in [0, n), checked before a kernel trusts them."""
    if index.numel():
        lo, hi = _min_max(index)
        if lo < 0 or hi >= n:
            bad = lo if lo < 0 else hi
            raise error(f"{op}(): index {bad} is out of bounds for dimension {dim} with size {n}")


def _min_max(t: Tensor) -> tuple:
    """(min, max) of the non-empty tensor `t` as Python numbers, for checks that must read them
    (an index's range). The two are reduced on t's own device, so only two numbers travel, in
    one transfer: that is the `.item()` such a check cannot avoid. On the CPU numpy reads the
    values in place."""
    if t._storage.device.type == "cpu":
        host = t._view()
        return host.min().item(), host.max().item()
    dims = tuple(range(t.dim()))
    return tuple(_read_scalars(reduce_forward("min", t, dims, False, t.dtype),
                               reduce_forward("max", t, dims, False, t.dtype)))


def _read_scalars(*scalars: Tensor) -> list:
    """The values of a few 0-d tensors of one device and dtype as Python numbers, in a single
    transfer: they are stacked into one small array on the device, and that comes back."""
    return stack(scalars).tolist()


def _narrow_to_index(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """x restricted to index's extent in every dimension but `dim` (a view, no autograd): the
    kernels then see arrays whose shapes agree everywhere except along `dim`."""
    for d, n in enumerate(index._shape):
        if d != dim and n != x._shape[d]:
            x = x._as_view(*Slice.geometry(x, d, 0, n, 1))
    return x


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """Pick, along `dim`, the elements named by `index`: out[i][j] = input[index[i][j]][j]."""
    d = _wrap_dim(dim, input.dim())
    index = _check_index_tensor("gather", index, input, d, None)
    _same_device(input, index)
    return Gather.apply(input, d, index)


class Scatter(Function):
    """y = x with y[index[i][j]][j] = src[i][j] (dim 0);  dL/dx = dL/dy with the overwritten
    positions zeroed, dL/dsrc = dL/dy gathered at index"""
    backward_name = "ScatterBackward0"

    @staticmethod
    def forward(ctx, x, dim, index, src, reduce):
        out = _contiguous_copy(x)
        if isinstance(src, Tensor):  # only src's first index-shaped block is used
            src_arr = _narrow_to_shape(src, index._shape)._view()
        else:
            src_arr = _operand(src, x.dtype, index._shape, x.device)
        target = _narrow_to_index(out, dim, index)
        _k(x).scatter(target._view(), dim, index._view(), src_arr, reduce)
        ctx.save_for_backward(index)
        ctx.dim, ctx.reduce = dim, reduce
        ctx.src_shape = src._shape if isinstance(src, Tensor) else None
        return out

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        need = ctx.needs_input_grad
        if ctx.reduce == "multiply":
            raise RuntimeError("scatter with reduce='multiply' is not differentiable in "
                               "tinygrad_edu")
        gx = gsrc = None
        if need[0]:
            gx = grad if ctx.reduce == "add" else Scatter.apply(grad, ctx.dim, index, 0.0, None)
        if need[3] and ctx.src_shape is not None:
            gsrc = Gather.apply(grad, ctx.dim, index)   # index checked by scatter already
            if gsrc._shape != ctx.src_shape:
                gsrc = _pad_to(gsrc, ctx.src_shape)
        return gx, None, None, gsrc, None


def _narrow_to_shape(t: Tensor, shape: tuple) -> Tensor:
    for d, n in enumerate(shape):
        if n != t._shape[d]:
            t = t._as_view(*Slice.geometry(t, d, 0, n, 1))
    return t


def _pad_to(g: Tensor, shape: tuple) -> Tensor:
    out = zeros(shape, dtype=g.dtype, device=g.device)
    region = out[tuple(slice(0, n) for n in g._shape)]
    _k(out).copy(g._view(), region._view())
    return out


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None,
            reduce: str | None = None) -> Tensor:
    """A copy of input with values written at `index` along `dim`: out[index[i][j]][j] = src[i][j]
    (dim 0). `src` may be a tensor or a number (`value=`); `reduce` "add" or "multiply"."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter(): expected a src tensor or a value")
    d = _wrap_dim(dim, input.dim())
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce!r}")
    index = _check_index_tensor("scatter", index, input, d,
                                src if isinstance(src, Tensor) else None)
    if isinstance(src, Tensor):
        _same_device(input, index, src)
        if src.dtype is not input.dtype:
            raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype "
                               f"({input.dtype} vs {src.dtype})")
    return Scatter.apply(input, d, index, src, reduce)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of input with src added at `index` along `dim` (repeated indices accumulate)."""
    return scatter(input, dim, index, src, reduce="add")


class IndexSelect(Function):
    """y = the slices of x at `index` along `dim`;  dL/dx = zeros with dL/dy added back there"""
    backward_name = "IndexSelectBackward0"

    @staticmethod
    def forward(ctx, x, dim, index):
        shape = x._shape[:dim] + (index.numel(),) + x._shape[dim + 1:]
        out = V._new(shape, x.dtype, x.device)
        _k(x).index_select(x._view(), dim, index.reshape(-1)._view(), out._view())
        ctx.save_for_backward(index)
        ctx.dim, ctx.shape = dim, x._shape
        return out if x.dim() else out.reshape(())

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        g = zeros(ctx.shape, dtype=grad.dtype, device=grad.device)
        if not ctx.shape:
            return grad, None, None
        # index was checked by index_select: no second check
        return IndexAdd.apply(g, ctx.dim, index.reshape(-1), grad, 1), None, None


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of input at the positions in the 1-D integer tensor `index`, along `dim`."""
    d = _wrap_dim(dim, input.dim())
    if not isinstance(index, Tensor) or index.dtype not in (int64, V.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index.dim() > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    _check_range("index_select", index, d, input._shape[d] if input.dim() else 1)
    _same_device(input, index)
    return IndexSelect.apply(input, d, index.to(int64))


class IndexAdd(Function):
    """y = x with src's slices added at `index` along `dim`;  dL/dx = dL/dy,
    dL/dsrc = dL/dy selected at index"""
    backward_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx, x, dim, index, src, alpha):
        out = _contiguous_copy(x)
        s = src if alpha == 1 else binary_forward("mul", src, alpha)
        s = s if s.dtype is x.dtype else _cast(s, x.dtype)
        _k(x).index_add(out._view(), dim, index._view(), s._view())
        ctx.save_for_backward(index)
        ctx.dim, ctx.alpha = dim, alpha
        return out

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        gsrc = IndexSelect.apply(grad, ctx.dim, index) if ctx.needs_input_grad[3] else None
        if gsrc is not None and ctx.alpha != 1:
            gsrc = gsrc * ctx.alpha
        return grad, None, None, gsrc, None


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of input with source's slices added at the positions `index` along `dim`."""
    d = _wrap_dim(dim, input.dim())
    if index.dim() > 1 or index.dtype not in (int64, V.int32):
        raise RuntimeError("index_add_(): Index is supposed to be a vector of int64")
    expected = input._shape[:d] + (index.numel(),) + input._shape[d + 1:]
    if source._shape != expected and not (input.dim() == 0 and source.numel() == index.numel()):
        raise RuntimeError(f"index_add_(): source shape {list(source._shape)} does not match "
                           f"the expected {list(expected)}")
    _check_range("index_add", index, d, input._shape[d] if input.dim() else 1)
    return IndexAdd.apply(input, d, index.to(int64), source, alpha)


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """A copy of input with `value` wherever the bool `mask` (broadcast) is True."""
    if mask.dtype is not bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype}")
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.dim()} dimension(s).")
        value = value.to(input.dtype)
    else:
        value = full((), value, dtype=input.dtype, device=input.device)
    broadcast_shapes(input._shape, mask._shape)
    _same_device(input, mask)
    out = MaskedFill.apply(mask, value, input)
    if out._shape != input._shape:
        raise RuntimeError(f"masked_fill: mask of shape {list(mask._shape)} cannot broadcast to "
                           f"the input's shape {list(input._shape)}")
    return out


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements where `mask` is True, as a 1-D tensor."""
    shape = broadcast_shapes(input._shape, mask._shape)
    return input.expand(shape)[mask.expand(shape)]


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """The indices of the nonzero elements: an (n, ndim) int64 tensor, or one tensor per dim."""
    idx = _k(input).nonzero(input._view())
    out = V._from_array(idx, int64, input.device) if input.device.type == "cpu" else \
        V._from_array(idx, int64, input.device)
    if as_tuple:
        if input.dim() == 0:
            return (zeros(builtins.int(builtins.bool(input.item())), dtype=int64),)
        return tuple(out[:, d] for d in range(input.dim()))
    return out


def argwhere(input: Tensor) -> Tensor:
    return nonzero(input)


return_types_sort, return_types_topk = _return_type("sort"), _return_type("topk")


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """The elements sorted along `dim`, with the indices they came from (stable sort)."""
    if input.dim() == 0:
        return return_types_sort(input.clone(), zeros((), dtype=int64, device=input.device))
    d = _wrap_dim(dim, input.dim())
    idx = V._new(input._shape, int64, input.device)
    values = V._new(input._shape, input.dtype, input.device)
    _k(input).sort(input._view(), d, descending, values._view(), idx._view())
    if input.requires_grad and _grad_enabled[0]:
        values = gather(input, d, idx)
    return return_types_sort(values, idx)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    return sort(input, dim, descending, stable).indices


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The k largest (or smallest) elements along `dim` and their indices."""
    d = _wrap_dim(dim, input.dim())
    n = input._shape[d] if input.dim() else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range: k={k} for a dimension of size {n}")
    _, idx = sort(input.detach(), d, descending=largest)
    idx = idx.narrow(d, 0, k) if input.dim() else idx
    return return_types_topk(gather(input, d, idx) if input.dim() else input.clone(), idx)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    d = _wrap_dim(dim, input.dim())
    _, idx = sort(input.detach(), d)
    i = idx.narrow(d, k - 1, 1)
    v = gather(input, d, i)
    return return_types_kthvalue(v if keepdim else v.squeeze(d), i if keepdim else i.squeeze(d))


def median(input: Tensor, dim=None, keepdim: bool = False):
    """The lower median (as PyTorch: the ((n-1)//2)-th smallest)."""
    if dim is None:
        return MedianAll.apply(input)
    n = input._shape[_wrap_dim(dim, input.dim())]
    return return_types_median(*kthvalue(input, (n - 1) // 2 + 1, dim, keepdim))


class MedianAll(Function):
    """m = the lower median of all the elements;  dm/dx: the gradient shared evenly by the
    elements equal to m (as PyTorch's, rather than all of it to one of them)"""
    backward_name = "MedianBackward0"

    @staticmethod
    def forward(ctx, x):
        flat = x.reshape(-1)
        m = kthvalue(flat, (flat.numel() - 1) // 2 + 1, 0).values
        ctx.save_for_backward(x, m)
        return m

    @staticmethod
    def backward(ctx, grad):
        x, m = ctx.saved_tensors
        ties = x == m
        return where(ties, grad / ties.sum(), zeros_like(x))


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim=None):
    """The distinct elements, in ascending order (numpy's unique on the host)."""
    if dim is not None:
        raise NotImplementedError("unique(dim=...) is not supported by tinygrad_edu")
    values, inverse, counts = np.unique(input._host(), return_inverse=True, return_counts=True)
    out = [V._from_array(V._to_device(values, input.device), input.dtype, input.device)]
    if return_inverse:
        out.append(V._from_array(V._to_device(inverse.reshape(input._shape).astype(np.int64),
                                              input.device), int64, input.device))
    if return_counts:
        out.append(V._from_array(V._to_device(counts.astype(np.int64), input.device), int64,
                                 input.device))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    if input.dim() != 1 or input.dtype.is_floating_point:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    host = input._host()
    if host.size and host.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    w = None if weights is None else weights._host()
    counts = np.bincount(host, w, minlength)
    dt = int64 if weights is None else weights.dtype
    return V._from_array(V._to_device(counts.astype(dt.np_dtype), input.device), dt, input.device)


# ---------------------------------------------------------------------------------------- composites
# Ops built from the ops above: their gradients come from the chain rule through those ops.


def sinh(input: Tensor) -> Tensor:
    """(e^x - e^-x) / 2"""
    return (input.exp() - (-input).exp()) * 0.5


def cosh(input: Tensor) -> Tensor:
    """(e^x + e^-x) / 2"""
    return (input.exp() + (-input).exp()) * 0.5


def atan(input: Tensor) -> Tensor:
    return atan2(input, ones_like(input))


def asin(input: Tensor) -> Tensor:
    return atan2(input, (1 - input * input).sqrt())


def acos(input: Tensor) -> Tensor:
    return atan2((1 - input * input).sqrt(), input)


def log10(input: Tensor) -> Tensor:
    return input.log() * (1 / math.log(10.0))


def exp2(input: Tensor) -> Tensor:
    return pow(2.0, input)


def frac(input: Tensor) -> Tensor:
    return input - input.trunc()


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along `dim` (the fused op lives in nn.functional)."""
    from tinygrad_edu.nn import functional as nnf
    return nnf.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """x_i - log sum_j exp(x_j) along `dim` (the fused op lives in nn.functional)."""
    from tinygrad_edu.nn import functional as nnf
    return nnf.log_softmax(input, dim, dtype=dtype)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D tensor becomes a square matrix with it on the `diagonal`; a matrix gives its
    diagonal as a 1-D tensor."""
    if input.dim() == 2:
        return input.diagonal(diagonal).clone()
    if input.dim() != 1:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.dim()}D")
    n = input._shape[0] + builtins.abs(diagonal)
    rows = arange(input._shape[0], device=input.device) + builtins.max(-diagonal, 0)
    cols = rows + diagonal
    flat = zeros(n * n, dtype=input.dtype, device=input.device)
    return flat.index_add(0, rows * n + cols, input).reshape(n, n)


def trace(input: Tensor) -> Tensor:
    if input.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    return input.diagonal().sum()


def diff(input: Tensor, n: int = 1, dim: int = -1) -> Tensor:
    """Differences of neighbours along `dim`, taken `n` times."""
    d = _wrap_dim(dim, input.dim())
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    if n == 0:
        return input.clone()  # no differences taken, but a new tensor all the same
    out = input
    for _ in range(n):
        length = out._shape[d]
        out = out.narrow(d, 1, length - 1) - out.narrow(d, 0, length - 1)
    return out


def take(input: Tensor, index: Tensor) -> Tensor:
    """The elements of the flattened input at `index` (any shape)."""
    return input.reshape(-1)[index]


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    if dim is None:
        return input.reshape(-1).gather(0, indices.reshape(-1))
    d = _wrap_dim(dim, input.dim())
    shape = list(broadcast_shapes(input._shape, indices._shape))
    shape_in, shape_idx = list(shape), list(shape)
    shape_in[d], shape_idx[d] = input._shape[d], indices._shape[d]
    return input.expand(shape_in).gather(d, indices.expand(shape_idx))


def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    """Coordinate grids: output k varies along dimension k (with indexing="ij")."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                         f"received: {indexing}")
    ts = list(tensors)
    if indexing == "xy" and len(ts) >= 2:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.numel() for t in ts)
    grids = []
    for k, t in enumerate(ts):
        view_shape = [1] * len(ts)
        view_shape[k] = -1
        grids.append(t.reshape(view_shape).expand(shape))
    if indexing == "xy" and len(grids) >= 2:  # "xy" is "ij" with the first two swapped
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def nansum(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return where(input.isnan(), zeros_like(input), input).sum(dim, keepdim)


def nanmean(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    keep = logical_not(input.isnan())
    return nansum(input, dim, keepdim) / keep.sum(dim, keepdim)


def einsum(equation: str, *operands) -> Tensor:
    """Sums of products over named indices, e.g. "ij,jk->ik" (matmul) or "...chw,c->...hw".

    Every operand is laid out over one shared list of index letters (permute + reshape adding
    size-1 dims), the operands are multiplied with broadcasting, and the letters missing from
    the output are summed away. Simple, differentiable, and fine for the small shapes of lessons
    (it materialises the full product).
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    inputs, arrow, output = equation.replace(" ", "").partition("->")
    specs = inputs.split(",")
    if len(specs) != len(operands):
        raise RuntimeError(f"einsum(): {len(specs)} operand subscripts for {len(operands)} "
                           "operands")
    ell = builtins.max((t.dim() - len(sp.replace("...", "")) for sp, t in zip(specs, operands)
                        if "..." in sp), default=0)
    ell_letters = [chr(0x3B1 + i) for i in range(ell)]  # Greek letters stand for the "..." dims
    specs = [_expand_ellipsis_spec(sp, t, ell_letters) for sp, t in zip(specs, operands)]
    if not arrow:
        counts = {}
        for sp in specs:
            for c in sp:
                counts[c] = counts.get(c, 0) + 1
        output = "".join(ell_letters) + "".join(sorted(c for c, n in counts.items()
                                                       if n == 1 and c not in ell_letters))
    else:
        output = output.replace("...", "".join(ell_letters))
    letters = list(output) + sorted({c for sp in specs for c in sp} - set(output))
    product = None
    for sp, t in zip(specs, operands):
        if len(sp) != t.dim():
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(sp)}) "
                               f"does not match the number of dimensions ({t.dim()}) for "
                               "an operand")
        t = _diagonal_of_repeats(t, sp)
        sp = "".join(dict.fromkeys(sp))
        order = sorted(range(len(sp)), key=lambda i: letters.index(sp[i]))
        t = t.permute(order) if order != list(range(len(sp))) else t
        present = [sp[i] for i in order]
        shape = [t._shape[present.index(c)] if c in present else 1 for c in letters]
        t = t.reshape(shape)
        product = t if product is None else product * t
    summed = tuple(range(len(output), len(letters)))
    return product.sum(summed) if summed else product


def _expand_ellipsis_spec(spec: str, t: Tensor, ell_letters: list) -> str:
    if "..." not in spec:
        return spec
    n = t.dim() - len(spec.replace("...", ""))
    return spec.replace("...", "".join(ell_letters[len(ell_letters) - n:]))


def _diagonal_of_repeats(t: Tensor, spec: str) -> Tensor:
    """"ii->i" style repeated letters: take the diagonal over the repeated dims."""
    while len(set(spec)) != len(spec):
        for i, c in enumerate(spec):
            j = spec.find(c, i + 1)
            if j != -1:
                t = t.diagonal(0, i, j)
                spec = spec[:i] + spec[i + 1:j] + spec[j + 1:] + c
                break
    return t


# ---------------------------------------------------------------------------------------- comparisons


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True if |input - other| <= atol + rtol |other| everywhere (broadcasting)."""
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan).all())


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{input.dtype} did not match {other.dtype}")
    a, b = input.detach(), other.detach()
    if not a.dtype.is_floating_point:
        return a == b
    close = (a - b).abs() <= atol + rtol * b.abs()
    close = close | (a == b)  # infinities of the same sign
    if equal_nan:
        close = close | (a.isnan() & b.isnan())
    return close


def equal(input: Tensor, other: Tensor) -> bool:
    """True if both have the same shape and elements."""
    return input._shape == other._shape and builtins.bool((input == other).all())


# ---------------------------------------------------------------------------------------- in place


def _can_cast(src: V.dtype, dst: V.dtype) -> bool:
    """Whether an in-place op may store a result of dtype `src` into a tensor of dtype `dst`."""
    return src.category <= dst.category


def _check_inplace(self: Tensor) -> None:
    """Refuse what no in-place op may do (PyTorch's check_inplace): overwrite a leaf that
    requires grad, or a view of one, while gradients are recorded (its .grad would belong to
    values that no longer exist), or write read-only memory."""
    if _grad_enabled[0]:
        base = self._base
        if base is None:
            if self._requires_grad and self._grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an "
                                   "in-place operation.")
        elif base._requires_grad and base._grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in "
                               "an in-place operation.")
    data = self._storage._data
    if type(data) is np.ndarray and not data.flags.writeable:  # (CUDA memory is never read-only)
        raise RuntimeError("this tensor's memory is read-only: it shares a non-writable numpy "
                           "array (from_numpy); copy the array, or make it writable, first")


def _check_no_overlap(out: Tensor, *inputs) -> None:
    """Refuse, as PyTorch does, a write whose result would depend on the order in which the
    elements are written: into a tensor some of whose elements share memory (an expand's
    stride 0), or from an input that partly overlaps the output (b[1:] = b[:-1] would smear
    b[0] along). A full overlap (x += x: each element reads itself) is fine."""
    for n, st in zip(out._shape, out._strides):
        if st == 0 and n > 1:
            raise RuntimeError("unsupported operation: more than one element of the written-to "
                               "tensor refers to a single memory location. Please clone() the "
                               "tensor before performing the operation.")
    for x in inputs:
        if isinstance(x, Tensor) and x._storage is out._storage and _partly_overlap(out, x):
            raise RuntimeError("unsupported operation: some elements of the input tensor and the "
                               "written-to tensor refer to a single memory location. Please "
                               "clone() the tensor before performing the operation.")


def _partly_overlap(a: Tensor, b: Tensor) -> bool:
    """Do two views of one storage share some elements without being the same elements in the
    same order? Decided, as in PyTorch, only for views that each fill a run of memory with no
    gaps (anything else — every other element, say — is given the benefit of the doubt)."""
    if a is b or not (a.numel() and b.numel() and _dense(a) and _dense(b)):
        return False
    a_end, b_end = a._offset + a.numel(), b._offset + b.numel()
    if (a._offset, a_end) == (b._offset, b_end):
        return a._strides != b._strides   # the same run, in another order (x and x.t())
    return a._offset < b_end and b._offset < a_end


def _dense(t: Tensor) -> bool:
    """Does t cover a run of memory exactly, in some order of its dimensions (a permutation of
    a contiguous tensor)?"""
    dims = sorted((st, n) for n, st in zip(t._shape, t._strides) if n != 1)
    expected = 1
    for st, n in dims:
        if st != expected:
            return False
        expected *= n
    return True


def _needs_graph(self: Tensor, args) -> bool:
    if not _grad_enabled[0]:
        return False
    if self.requires_grad:
        return True
    for a in args:  # a loop, not any(generator): this runs in every optimizer step
        if isinstance(a, Tensor) and a.requires_grad:
            return True
    return False


def _inplace(self: Tensor, compute, *args, reads_self: bool = True) -> Tensor:
    """Write `compute(self, *args)` into self's elements, keeping autograd history right.

    Without a graph to record, the result is computed and copied in. With one, an in-place op
    is its out-of-place twin plus a write (PyTorch's model):
      - the twin runs on a snapshot of self's values when its derivative reads them
        (`reads_self`: x.mul_(y) needs the old x; x.add_(y) does not), since the write
        overwrites them;
      - self takes over the result's history; for a view, its base records the write instead
        (CopySlices: base' = base with the view's region replaced), and every view of that
        base, this one included, then reads its history through the base (Tensor.grad_fn).
    """
    _check_inplace(self)
    _check_no_overlap(self)  # (compute works out of place: no input can overlap the output)
    if not _needs_graph(self, args):
        prev = _grad_enabled[0]
        _grad_enabled[0] = False
        try:
            result = compute(self, *args)
        finally:
            _grad_enabled[0] = prev
        _store(self, result)
        self._version[0] += 1
        return self
    if self._base is not None:
        _check_multi_output_view(self)
    result = compute(_snapshot(self) if reads_self else self, *args)
    _check_storable(self, result)
    if result.dtype is not self.dtype:
        result = result.to(self.dtype)
    if self._base is not None:
        return _inplace_on_view(self, result)
    _store(self, result)
    self._version[0] += 1
    self._requires_grad = result._requires_grad   # (False after a non-differentiable op)
    self._grad_fn, self._output_nr = result._grad_fn, result._output_nr
    V._saved_output_moved(result._grad_fn, self)
    return self


def _snapshot(t: Tensor) -> Tensor:
    """A copy of t's values that carries t's history (its grad_fn, no new node): the "original
    self" an in-place op's derivative reads after the op has overwritten t (PyTorch saves the
    same)."""
    copy = _contiguous_copy(t)
    copy._requires_grad, copy._grad_fn, copy._output_nr = t.requires_grad, t.grad_fn, t._output_nr
    return copy


def _check_multi_output_view(view: Tensor) -> None:
    """Views made by one op that returns several (unbind, split, chunk) may not be written in
    place while gradients are recorded: one node makes them all, so the history of one cannot
    be rewritten alone (PyTorch refuses it too)."""
    creator = view.__dict__.get("_multi_output_of")
    if creator is not None:
        name, nr = creator
        raise RuntimeError(f"Output {nr} of {name} is a view and is being modified inplace. This "
                           "view is the output of a function that returns multiple views. Such "
                           "functions do not allow the output views to be modified inplace. You "
                           "should replace the inplace operation by an out-of-place one.")


def _check_storable(self: Tensor, result: Tensor) -> None:
    """An in-place op keeps self's shape and dtype: its result must fit both."""
    if result._shape != self._shape:
        raise RuntimeError(f"output with shape {list(self._shape)} doesn't match the broadcast "
                           f"shape {list(result._shape)}")
    if not _can_cast(result.dtype, self.dtype):
        raise RuntimeError(f"result type {_type_name(result.dtype)} can't be cast to the desired "
                           f"output type {_type_name(self.dtype)}")


def _store(self: Tensor, result: Tensor) -> None:
    _check_storable(self, result)
    _same_device(self, result)
    _k(self).copy(result._view(), self._view())


def _type_name(dt: V.dtype) -> str:
    return {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
            "int16": "Short", "uint8": "Byte", "bool": "Bool"}[dt.name]


def _memory_offsets(offset: int, shape: tuple, strides: tuple, dev: V.device) -> Tensor:
    """The storage position of every element of a view: offset + sum_d i_d * strides[d], as a
    1-D int64 tensor in the view's row-major order."""
    positions = full((), offset, dtype=int64, device=dev)
    for d, (n, st) in enumerate(zip(shape, strides)):
        along = (arange(n, device=dev) * st).reshape((n,) + (1,) * (len(shape) - d - 1))
        positions = positions + along
    return positions.expand(shape).reshape(-1)


class _Layout:
    """Where a tensor's elements lie in its storage (offset, shape, strides), and the storage's
    size: what a gradient must know to be moved between two views of one memory."""

    def __init__(self, t: Tensor):
        self.offset, self.shape, self.strides = t._offset, t._shape, t._strides
        self.size, self.device = t._storage.size(), t._storage.device

    def is_whole_storage(self) -> bool:
        """Does the tensor cover its storage exactly, in row-major order from 0?"""
        return self.offset == 0 and self.size == math.prod(self.shape) and \
            self.strides == V.contiguous_strides(self.shape)

    def positions(self) -> Tensor:
        return _memory_offsets(self.offset, self.shape, self.strides, self.device)

    def to_memory(self, g: Tensor) -> Tensor:
        """g (shaped like the tensor) laid out as the storage: a 1-D tensor of `size` elements,
        each the sum of g over the tensor's elements at that memory position (0 elsewhere)."""
        if self.is_whole_storage():
            return g.reshape(-1)
        memory = zeros(self.size, dtype=g.dtype, device=g.device)
        return IndexAdd.apply(memory, 0, self.positions(), g.reshape(-1), 1)

    def from_memory(self, memory: Tensor) -> Tensor:
        """The tensor's elements read out of a storage-shaped 1-D tensor."""
        if self.is_whole_storage():
            return memory.reshape(self.shape)
        return IndexSelect.apply(memory, 0, self.positions()).reshape(self.shape)


class CopySlices(Function):
    """base' = base with the region of one of its views replaced by `value` (an in-place op on
    a view writes its result there);
    dL/dbase = dL/dbase' with the region zeroed,  dL/dvalue = dL/dbase' read in the region"""
    backward_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, value, region):
        ctx.mark_dirty(base)
        view = base._as_view(region.offset, region.shape, region.strides)
        _k(base).copy(value._view(), view._view())
        ctx.base, ctx.region = _Layout(base), region
        return base

    @staticmethod
    def backward(ctx, grad):
        memory = ctx.base.to_memory(grad)
        g_value = ctx.region.from_memory(memory) if ctx.needs_input_grad[1] else None
        covered = ctx.region.to_memory(ones(ctx.region.shape, dtype=grad.dtype,
                                            device=grad.device)) != 0
        g_base = where(ctx.base.from_memory(covered), 0.0, grad)
        return g_base, g_value, None


def _inplace_on_view(view_: Tensor, result: Tensor) -> Tensor:
    """Write result into view_ by rewriting its base's history (CopySlices); view_ (like every
    other view of the base) then gets its history through the base."""
    base = view_._base
    CopySlices.apply(base, result, _Layout(view_))
    view_._view_version = -1  # out of date: the next look at view_.grad_fn regenerates it
    V._saved_output_moved(result._grad_fn, view_)
    return view_


def _fast_binary_inplace(self: Tensor, op: str, other) -> bool:
    """`self op= other` straight into self's memory when no graph is needed and dtypes agree."""
    if _needs_graph(self, (other,)):
        return False
    dt = result_type(self, other)
    if dt is not self.dtype:
        return False
    if isinstance(other, Tensor):
        if other._storage.device is not self._storage.device:
            _same_device(self, other)
        if other._shape != self._shape and broadcast_shapes(self._shape, other._shape) != \
                self._shape:
            raise RuntimeError(f"output with shape {list(self._shape)} doesn't match the "
                               f"broadcast shape "
                               f"{list(broadcast_shapes(self._shape, other._shape))}")
    elif not isinstance(other, Number):
        return False
    _check_no_overlap(self, other)
    arr = self._view()
    _k(self).binary(op, arr, _operand(other, dt, self._shape, self._storage.device), arr)
    self._version[0] += 1
    return True


def add_(self: Tensor, other, *, alpha=1) -> Tensor:
    _check_inplace(self)
    if alpha == 1 and _fast_binary_inplace(self, "add", other):
        return self
    return _inplace(self, lambda s, o: add(s, o, alpha=alpha), other, reads_self=False)


def sub_(self: Tensor, other, *, alpha=1) -> Tensor:
    _check_inplace(self)
    if alpha == 1 and _fast_binary_inplace(self, "sub", other):
        return self
    return _inplace(self, lambda s, o: sub(s, o, alpha=alpha), other, reads_self=False)


def mul_(self: Tensor, other) -> Tensor:
    _check_inplace(self)
    if _fast_binary_inplace(self, "mul", other):
        return self
    return _inplace(self, mul, other)


def div_(self: Tensor, other, *, rounding_mode=None) -> Tensor:
    _check_inplace(self)
    if rounding_mode is None and self.dtype.is_floating_point and \
            _fast_binary_inplace(self, "div", other):
        return self
    return _inplace(self, lambda s, o: div(s, o, rounding_mode=rounding_mode), other)


def pow_(self: Tensor, exponent) -> Tensor:
    return _inplace(self, pow, exponent)


def clamp_(self: Tensor, min=None, max=None) -> Tensor:
    return _inplace(self, lambda s: clamp(s, min, max))


class Fill(Function):
    """y = value in every element (x only gives the shape and dtype);
    dL/dx = 0,  dL/dvalue = the sum of dL/dy (when value is a 0-d tensor)"""
    backward_name = "FillBackward2"

    @staticmethod
    def forward(ctx, x, value):
        out = V._new(x._shape, x.dtype, x.device)
        _k(x).fill(out._view(), value.item() if isinstance(value, Tensor) else value)
        return out

    @staticmethod
    def backward(ctx, grad):
        g_value = grad.sum() if ctx.needs_input_grad[1] else None
        return zeros_like(grad), g_value


class FillWithTensor(Fill):
    backward_name = "FillBackward3"


class Zero(Fill):
    backward_name = "ZeroBackward0"


def zero_(self: Tensor) -> Tensor:
    """Set every element to 0 (in place)."""
    return _fill(self, 0, Zero)


def fill_(self: Tensor, value) -> Tensor:
    """Set every element to `value` (in place)."""
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.dim()} dimensions.")
        return _fill(self, value, FillWithTensor)
    return _fill(self, value, Fill)


def _fill(self: Tensor, value, fn_cls) -> Tensor:
    _check_inplace(self)
    if not _needs_graph(self, (value,)):
        _check_no_overlap(self)
        value = value.item() if isinstance(value, Tensor) else value
        V.check_fits(value, self.dtype)
        _k(self).fill(self._view(), value)
        self._version[0] += 1
        return self
    if not isinstance(value, Tensor):
        V.check_fits(value, self.dtype)
    return _inplace(self, fn_cls.apply, value, reads_self=False)


class Copy(Function):
    """y = src broadcast to x's shape, in x's dtype and on x's device (x.copy_(src));
    dL/dx = 0,  dL/dsrc = dL/dy summed back to src's shape, in src's dtype and device"""
    backward_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, x, src):
        ctx.src_meta = (src._shape, src.dtype, src.device)
        out = V._new(x._shape, x.dtype, x.device)
        src = src if src.device == x.device else src.to(x.device)
        _k(x).copy(_operand(src, src.dtype, x._shape, x.device), out._view())
        return out

    @staticmethod
    def backward(ctx, grad):
        shape, dt, dev = ctx.src_meta
        g_src = sum_to_shape(grad, shape).to(dt, dev) if ctx.needs_input_grad[1] else None
        return zeros_like(grad), g_src


def copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copy src's elements (broadcast to self's shape, cast to self's dtype) into self."""
    _check_inplace(self)
    if not isinstance(src, Tensor):
        src = V.tensor(src)
    shape = broadcast_shapes(self._shape, src._shape)
    if shape != self._shape:
        raise RuntimeError(f"output with shape {list(self._shape)} doesn't match the broadcast "
                           f"shape {list(shape)}")
    if _needs_graph(self, (src,)):
        return _inplace(self, Copy.apply, src, reads_self=False)
    if src.device != self.device:
        src = src.to(self.device)
    _check_no_overlap(self, src)
    _k(self).copy(_operand(src, src.dtype, shape, self.device), self._view())
    self._version[0] += 1
    return self


def _inplace_method(fn, reads_self: bool = True):
    def method(self, *args, **kwargs):
        return _inplace(self, lambda s, *a: fn(s, *a, **kwargs), *args, reads_self=reads_self)
    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place {fn.__name__}: the result is written into self."
    return method


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator=None) -> Tensor:
    """Fill with uniform random numbers from [a, b) (in place)."""
    return _fill_random(self, lambda k, out: k.random_uniform(out, V._rng(generator), a, b))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Fill with normal random numbers (in place)."""
    return _fill_random(self, lambda k, out: k.random_normal(out, V._rng(generator), mean, std))


def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fill with 1 where a uniform number u in [0, 1) is below p (probability p), else 0."""
    hits = lt(_uniform01(self._shape, self.device, generator), p)
    return _fill_random(self, lambda k, out: k.copy(hits._view(), out))


def exponential_(self: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    """Fill with exponential random numbers of rate `lambd` (in place)."""
    return _fill_random(self, lambda k, out: k.random_exponential(out, V._rng(generator), lambd))


def random_(self: Tensor, low: int = 0, high: int | None = None, *, generator=None) -> Tensor:
    """Integers from [low, high); by default from 0 up to what the dtype holds exactly."""
    if high is None:
        low, high = 0, low if low else _random_upper_bound(self.dtype)
    return _fill_random(self, lambda k, out: k.random_integers(out, V._rng(generator), low, high))


def _random_upper_bound(dt: V.dtype) -> int:
    """PyTorch's default range for random_(): every integer the dtype represents exactly."""
    if dt is bool_:
        return 2
    if dt.is_floating_point:
        return 2 ** (24 if dt is V.float32 else 53) + 1
    return builtins.int(np.iinfo(dt.np_dtype).max) + 1


def _fill_random(self: Tensor, draw) -> Tensor:
    """Write random numbers into self's elements: `draw(kernels, out)` runs a random primitive
    of self's device on them (or copies ones already made there)."""
    _check_inplace(self)
    _check_no_overlap(self)
    draw(_k(self), self._view())
    self._version[0] += 1
    return self


def _uniform01(shape: tuple, dev: V.device, generator) -> Tensor:
    """float64 numbers uniform in [0, 1), made on `dev` (the u of bernoulli's u < p)."""
    return V._random(shape, V.float64, dev, False,
                     lambda k, out: k.random_uniform(out, V._rng(generator), 0.0, 1.0))


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """1 with probability `input` (or `p`) elementwise, else 0: u < p for u uniform in [0, 1)."""
    with V.no_grad():
        hits = lt(_uniform01(input._shape, input.device, generator), input if p is None else p)
    return _cast(hits, input.dtype)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator=None) -> Tensor:
    """Draw category indices with probabilities proportional to the rows of `input`."""
    probs = _cast(input.reshape(1, -1) if input.dim() == 1 else input, V.float64)
    _check_distributions(probs, num_samples, replacement)
    out = V._new((probs._shape[0], num_samples), int64, input.device)
    _k(probs).random_multinomial(out._view(), V._rng(generator), probs._view(), replacement)
    return out.reshape(num_samples) if input.dim() == 1 else out


def _check_distributions(probs: Tensor, num_samples: int, replacement: bool) -> None:
    """Each row of the float64 (rows, n) `probs` must be weights to draw from: finite, none
    negative, a positive sum; without replacement at most n samples. Reduced on probs's
    device; the three numbers the checks need come back in one transfer."""
    rows, n = probs._shape
    if not isinstance(num_samples, builtins.int) or num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if rows == 0:
        return
    if n == 0:
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    lo, hi, least_sum = _read_scalars(probs.min(), probs.max(), probs.sum(1).min())
    if not (lo >= 0 and hi < math.inf):       # NaN fails both tests
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if least_sum <= 0:
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")


# ---------------------------------------------------------------------------------------- operators


def _reflect(fn):
    def method(self, other):
        return fn(other, self)
    return method


def _getitem(self, index):
    from tinygrad_edu import indexing
    return indexing.getitem(self, index)


def _setitem(self, index, value) -> None:
    from tinygrad_edu import indexing
    indexing.setitem(self, index, value)


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
    "__getitem__": _getitem, "__setitem__": _setitem,
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


def _property(fn):
    return property(fn)


def attach_methods(cls) -> None:
    """Give Tensor its operators and methods (called once by vector.py)."""
    g = globals()
    for name in METHODS:
        setattr(cls, name, g[name])
    for name in INPLACE:
        setattr(cls, name + "_", _inplace_method(g[name], name not in INPLACE_NOT_READING_SELF))
    for name, fn in OPERATORS.items():
        setattr(cls, name, fn)
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


# creation helpers used above (defined in vector.py)
zeros, ones, full, empty, zeros_like, ones_like, full_like, arange = (
    V.zeros, V.ones, V.full, V.empty, V.zeros_like, V.ones_like, V.full_like, V.arange)
