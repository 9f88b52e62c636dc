"""How tensors print: `repr(t)` character for character as PyTorch 2.x prints it.

The book shows PyTorch's output, so ours must read the same (reference: torch/_tensor_str.py).
The format, for a tensor of any dimension:

    tensor(<elements>[, device='cuda:0'][, size=(0, 3)][, dtype=torch.int32]
           [, grad_fn=<MulBackward0> | , requires_grad=True])

<elements> is a nested list. Every element is printed with one shared *formatter* so that the
columns line up; the formatter looks at all the (non-zero, finite) values first:

    bool, integers      str(v), right-aligned:                           [ 1, -2, 30]
    floats, all whole   "%.0f" plus a "." (still a float):              [ 1., -2., 30.]
    floats, otherwise   "%.4f" (precision decimals):                    [1.0000, 0.5000]
    scientific          "%.4e" when max/min > 1000, max > 1e8 or min < 1e-4 (|v| over non-zero
                        finite values), or when set_printoptions(sci_mode=True)
    nan, inf, -0.       as Python prints them ("nan", "inf", "-0.")

A 1-d row holds as many elements as fit in `linewidth` (80) columns and wraps below the first
one. A k-d tensor (k >= 2) is the list of its (k-1)-d slices separated by ",", k-1 newlines and
an indent of one more space per level (so 3-d blocks get a blank line between them). Past
`threshold` (1000) elements only the first and last `edgeitems` (3) slices of every dimension
are printed, with "..." between them.

Printing never runs tensor ops: it reads the elements as a numpy array (`t._host()`), so it
records nothing in the autograd graph and works for tensors on any device.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import numbers
from typing import Any, Iterator

import numpy as np

from tinygrad_edu import vector as V


@dataclasses.dataclass
class PrintOptions:
    """The knobs of `set_printoptions`, with PyTorch's defaults."""
    precision: int = 4          # digits after the decimal point
    threshold: float = 1000     # more elements than this: summarise with "..."
    edgeitems: int = 3          # elements kept at each end of a summarised dimension
    linewidth: int = 80         # characters per line before a row wraps
    sci_mode: bool | None = None  # None: decided per tensor (see _Formatter)


PRINT_OPTS = PrintOptions()

