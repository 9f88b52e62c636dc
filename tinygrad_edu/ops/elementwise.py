"""Elementwise ops: unary (exp, tanh, ...), binary with broadcasting (add, mul, pow, ...),
comparisons and logic, where and clamp.

Each op is a `Function` whose docstring states the math; forward runs one primitive of the
input's device (see ops/helpers.py), backward is written with tensor ops, so that
create_graph=True can differentiate it again:

    class Mul(BinaryFunction):
        '''z = a * b;  dz/da = b,  dz/db = a'''

"""
from __future__ import annotations

import builtins
import math

from tinygrad_edu import vector as V
from tinygrad_edu.autograd.function import Function, _apply_recording_binary
from tinygrad_edu.autograd.grad_mode import _grad_enabled
from tinygrad_edu.ops.helpers import (Number, _check_number, _float_dtype, _in_place_by_number,
                                      _operand, _same_device, binary_forward, broadcast_shapes,
                                      full_like, ones_like, sum_to_shape, unary_forward,
                                      zeros_like)
from tinygrad_edu.vector import Tensor, bool_, kernels, result_type


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
                return _apply_recording_binary(cls, a, b, a_needs, b_needs)
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


class FloorDivide(BinaryFunction):
    """z = floor(a / b): a step function, flat wherever it has a slope at all. PyTorch gives it
    no derivative: backward through it is an error (the node is named NotImplemented)."""
    op, saves, backward_name = "floor_divide", "", "NotImplemented"

    @staticmethod
    def derivative(grad, a, b, z, needs):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


class Remainder(BinaryFunction):
    """z = a - floor(a / b) * b;  dz/da = 1,  dz/db = -floor(a / b)"""
    op, saves, backward_name = "remainder", "ab", "RemainderBackward1"

    @classmethod
    def to_save(cls, needs):
        return "ab" if needs[1] else ""

    @staticmethod
    def derivative(grad, a, b, z, needs):
        return (grad if needs[0] else None), (-grad * floor_divide(a, b) if needs[1] else None)


class RemainderByNumber(Remainder):
    backward_name = "RemainderBackward0"


def floor_divide(input, other) -> Tensor:
    """floor(input / other), elementwise (integers stay integers)."""
    _binary_args("floor_divide", input, other)
    _check_int_division("floor_divide", input, other)
    return FloorDivide.apply(input, other)


def remainder(input, other) -> Tensor:
    """input - floor(input / other) * other: the sign follows the divisor, as in Python."""
    _binary_args("remainder", input, other)
    _check_int_division("remainder", input, other)
    return (Remainder if isinstance(other, Tensor) else RemainderByNumber).apply(input, other)


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
        return condition.nonzero(as_tuple=True)
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
