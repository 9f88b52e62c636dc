"""Views and in-place ops against PyTorch (issue 15): random programs, then named regressions.

A program starts from a float64 leaf `x` (requires_grad) and a non-leaf root `b` (`x * 1` or
`x.clone()`), sometimes with a second leaf `w` whose pieces serve as operands that need
gradients (an int64 variant, without gradients, checks the dtype rules of in-place writes).
Each step either makes a new alias (a view of an existing one: slices with steps, select,
narrow, transpose, t, permute, expand, view, reshape, unsqueeze, squeeze, unbind/split/chunk,
diagonal, detach; or an op that must copy: clone, repeat, flip, diff(n=0), advanced indexing)
or writes into an existing alias in place (add_, sub_, mul_, div_, pow_, clamp_, masked_fill_,
copy_, fill_, zero_, abs_, exp_, tanh_, sigmoid_, relu_, neg_, index assignment with basic and
advanced indices, and +=, -=, *=, /=, //=, %=). A loss over a few aliases is then
backpropagated. The same program runs in both frameworks step by step (the step's code is
written once, against a module `T`); where PyTorch raises, tinygrad_edu must raise the same
exception class at the same step; otherwise, after every step, the values, shapes, dtypes,
`requires_grad` and grad_fn-ness of every alias agree, and at the end so do the leaves'
gradients. The failing program is printed as code (`T` = torch or tinygrad_edu).
"""
from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from oracle import TORCH_DTYPE, to_numpy

SETTINGS = settings(max_examples=800, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=False)

W_LEN = 32            # elements of the second leaf w (operands are pieces of it)
MAX_STEPS = 6
MAX_ALIASES = 9
VALUE_RTOL, VALUE_ATOL = 1e-10, 1e-12
GRAD_RTOL, GRAD_ATOL = 1e-8, 1e-10

# (torch name, our name) of grad_fn pairs seen to differ where only names were compared.
NAME_MISMATCHES: collections.Counter = collections.Counter()


def grad_fn_name(t) -> str | None:
    try:
        fn = t.grad_fn
    except RuntimeError:  # PyTorch: a multi-output view whose base was written in place
        return "<raises>"
    if fn is None:
        return None
    if isinstance(t, torch.Tensor):
        return type(fn).__name__
    return fn.name()


def fmt_list(a: np.ndarray) -> str:
    return repr(a.tolist())