# The named profiles of set_printoptions: (precision, threshold, edgeitems, linewidth).
_PROFILES = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     sci_mode: bool | None = None, profile: str | None = None) -> None:
    """Change how tensors print, as `torch.set_printoptions`.

    `profile` ("default", "short" or "full") first resets the four numeric options; the others
    then override it. As in PyTorch, `sci_mode` is always set, so a call that does not pass it
    returns to the automatic choice.
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"unknown print profile {profile!r}: expected one of "
                             f"{', '.join(map(repr, _PROFILES))}")
        (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems,
         PRINT_OPTS.linewidth) = _PROFILES[profile]
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            _check_option(name, value)
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


def _check_option(name: str, value: Any) -> None:
    # A float threshold is legal (math.inf is how "full" prints everything); the rest are counts.
    allowed = numbers.Real if name == "threshold" else numbers.Integral
    if isinstance(value, bool) or not isinstance(value, allowed):
        expected = "a number" if name == "threshold" else "an int"
        raise TypeError(f"set_printoptions: {name} must be {expected}, got "
                        f"{type(value).__name__} {value!r}")
    if name in ("precision", "edgeitems") and value < 0:
        raise ValueError(f"set_printoptions: {name} must be >= 0, got {value}")


def get_printoptions() -> dict[str, Any]:
    """The current options, as keyword arguments for `set_printoptions`."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs) -> Iterator[None]:
    """`with printoptions(precision=2): ...` changes the options only inside the block."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


# ---------------------------------------------------------------------------------------- elements


class _Formatter:
    """Formats every element of one tensor to the same width, chosen from all of its values."""

    def __init__(self, values: np.ndarray, is_float: bool):
        self.is_float = is_float
        self.int_mode = True    # floats that are all whole numbers print as "3."
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not is_float:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(str(v)))
            return
        # Only non-zero finite values decide the style: 0, -0, nan and inf fit any of them.
        nonzero_finite = flat[np.isfinite(flat) & (flat != 0)]
        if nonzero_finite.size == 0:
            return
        magnitudes = np.abs(nonzero_finite.astype(np.float64))
        lo, hi = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(np.all(nonzero_finite == np.ceil(nonzero_finite)))
        if PRINT_OPTS.sci_mode is None:
            with np.errstate(over="ignore"):  # 1e308 / 5e-324 is inf, which is > 1000 all right
                self.sci_mode = bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4)
        else:
            self.sci_mode = bool(PRINT_OPTS.sci_mode)
        p = PRINT_OPTS.precision
        for v in nonzero_finite.tolist():
            if self.sci_mode:
                width = len(f"{v:.{p}e}")
            elif self.int_mode:
                width = len(f"{v:.0f}") + 1  # the "." that marks a float
            else:
                width = len(f"{v:.{p}f}")
            self.max_width = max(self.max_width, width)

    def format(self, value) -> str:
        """`value` (a Python number) right-aligned to the common width."""
        if not self.is_float:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:.{PRINT_OPTS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{PRINT_OPTS.precision}f}"
        # A value the width was not measured on (-0., nan) may be wider: then no padding.
        return text.rjust(self.max_width)


def _summarized(a: np.ndarray) -> np.ndarray:
    """The elements that a summarised print shows: `edgeitems` at each end of every dimension.

    Mirrors PyTorch's get_summarized_data, including its quirk for edgeitems=0: a 1-d tensor
    keeps all its elements (a[-0:] is all of a), a k-d one keeps none.
    """
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate((a[:e], a[-e:])) if a.shape[0] > 2 * e else a
    if not e:
        return np.empty((0,) * a.ndim, a.dtype)
    rows = range(a.shape[0])
    if a.shape[0] > 2 * e:
        rows = [*range(e), *range(a.shape[0] - e, a.shape[0])]
    return np.stack([_summarized(a[i]) for i in rows])


def _vector_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    """A 1-d array as "[x, y, ...]", wrapped to the line width below the first element."""
    element_length = fmt.max_width + 2  # the element, a comma and a space
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
    e = PRINT_OPTS.edgeitems
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = ([fmt.format(v) for v in a[:e].tolist()] + [" ..."] +
                [fmt.format(v) for v in a[-e:].tolist()])
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    """A k-d array as the list of its (k-1)-d slices, each indented one space more."""
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    e, n = PRINT_OPTS.edgeitems, a.shape[0]
    if summarize and n > 2 * e:
        slices = ([_nested_str(a[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."] +
                  [_nested_str(a[i], indent + 1, summarize, fmt) for i in range(n - e, n)])
    else:
        slices = [_nested_str(a[i], indent + 1, summarize, fmt) for i in range(n)]
    # k-1 newlines between slices: rows of a matrix touch, 3-d blocks get one blank line.
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _elements_str(a: np.ndarray, indent: int, is_float: bool) -> str:
    """The bracketed elements of a non-empty array, as they follow "tensor(" at `indent`."""
    summarize = a.size > PRINT_OPTS.threshold
    fmt = _Formatter(_summarized(a) if summarize else a, is_float)
    return _nested_str(a, indent, summarize, fmt)


# ---------------------------------------------------------------------------------------- suffixes


def _suffixes(t: "V.Tensor") -> list[str]:
    """The ", key=value" parts after the elements, in PyTorch's order."""
    out = []
    if t.device.type != "cpu":
        out.append(f"device='{t.device}'")
    default = V.get_default_dtype()
    if t.numel() == 0:
        if t.dim() != 1:  # tensor([]) is 1-d; any other empty shape is spelt out
            out.append(f"size={tuple(t.shape)}")
        # No element shows whether an empty tensor holds ints or floats: only float32 is implied.
        if t.dtype is not default:
            out.append(f"dtype={t.dtype}")
    else:
        if not PRINT_OPTS.edgeitems:
            out.append(f"size={tuple(t.shape)}")
        # Elements show int64 ("1"), bool ("True") and the default float ("1.") by their look.
        if t.dtype not in (default, V.int64, V.bool_):
            out.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        out.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        out.append("requires_grad=True")
    return out


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Append ", suffix" items and the closing ")", moving an item to a new line (aligned under
    the first element) when it would pass the line width."""
    parts = [text]
    # PyTorch's measure of the last line, kept exactly (it counts 2 more than the line's
    # length when the text has no newline, 1 more otherwise) so that we wrap where it does.
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t: "V.Tensor", prefix: str = "") -> str:
    """`repr(t)` as PyTorch prints it: "tensor([1., 2.], requires_grad=True)".

    `prefix` is put in front unchanged; nn.Parameter passes "Parameter containing:\\n". Tensor
    subclasses other than Parameter print their class name instead of "tensor", as in PyTorch.
    """
    name = type(t).__name__
    opening = "tensor(" if type(t) is V.Tensor or name == "Parameter" else f"{name}("
    indent = len(opening)
    if t.numel() == 0:
        elements = "[]"
    else:
        elements = _elements_str(t._host(), indent, t.dtype.is_floating_point)
    return prefix + _add_suffixes(opening + elements, _suffixes(t), indent)