def quarters(rng, shape, integer=False) -> np.ndarray:
    """Nonzero numbers with short exact decimal forms (k/4), or small nonzero integers."""
    mag = rng.integers(1, 9, shape)
    sign = rng.choice([-1, 1], shape)
    if integer:
        return (mag * sign // 2 + sign).astype(np.int64)
    return (mag * sign / 4).astype(np.float64)


def broadcasts_to(shape, target) -> bool:
    if len(shape) > len(target):
        return False
    return all(s == 1 or s == t for s, t in zip(reversed(shape), reversed(target)))


# ------------------------------------------------------------------ operands and indices

class Operand:
    """Something an in-place op takes: a number, a constant tensor, a piece of w, an alias."""

    def __init__(self, kind, code, **kw):
        self.kind, self.code, self.kw = kind, code, kw

    def make(self, run):
        T, kw = run.T, self.kw
        if self.kind == "number":
            return kw["value"]
        if self.kind == "const":
            t = T.tensor(kw["values"].tolist(), dtype=getattr(T, kw["dtype"]))
            return t.reshape(kw["shape"]) if kw["values"].size == 0 else t
        if self.kind == "w":
            return run.w[kw["off"]:kw["off"] + kw["n"]].reshape(kw["shape"])
        if self.kind == "w0":
            return run.w[kw["off"]]
        if self.kind == "alias":
            return run.aliases[kw["j"]]
        raise AssertionError(self.kind)

    def __repr__(self):
        return self.code


def number(v) -> Operand:
    return Operand("number", repr(v), value=v)


def const(values: np.ndarray, dtype: str) -> Operand:
    code = f"T.tensor({fmt_list(values)}, dtype=T.{dtype})"
    if values.size == 0:
        code += f".reshape({tuple(values.shape)})"
    return Operand("const", code, values=values, dtype=dtype, shape=tuple(values.shape))


def mask(values: np.ndarray) -> Operand:
    code = f"T.tensor({fmt_list(values)})"
    if values.size == 0:
        code += f".reshape({tuple(values.shape)})"
    return Operand("const", code, values=values, dtype="bool", shape=tuple(values.shape))


def call_args(values) -> str:
    return "(" + ", ".join(str(v) for v in values) + ")"


def fmt_index_item(item) -> str:
    if isinstance(item, slice):
        s = ("" if item.start is None else str(item.start)) + ":" + \
            ("" if item.stop is None else str(item.stop))
        return s + ("" if item.step is None else f":{item.step}")
    if item is Ellipsis:
        return "..."
    return repr(item)


def fmt_index(index: tuple) -> str:
    if len(index) == 0:
        return "()"
    return ", ".join(fmt_index_item(i) for i in index)


def make_index(run, index: tuple) -> tuple:
    return tuple(i.make(run) if isinstance(i, Operand) else i for i in index)


# ------------------------------------------------------------------ running a program

class Run:
    """One framework's state of a program: the leaves and the list of aliases a0, a1, ..."""

    def __init__(self, T, start):
        self.T = T
        if start["float"]:
            self.x = T.tensor(start["x"].tolist(), dtype=T.float64, requires_grad=True)
        else:
            self.x = T.tensor(start["x"].tolist(), dtype=T.int64)
        self.w = T.tensor(start["w"].tolist(), dtype=T.float64, requires_grad=True) \
            if start["w"] is not None else None
        root = self.x * 1 if start["root"] == "mul" else self.x.clone()
        self.aliases = [self.x, root]


def start_code(start) -> list:
    if start["float"]:
        lines = [f"x = T.tensor({fmt_list(start['x'])}, dtype=T.float64, requires_grad=True)"]
    else:
        lines = [f"x = T.tensor({fmt_list(start['x'])}, dtype=T.int64)"]
    if start["w"] is not None:
        lines.append(f"w = T.tensor({fmt_list(start['w'])}, dtype=T.float64, "
                     f"requires_grad=True)")
    lines.append("a0 = x")
    lines.append("a1 = x * 1" if start["root"] == "mul" else "a1 = x.clone()")
    return lines


class Step:
    """`cat` is "view" or "copy" (a new alias) or "inplace"; `i` the alias it reads."""

    def __init__(self, cat, kind, i, code, **p):
        self.cat, self.kind, self.i, self.code, self.p = cat, kind, i, code, p

    def __repr__(self):
        return self.code


def new_alias(T, a, s: Step, run):
    p, k = s.p, s.kind
    if k == "getitem":
        return a[make_index(run, p["index"])]
    if k == "select":
        return a.select(p["dim"], p["index"])
    if k == "narrow":
        return a.narrow(p["dim"], p["start"], p["length"])
    if k == "transpose":
        return a.transpose(p["d0"], p["d1"])
    if k == "t":
        return a.t()
    if k == "permute":
        return a.permute(*p["perm"])
    if k == "expand":
        return a.expand(*p["shape"])
    if k == "view":
        return a.view(*p["shape"])
    if k == "reshape":
        return a.reshape(*p["shape"])
    if k == "unsqueeze":
        return a.unsqueeze(p["dim"])
    if k == "squeeze":
        return a.squeeze(p["dim"])
    if k == "unbind":
        return a.unbind(p["dim"])[p["pick"]]
    if k == "split":
        return a.split(p["size"], p["dim"])[p["pick"]]
    if k == "chunk":
        return a.chunk(p["n"], p["dim"])[p["pick"]]
    if k == "diagonal":
        return a.diagonal(p["offset"], p["d0"], p["d1"])
    if k == "detach":
        return a.detach()
    if k == "clone":
        return a.clone()
    if k == "contiguous":
        return a.contiguous()
    if k == "repeat":
        return a.repeat(*p["reps"])
    if k == "flip":
        return a.flip(p["dims"])
    if k == "diff0":
        return a.diff(n=0)
    raise AssertionError(k)


def execute(run, s: Step):
    """Run one step; for an in-place step, return whether the name still holds the same
    tensor object afterwards (in-place ops return self, augmented assignments keep it)."""
    T = run.T
    a = run.aliases[s.i]
    p, k = s.p, s.kind
    if s.cat in ("view", "copy"):
        run.aliases.append(new_alias(T, a, s, run))
        return None
    if k in ("add_", "sub_", "mul_", "div_", "pow_"):
        out = getattr(a, k)(p["other"].make(run))
    elif k == "clamp_":
        out = a.clamp_(p["min"], p["max"])
    elif k == "masked_fill_":
        out = a.masked_fill_(p["mask"].make(run), p["value"].make(run))
    elif k == "copy_":
        out = a.copy_(p["src"].make(run))
    elif k == "fill_":
        out = a.fill_(p["value"].make(run))
    elif k == "zero_":
        out = a.zero_()
    elif k in UNARY:
        out = getattr(a, k)()
    elif k == "setitem":
        a[make_index(run, p["index"])] = p["value"].make(run)
        out = a
    elif k == "iop":
        t = a
        other = p["other"].make(run)
        op = p["op"]
        if op == "+=":
            t += other
        elif op == "-=":
            t -= other
        elif op == "*=":
            t *= other
        elif op == "/=":
            t /= other
        elif op == "//=":
            t //= other
        elif op == "%=":
            t %= other
        else:
            raise AssertionError(op)
        run.aliases[s.i] = t
        out = t
    else:
        raise AssertionError(k)
    return out is a


def backward(run, loss_terms):
    T = run.T
    loss = None
    for j, weights in loss_terms:
        wt = T.tensor(weights.tolist(), dtype=T.float64)
        if weights.size == 0:
            wt = wt.reshape(weights.shape)
        term = (run.aliases[j] * wt).sum()
        loss = term if loss is None else loss + term
    loss.backward()


def loss_code(loss_terms) -> str:
    terms = []
    for j, weights in loss_terms:
        wt = f"T.tensor({fmt_list(weights)}, dtype=T.float64)"
        if weights.size == 0:
            wt += f".reshape({tuple(weights.shape)})"
        terms.append(f"(a{j} * {wt}).sum()")
    return "(" + " + ".join(terms) + ").backward()"


# ------------------------------------------------------------------ drawing a program

UNARY = ("abs_", "exp_", "tanh_", "sigmoid_", "relu_", "neg_")
IOPS = ("+=", "-=", "*=", "/=", "//=", "%=")
NUMBERS_FLOAT = (1.5, -0.5, 2, -2.0, 3.0, 0.5)
NUMBERS_INT = (2, -1, 3, 0.5, -3, -1.5)
CLAMP_BOUNDS = (None, -1.1, -0.3, 0.7, 1.9)
EXPONENTS = (2, 0.5, 3, -1, 1.5)
INPLACE_KINDS = ("add_", "setitem", "mul_", "iop", "sub_", "div_", "masked_fill_", "copy_",
                 "clamp_", "fill_", "zero_", "pow_", "unary", "iop", "unary", "setitem")
VIEW_KINDS = ("getitem", "select", "narrow", "transpose", "t", "permute", "expand", "view",
              "reshape", "unsqueeze", "squeeze", "unbind", "split", "chunk", "diagonal",
              "detach")
COPY_KINDS = ("clone", "repeat", "flip", "diff0", "contiguous", "adv_getitem")


class Drawer:
    def __init__(self, data):
        self.data = data

    def int(self, lo, hi):
        return self.data.draw(st.integers(lo, hi))

    def choice(self, seq):
        return self.data.draw(st.sampled_from(seq))

    def coin(self, one_in):
        """True with probability 1/one_in (False when shrunk)."""
        return self.int(0, one_in - 1) == one_in - 1

    def seed(self):
        return self.int(0, 2 ** 16)


def draw_start(d: Drawer) -> dict:
    float_mode = not d.coin(7)
    ndim = d.int(1, 3)
    shape = tuple(d.int(1, 3) for _ in range(ndim))
    rng = np.random.default_rng(d.seed())
    x = quarters(rng, shape, integer=not float_mode)
    # (int programs take no pieces of w: PyTorch lets an int tensor copy a float one that
    # requires grad, and then says the int tensor requires grad)
    w = quarters(rng, (W_LEN,)) if float_mode and d.coin(2) else None
    return {"float": float_mode, "x": x, "w": w, "root": d.choice(("mul", "clone"))}


def pick_alias(d: Drawer, tr: Run, leaf_one_in=12) -> int:
    """An alias to act on: rarely the leaf x, mostly the root or a later alias."""
    n = len(tr.aliases)
    pick = d.int(0, leaf_one_in - 1)
    if pick == leaf_one_in - 1:
        return 0
    return 1 + pick % (n - 1) if pick < n - 1 else d.int(1, n - 1)


def draw_slice(d: Drawer, n: int) -> slice:
    start = None if d.coin(3) else d.int(-n, n)
    stop = None if d.coin(2) else d.int(-n, n)
    step = d.choice((None, 1, 2, 3))
    return slice(start, stop, step)


def draw_basic_index(d: Drawer, shape: tuple, ints=True, none=True) -> tuple:
    if not shape:
        return (Ellipsis,) if d.coin(2) else ()
    if d.coin(6):  # the last dim through an ellipsis
        n = shape[-1]
        return (Ellipsis, d.int(-n, n - 1) if ints and n and d.coin(2) else draw_slice(d, n))
    k = d.int(1, len(shape))
    items = []
    for dim in range(k):
        n = shape[dim]
        if ints and n and d.coin(3):
            items.append(d.int(-n, n - 1))
        else:
            items.append(draw_slice(d, n))
        if none and d.coin(10):
            items.append(None)
    return tuple(items)


def draw_int_list(d: Drawer, n: int) -> list:
    return d.data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=min(n, 3),
                                unique_by=lambda v: v % n))


def draw_advanced_index(d: Drawer, shape: tuple):
    """An index with an int list or a bool mask (None where shape has no room for one)."""
    if not shape or 0 in shape:
        return None
    rng = np.random.default_rng(d.seed())
    form = d.choice(("list", "mask_full", "mask_lead", "two_lists", "int_and_list"))
    if form == "mask_full":
        return (mask(rng.random(shape) < 0.5),)
    if form == "mask_lead":
        return (mask(rng.random(shape[:1]) < 0.5),)
    if form == "two_lists" and len(shape) >= 2:
        first = draw_int_list(d, shape[0])
        second = [d.int(-shape[1], shape[1] - 1) for _ in first]
        return (first, second)
    if form == "int_and_list" and len(shape) >= 2:
        return (d.int(-shape[0], shape[0] - 1), draw_int_list(d, shape[1]))
    dim = d.int(0, len(shape) - 1)
    return (slice(None),) * dim + (draw_int_list(d, shape[dim]),)


def draw_shape_for(d: Drawer, target: tuple) -> tuple:
    """Mostly a shape that broadcasts to target; now and then one that would grow it."""
    k = d.int(0, len(target))
    shape = list(target[len(target) - k:])
    for i in range(len(shape)):
        if d.coin(4):
            shape[i] = 1
    if d.coin(12):
        ones = [i for i, s in enumerate(shape) if s == 1]
        if ones:
            shape[d.choice(ones)] = 2
        else:
            shape = [2] + shape
    return tuple(shape)


def draw_tensor(d: Drawer, tr: Run, target: tuple, float_mode: bool, allow_alias=True):
    """A tensor operand whose shape (mostly) broadcasts to target."""
    sources = ["const"]
    if tr.w is not None:
        sources += ["w", "w"]
    candidates = [j for j, a in enumerate(tr.aliases) if broadcasts_to(tuple(a.shape), target)]
    if allow_alias and candidates:
        sources.append("alias")
    src = d.choice(sources)
    if src == "alias":
        j = d.choice(candidates)
        return Operand("alias", f"a{j}", j=j)
    shape = draw_shape_for(d, target)
    n = int(np.prod(shape))
    if src == "w" and n <= W_LEN:
        off = d.int(0, W_LEN - n)
        return Operand("w", f"w[{off}:{off + n}].reshape({shape})", off=off, n=n, shape=shape)
    rng = np.random.default_rng(d.seed())
    integer = not float_mode and not d.coin(5)
    return const(quarters(rng, shape, integer=integer), "int64" if integer else "float64")


def draw_number(d: Drawer, float_mode: bool):
    return number(d.choice(NUMBERS_FLOAT if float_mode else NUMBERS_INT))


def draw_scalar_value(d: Drawer, tr: Run, float_mode: bool) -> Operand:
    """A value for fill_ and masked_fill_: a number, or a 0-d tensor (a piece of w)."""
    if tr.w is not None and d.coin(3):
        off = d.int(0, W_LEN - 1)
        return Operand("w0", f"w[{off}]", off=off)
    return draw_number(d, float_mode)


def draw_operand(d: Drawer, tr: Run, target: tuple, float_mode: bool) -> Operand:
    if d.coin(2):
        return draw_number(d, float_mode)
    return draw_tensor(d, tr, target, float_mode)


def draw_view(d: Drawer, tr: Run, i: int, new: int) -> Step:
    shape = tuple(tr.aliases[i].shape)
    nd = len(shape)
    kinds = [k for k in VIEW_KINDS
             if nd >= {"select": 1, "narrow": 1, "transpose": 2, "permute": 1, "unbind": 1,
                       "split": 1, "chunk": 1, "diagonal": 2, "squeeze": 1}.get(k, 0)
             and not (k == "t" and nd > 2)]
    k = d.choice(kinds)
    src = f"a{i}"
    if k == "getitem":
        if d.coin(2) and nd:
            dim = d.int(0, nd - 1)
            index = (slice(None),) * dim + (draw_slice(d, shape[dim]),)
        else:
            index = draw_basic_index(d, shape)
        return Step("view", k, i, f"a{new} = {src}[{fmt_index(index)}]", index=index)
    if k in ("select", "narrow", "unbind", "split", "chunk", "squeeze"):
        dim = d.int(-nd, nd - 1)
        n = shape[dim]
        if k == "select":
            idx = d.int(-n, n - 1) if n else 0
            return Step("view", k, i, f"a{new} = {src}.select({dim}, {idx})", dim=dim, index=idx)
        if k == "narrow":
            start = d.int(0, n)
            length = d.int(0, n - start)
            return Step("view", k, i, f"a{new} = {src}.narrow({dim}, {start}, {length})",
                        dim=dim, start=start, length=length)
        if k == "squeeze":
            return Step("view", k, i, f"a{new} = {src}.squeeze({dim})", dim=dim)
        if k == "unbind":
            pick = d.int(0, n - 1) if n else 0
            return Step("view", k, i, f"a{new} = {src}.unbind({dim})[{pick}]", dim=dim, pick=pick)
        if k == "split":
            size = d.int(1, max(n, 1))
            pick = d.int(0, max(-(-n // size) - 1, 0))
            return Step("view", k, i, f"a{new} = {src}.split({size}, {dim})[{pick}]",
                        size=size, dim=dim, pick=pick)
        chunks = d.int(1, 3)
        pick = d.int(0, max(min(chunks, n) - 1, 0))
        return Step("view", k, i, f"a{new} = {src}.chunk({chunks}, {dim})[{pick}]",
                    n=chunks, dim=dim, pick=pick)
    if k == "transpose":
        d0, d1 = d.int(-nd, nd - 1), d.int(-nd, nd - 1)
        return Step("view", k, i, f"a{new} = {src}.transpose({d0}, {d1})", d0=d0, d1=d1)
    if k == "t":
        return Step("view", k, i, f"a{new} = {src}.t()")
    if k == "permute":
        perm = tuple(d.data.draw(st.permutations(range(nd))))
        return Step("view", k, i, f"a{new} = {src}.permute{call_args(perm)}",
                    perm=perm)
    if k == "diagonal":
        offset = d.int(-2, 2)
        d0 = d.int(0, nd - 1)
        d1 = d.choice([j for j in range(nd) if j != d0])
        return Step("view", k, i, f"a{new} = {src}.diagonal({offset}, {d0}, {d1})",
                    offset=offset, d0=d0, d1=d1)
    if k == "expand":
        target = [s if s != 1 else d.int(1, 3) for s in shape]
        target = [-1 if s != 1 and d.coin(3) else s for s in target]
        if d.coin(3) or not nd:
            target = [d.int(1, 2)] + target
        target = tuple(target)
        return Step("view", k, i, f"a{new} = {src}.expand{call_args(target)}",
                    shape=target)
    if k in ("view", "reshape"):
        target = draw_reshape(d, shape)
        return Step("view", k, i, f"a{new} = {src}.{k}{call_args(target)}",
                    shape=target)
    if k == "unsqueeze":
        dim = d.int(-nd - 1, nd)
        return Step("view", k, i, f"a{new} = {src}.unsqueeze({dim})", dim=dim)
    if k == "detach":
        return Step("view", k, i, f"a{new} = {src}.detach()")
    raise AssertionError(k)


def draw_reshape(d: Drawer, shape: tuple) -> tuple:
    """Another shape with as many elements: flattened, a dim split in two, two dims merged,
    or a size-1 dim added or removed (sometimes with a -1)."""
    n = int(np.prod(shape))
    form = d.choice(("flat", "split", "merge", "ones"))
    out = list(shape)
    if form == "flat" or not shape:
        out = [n]
    elif form == "split":
        dim = d.int(0, len(shape) - 1)
        s = shape[dim]
        divisors = [f for f in range(1, s + 1) if s % f == 0] if s else [1]
        f = d.choice(divisors)
        out[dim:dim + 1] = [f, s // f if f else 0]
    elif form == "merge" and len(shape) >= 2:
        dim = d.int(0, len(shape) - 2)
        out[dim:dim + 2] = [shape[dim] * shape[dim + 1]]
    else:
        out.insert(d.int(0, len(out)), 1)
        if 1 in shape and d.coin(2):
            out.remove(1)
    if n and d.coin(4):
        out[d.int(0, len(out) - 1)] = -1
    return tuple(out)


def draw_copy(d: Drawer, tr: Run, i: int, new: int) -> Step:
    shape = tuple(tr.aliases[i].shape)
    nd = len(shape)
    kinds = [k for k in COPY_KINDS if nd or k in ("clone", "contiguous")]
    k = d.choice(kinds)
    src = f"a{i}"
    if k in ("clone", "contiguous"):
        return Step("copy", k, i, f"a{new} = {src}.{k}()")
    if k == "repeat":
        reps = tuple([1] * nd) if d.coin(2) else tuple(d.int(1, 2) for _ in range(nd))
        if d.coin(4):
            reps = (d.int(1, 2),) + reps
        return Step("copy", k, i, f"a{new} = {src}.repeat{call_args(reps)}",
                    reps=reps)
    if k == "flip":
        dims = () if d.coin(2) else (d.int(-nd, nd - 1),)
        return Step("copy", k, i, f"a{new} = {src}.flip({dims})", dims=dims)
    if k == "diff0":
        return Step("copy", k, i, f"a{new} = {src}.diff(n=0)")
    index = draw_advanced_index(d, shape)
    if index is None:
        return Step("copy", "clone", i, f"a{new} = {src}.clone()")
    return Step("copy", "getitem", i, f"a{new} = {src}[{fmt_index(index)}]", index=index)


def indexed_shape(tr: Run, a, index):
    """The shape a[index] has in PyTorch (None if PyTorch refuses the index)."""
    try:
        with torch.no_grad():
            return tuple(a[make_index(tr, index)].shape)
    except Exception:
        return None


def draw_inplace(d: Drawer, tr: Run, i: int, float_mode: bool) -> Step:
    a = tr.aliases[i]
    shape = tuple(a.shape)
    k = d.choice(INPLACE_KINDS)
    src = f"a{i}"
    if k in ("add_", "sub_", "mul_", "div_"):
        other = draw_operand(d, tr, shape, float_mode)
        return Step("inplace", k, i, f"{src}.{k}({other})", other=other)
    if k == "pow_":
        other = draw_tensor(d, tr, shape, float_mode, allow_alias=False) if d.coin(4) \
            else number(d.choice(EXPONENTS))
        return Step("inplace", k, i, f"{src}.pow_({other})", other=other)
    if k == "iop":
        op = d.choice(IOPS)
        other = draw_operand(d, tr, shape, float_mode)
        return Step("inplace", k, i, f"{src} {op} {other}", op=op, other=other)
    if k == "clamp_":
        lo, hi = d.choice(CLAMP_BOUNDS), d.choice(CLAMP_BOUNDS)
        return Step("inplace", k, i, f"{src}.clamp_({lo}, {hi})", min=lo, max=hi)
    if k == "masked_fill_":
        rng = np.random.default_rng(d.seed())
        m = mask(rng.random(draw_shape_for(d, shape)) < 0.5)
        value = draw_scalar_value(d, tr, float_mode)
        return Step("inplace", k, i, f"{src}.masked_fill_({m}, {value})", mask=m, value=value)
    if k == "copy_":
        other = draw_tensor(d, tr, shape, float_mode)
        return Step("inplace", k, i, f"{src}.copy_({other})", src=other)
    if k == "fill_":
        value = draw_scalar_value(d, tr, float_mode)
        return Step("inplace", k, i, f"{src}.fill_({value})", value=value)
    if k == "zero_":
        return Step("inplace", k, i, f"{src}.zero_()")
    if k == "unary":
        op = d.choice(UNARY)
        return Step("inplace", op, i, f"{src}.{op}()")
    # index assignment
    index = None
    if d.coin(3):
        index = draw_advanced_index(d, shape)
    if index is None:
        index = draw_basic_index(d, shape)
    target = indexed_shape(tr, a, index)
    if target is None or d.coin(2):
        value = draw_number(d, float_mode)
    else:
        value = draw_tensor(d, tr, target, float_mode)
    return Step("inplace", "setitem", i, f"{src}[{fmt_index(index)}] = {value}",
                index=index, value=value)


def draw_step(d: Drawer, tr: Run, float_mode: bool) -> Step:
    roll = d.int(0, 9)
    n = len(tr.aliases)
    if n >= MAX_ALIASES:
        roll = 0
    i = pick_alias(d, tr)
    if roll <= 4:
        return draw_inplace(d, tr, i, float_mode)
    if roll <= 8:
        return draw_view(d, tr, i, n)
    return draw_copy(d, tr, i, n)


# ------------------------------------------------------------------ comparing

def attempt(fn):
    try:
        return fn(), None
    except Exception as e:  # noqa: BLE001 - any exception is an outcome to compare
        return None, e


def assert_same_exception(t_exc, o_exc, where):
    assert o_exc is not None, f"{where}: PyTorch raised {type(t_exc).__name__}({t_exc}), " \
                              f"tinygrad_edu did not"
    # (a subclass is the same class to a caller: ours raises IntegerDivisionByZero, a
    # RuntimeError, where PyTorch raises RuntimeError("ZeroDivisionError"))
    assert isinstance(o_exc, type(t_exc)), \
        f"{where}: PyTorch raised {type(t_exc).__name__}({t_exc}); tinygrad_edu raised " \
        f"{type(o_exc).__name__}({o_exc})"


def assert_no_exception(o_exc, where):
    if o_exc is not None:
        raise AssertionError(f"{where}: PyTorch ran it; tinygrad_edu raised "
                             f"{type(o_exc).__name__}: {o_exc}") from o_exc


def assert_same_values(o, t, what, rtol=VALUE_RTOL, atol=VALUE_ATOL):
    assert tuple(o.shape) == tuple(t.shape), f"{what}: shape {tuple(o.shape)} vs " \
                                             f"PyTorch's {tuple(t.shape)}"
    assert TORCH_DTYPE[o.dtype] == t.dtype, f"{what}: dtype {o.dtype} vs PyTorch's {t.dtype}"
    ov, tv = to_numpy(o), to_numpy(t)
    if tv.dtype.kind in "biu":
        assert np.array_equal(ov, tv), f"{what}: values\n{ov}\nvs PyTorch's\n{tv}"
    else:
        try:
            np.testing.assert_allclose(ov, tv, rtol=rtol, atol=atol, equal_nan=True)
        except AssertionError as e:
            raise AssertionError(f"{what}: values\n{ov}\nvs PyTorch's\n{tv}\n{e}") from None


def compare_state(tr: Run, our: Run, where: str):
    assert len(our.aliases) == len(tr.aliases)
    for j, (o, t) in enumerate(zip(our.aliases, tr.aliases)):
        what = f"{where}, a{j}"
        assert_same_values(o, t, what)
        assert o.requires_grad == t.requires_grad, \
            f"{what}: requires_grad {o.requires_grad} vs PyTorch's {t.requires_grad}"
        t_name = grad_fn_name(t)
        if t_name == "<raises>":
            # (reading grad_fn raises in PyTorch; any later use of the alias raises there too)
            event("PyTorch's grad_fn raises")
            continue
        assert (o.grad_fn is None) == (t_name is None), \
            f"{what}: grad_fn {grad_fn_name(o)} vs PyTorch's {t_name}"
    for j in range(len(tr.aliases)):
        for k in range(j):
            assert (our.aliases[j] is our.aliases[k]) == (tr.aliases[j] is tr.aliases[k]), \
                f"{where}: a{j} is a{k} is {our.aliases[j] is our.aliases[k]}, in PyTorch " \
                f"{tr.aliases[j] is tr.aliases[k]}"


def compare_names(tr: Run, our: Run, s: Step, where: str):
    """grad_fn names of the alias just written and of its base. Where PyTorch records
    CopySlices (on the base of a written view, or on a tensor written through a basic index)
    ours must too; other differences are only counted, in NAME_MISMATCHES."""
    t = tr.aliases[s.i]
    base = t._base
    j = next((k for k, a in enumerate(tr.aliases) if a is base), None) if base is not None \
        else None
    for k in {s.i} | ({j} if j is not None else set()):
        tn, on = grad_fn_name(tr.aliases[k]), grad_fn_name(our.aliases[k])
        if tn != on:
            NAME_MISMATCHES[(tn, on)] += 1
    checked = [j] if j is not None else []
    basic = s.kind == "setitem" and not any(isinstance(i, (list, Operand))
                                            for i in s.p["index"])
    if j is None and basic:
        checked.append(s.i)
    for k in checked:
        if grad_fn_name(tr.aliases[k]) == "CopySlices":
            assert grad_fn_name(our.aliases[k]) == "CopySlices", \
                f"{where}: a{k} has grad_fn {grad_fn_name(our.aliases[k])}, PyTorch's is " \
                f"CopySlices"


def compare_grads(tr: Run, our: Run):
    for name in ("x", "w"):
        t, o = getattr(tr, name), getattr(our, name)
        if t is None:
            continue
        if t.grad is None:
            assert o.grad is None, f"{name}.grad is set; PyTorch's is None"
            continue
        assert o.grad is not None, f"{name}.grad is None; PyTorch's is set"
        assert_same_values(o.grad, t.grad, f"{name}.grad", GRAD_RTOL, GRAD_ATOL)


# ------------------------------------------------------------------ the property

@SETTINGS
@given(st.data())
def test_random_view_and_inplace_programs(data):
    d = Drawer(data)
    start = draw_start(d)
    code = start_code(start)
    try:
        run_program(d, start, code)
    except AssertionError:
        note("program (T = torch or tinygrad_edu):\n    " + "\n    ".join(code))
        raise


def run_program(d: Drawer, start: dict, code: list) -> None:
    """Draw and run the steps in both frameworks, comparing as it goes; `code` collects the
    program's lines."""
    tr, our = Run(torch, start), Run(tg, start)
    compare_state(tr, our, "start")
    for n in range(d.int(1, MAX_STEPS)):
        s = draw_step(d, tr, start["float"])
        code.append(s.code)
        event(f"{s.cat}: {s.kind}" + (f" {s.p['op']}" if s.kind == "iop" else ""))
        where = f"step {n + 1} `{s.code}`"
        kept_t, t_exc = attempt(lambda: execute(tr, s))
        kept_o, o_exc = attempt(lambda: execute(our, s))
        if t_exc is not None:
            event("PyTorch raised at a step")
            assert_same_exception(t_exc, o_exc, where)
            return
        assert_no_exception(o_exc, where)
        assert kept_o == kept_t, f"{where}: the name no longer holds the tensor written to " \
                                 f"(in PyTorch it does: {kept_t})"
        compare_state(tr, our, where)
        if s.cat == "inplace" and start["float"]:
            compare_names(tr, our, s, where)
    if not start["float"]:
        return
    rng = np.random.default_rng(d.seed())
    picked = d.data.draw(st.lists(st.sampled_from(range(len(tr.aliases))), min_size=1,
                                  max_size=3, unique=True))
    loss_terms = [(j, quarters(rng, tuple(tr.aliases[j].shape))) for j in picked]
    code.append(loss_code(loss_terms))
    _, t_exc = attempt(lambda: backward(tr, loss_terms))
    _, o_exc = attempt(lambda: backward(our, loss_terms))
    if t_exc is not None:
        event("PyTorch raised in backward")
        assert_same_exception(t_exc, o_exc, "backward")
        return
    assert_no_exception(o_exc, "backward")
    event("backward compared")
    compare_grads(tr, our)


# ------------------------------------------------------------------ named regressions

def outcome(fn, T):
    """fn(T)'s result, or the class of the exception it raised."""
    try:
        return fn(T)
    except Exception as e:  # noqa: BLE001
        return type(e)


def assert_same_outcome(fn):
    theirs, ours = outcome(fn, torch), outcome(fn, tg)
    if isinstance(theirs, type) and issubclass(theirs, Exception):
        assert isinstance(ours, type) and issubclass(ours, theirs), \
            f"PyTorch raised {theirs.__name__}; tinygrad_edu gave {ours!r}"
        return
    assert not (isinstance(ours, type) and issubclass(ours, Exception)), \
        f"tinygrad_edu raised {ours.__name__}; PyTorch gave {theirs!r}"
    assert_same_tree(ours, theirs)


def assert_same_tree(ours, theirs, path="result"):
    if isinstance(theirs, torch.Tensor):
        assert_same_values(ours, theirs, path, GRAD_RTOL, GRAD_ATOL)
    elif isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs), path
        for k, (o, t) in enumerate(zip(ours, theirs)):
            assert_same_tree(o, t, f"{path}[{k}]")
    elif isinstance(theirs, torch.dtype):
        assert TORCH_DTYPE[ours] == theirs, f"{path}: {ours} vs PyTorch's {theirs}"
    else:
        assert ours == theirs, f"{path}: {ours!r} vs PyTorch's {theirs!r}"


def leaf(T, values):
    return T.tensor(values, dtype=T.float64, requires_grad=True)


@pytest.mark.parametrize("case", ["1d_slice", "2d_column", "tensor_value"])
def test_index_assignment_of_a_constant_on_a_non_leaf_records_copyslices(case):
    def program(T):
        if case == "1d_slice":
            x = leaf(T, [1.0, 2.0, 3.0, 4.0])
            b = x * 1
            b[0:2] = 0
        elif case == "tensor_value":
            x = leaf(T, [1.0, 2.0, 3.0, 4.0])
            b = x * 1
            b[1:3] = T.tensor([7.0, 8.0], dtype=T.float64)
        else:
            x = leaf(T, [[1.0, 2.0], [3.0, 4.0]])
            b = x * 1
            b[:, 0] = 0.0
        name = grad_fn_name(b)
        b.sum().backward()
        return name, b.detach(), x.grad
    assert_same_outcome(program)


def test_index_assignment_on_a_leaf_that_requires_grad_raises():
    def program(T):
        x = leaf(T, [1.0, 2.0, 3.0])
        x[0] = 5.0
        return x.detach()
    assert_same_outcome(program)


def test_a_view_made_before_an_inplace_op_on_its_base_sees_the_new_history():
    def program(T):
        x = leaf(T, [1.0, 2.0, 3.0, 4.0])
        b = x * 1
        v = b[:2]
        b.mul_(3)
        v.sum().backward()
        return v.detach(), x.grad
    assert_same_outcome(program)


@pytest.mark.parametrize("op", ["abs_", "pow_", "div_", "exp_", "tanh_", "sigmoid_"])
def test_inplace_op_on_a_view_of_a_clone_that_saves_its_input(op):
    def program(T):
        x = leaf(T, [1.0, -2.0, 3.0, 4.0])
        w = leaf(T, [2.0, 3.0, 4.0])
        v = x.clone()[1:]
        if op == "pow_":
            v.pow_(2)
        elif op == "div_":
            v.div_(w)
        else:
            getattr(v, op)()
        v.sum().backward()
        return v.detach(), x.grad, w.grad
    assert_same_outcome(program)


@pytest.mark.parametrize("op", ["repeat(1)", "flip(())", "diff(n=0)"])
def test_ops_that_must_copy_do_not_return_their_input(op):
    def program(T):
        x = T.tensor([1.0, 2.0, 3.0], dtype=T.float64)
        y = eval(f"x.{op}")
        y.add_(10)
        return y is x, x, y
    assert_same_outcome(program)


@pytest.mark.parametrize("op", ["%=", "//="])
def test_remainder_and_floor_divide_assignments_write_in_place(op):
    def program(T):
        base = T.tensor([[5.0, 7.0], [9.0, 11.0]], dtype=T.float64)
        row = base[0]
        before = row
        if op == "%=":
            row %= 3
        else:
            row //= 3
        return row is before, row, base
    assert_same_outcome(program)


def test_floor_divide_assignment_of_an_int_tensor_by_a_float_raises():
    def program(T):
        a = T.tensor([5, 7])
        a //= 0.5
        return a.dtype, a
    assert_same_outcome(program)


@pytest.mark.parametrize("op", ["%=", "//=", "+="])
def test_augmented_assignment_does_not_grow_the_tensor(op):
    def program(T):
        a = T.ones(1, 3, dtype=T.float64)
        other = T.full((2, 3), 2.0, dtype=T.float64)
        if op == "%=":
            a %= other
        elif op == "//=":
            a //= other
        else:
            a += other
        return a
    assert_same_outcome(program)


# ---- further differences the random programs found

@pytest.mark.parametrize("op", ["abs_", "pow_", "mul_", "div_"])
def test_inplace_op_that_saves_its_input_on_a_non_view(op):
    def program(T):
        x = leaf(T, [1.5, -0.5, 2.0])
        w = leaf(T, [2.0, 3.0, 4.0])
        a = x * 1
        if op == "abs_":
            a.abs_()
        elif op == "pow_":
            a.pow_(2)
        else:
            getattr(a, op)(w)
        (a * T.tensor([1.0, 2.0, 3.0], dtype=T.float64)).sum().backward()
        return a.detach(), x.grad, w.grad
    assert_same_outcome(program)


@pytest.mark.parametrize("op", ["exp_", "tanh_", "sigmoid_"])
@pytest.mark.parametrize("through_view", [False, True])
def test_changing_the_saved_result_of_an_inplace_op_is_detected(op, through_view):
    """exp_, tanh_, sigmoid_ save their result, the tensor itself: a later write to it (or to
    a view of it) makes backward raise in PyTorch."""
    def program(T):
        x = leaf(T, [1.0, 2.0])
        a = x * 1
        getattr(a, op)()
        (a[:1] if through_view else a).mul_(2)
        a.sum().backward()
        return x.grad
    assert_same_outcome(program)


@pytest.mark.parametrize("op", ["fill_", "zero_", "copy_", "setitem"])
def test_overwriting_nan_values_with_autograd(op):
    def program(T):
        x = leaf(T, [-1.0, 4.0])
        a = x * 1
        a.sqrt_()        # a[0] is NaN
        if op == "fill_":
            a.fill_(3.0)
        elif op == "zero_":
            a.zero_()
        elif op == "copy_":
            a.copy_(T.tensor([5.0, 6.0], dtype=T.float64))
        else:
            a[:] = 7.0
        a.sum().backward()
        return a.detach(), x.grad
    assert_same_outcome(program)


def test_fill_with_a_tensor_value_keeps_the_filled_tensor_in_the_graph():
    def program(T):
        x = leaf(T, [1.0, 2.0])
        w = leaf(T, [3.0])
        a = x * 1
        a.fill_(w[0])
        a.sum().backward()
        return x.grad, w.grad       # PyTorch: x.grad is zeros, not None
    assert_same_outcome(program)


@pytest.mark.parametrize("op", ["t", "expand"])
def test_view_ops_that_change_nothing_still_return_a_new_view(op):
    def program(T):
        x = leaf(T, [1.0, 2.0])
        a = x * 1
        va = a.t() if op == "t" else a.expand(2)
        vx = x.t() if op == "t" else x.expand(2)
        return va is a, vx is x, vx.grad_fn is None
    assert_same_outcome(program)


@pytest.mark.parametrize("make", ["unbind", "split", "chunk", "split_then_view",
                                  "chunk_then_transpose"])
def test_writing_to_an_output_of_a_multi_view_op_raises(make):
    def program(T):
        x = leaf(T, [[1.0, 2.0], [3.0, 4.0]])
        a = x * 1
        if make == "unbind":
            v = a.unbind(0)[0]
        elif make == "split":
            v = a.split(1)[0]
        elif make == "chunk":
            v = a.chunk(2, 1)[1]
        elif make == "split_then_view":
            v = a.split(1)[0].view(2)
        else:
            v = a.chunk(2)[0].transpose(0, 1)
        v.add_(1)
        return a.detach()
    assert_same_outcome(program)


@pytest.mark.parametrize("use", ["backward", "inplace"])
def test_an_output_of_a_multi_view_op_after_its_base_was_written(use):
    def program(T):
        x = leaf(T, [[1.0, 2.0], [3.0, 4.0]])
        a = x * 1
        u = a.split(1)[0]
        a.add_(1)
        if use == "backward":
            u.sum().backward()
        else:
            u[0] = 5.0
        return x.grad
    assert_same_outcome(program)


@pytest.mark.parametrize("op", ["zero_", "fill_"])
def test_fill_of_an_expanded_view_of_a_tensor_that_requires_grad(op):
    def program(T):
        x = leaf(T, [1.0, 2.0, 3.0])
        a = x.clone()
        e = a.expand(2, 3)
        e.zero_() if op == "zero_" else e.fill_(0.5)   # (every element gets the same value)
        return a.detach(), grad_fn_name(a)
    assert_same_outcome(program)


@pytest.mark.parametrize("grad", [False, True])
def test_advanced_index_assignment_from_an_overlapping_tensor_raises(grad):
    def program(T):
        x = T.tensor([1.0, 2.0], dtype=T.float64, requires_grad=grad)
        a = x * 1
        a[[0]] = a[:1]
        return a.detach()
    assert_same_outcome(program)


@pytest.mark.parametrize("op", ["mul_", "add_", "copy_"])
def test_inplace_op_from_a_partly_overlapping_view_raises_with_autograd(op):
    def program(T):
        x = leaf(T, [1.25, 0.75, 0.5])
        a = x * 1
        getattr(a, op)(a.narrow(0, 1, 1))   # a[1] would be read after it was written
        return a.detach()
    assert_same_outcome(program)


def test_advanced_index_assignment_of_a_float_tensor_into_an_int_tensor_raises():
    def program(T):
        a = T.tensor([1, 2])
        a[[0]] = T.tensor([0.5], dtype=T.float64)   # (a[0:1] = ... casts, in both)
        return a
    assert_same_outcome(program)


def test_int_pow_by_a_negative_int_tensor():
    def program(T):
        a = T.tensor([-3, 2])
        b = a ** T.tensor([-2, -2])
        a.pow_(T.tensor([-2, -2]))
        return b, a
    assert_same_outcome(program)


def test_floor_divide_of_a_tensor_that_requires_grad():
    def program(T):
        x = leaf(T, [1.5, -0.5])
        y = x // 2.0
        a = x * 1
        a //= 2.0
        return y.requires_grad, a.requires_grad, outcome(lambda _: a.sum().backward(), T)
    assert_same_outcome(program)
