"""The primitive interface (tinygrad_edu/primitives.py) against its implementations and its
documentation: both kernels modules implement every primitive with the same parameters,
docs/primitives.md lists the same primitives and op names, and the checks reject bad calls."""
import inspect
import re
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import elementwise_math, kernels_cpu, primitives
from tinygrad_edu import kernels_cuda      # conftest.py turns the simulator on without a GPU

DOC = Path(__file__).resolve().parents[1] / "docs" / "primitives.md"
OP_LISTS = ("UNARY_OPS", "BINARY_OPS", "REDUCE_OPS", "ARGREDUCE_OPS")


def _documented_primitives() -> list:
    """The first column of every table in docs/primitives.md: `name(args)` -> (name, args)."""
    found = []
    for line in DOC.read_text().splitlines():
        m = re.match(r"\|\s*`(\w+)\(([^)]*)\)`\s*\|", line)
        if m:
            found.append((m.group(1), [a.split("=")[0].strip() for a in m.group(2).split(",")
                                       if a.strip()]))
    return found


def _documented_ops(name: str) -> tuple:
    """The names listed after `NAME`: in docs/primitives.md (up to the next blank line)."""
    text = DOC.read_text()
    m = re.search(rf"`{name}`: (.*?)(?:\n\n|$)", text, re.S)
    assert m, f"docs/primitives.md lists no {name}"
    words = re.sub(r"\([^)]*\)", "", m.group(1))           # drop "(true division)" and such
    found = [w for w in re.findall(r"[a-z][a-z0-9_]*", words) if w in _ALL_OP_NAMES]
    return tuple(dict.fromkeys(found))                      # first mentions, in order


_ALL_OP_NAMES = set(primitives.UNARY_OPS + primitives.BINARY_OPS)


def _parameters(fn) -> list:
    return list(inspect.signature(fn).parameters.values())


@pytest.mark.parametrize("kernels", [kernels_cpu, kernels_cuda], ids=["cpu", "cuda"])
@pytest.mark.parametrize("name", primitives.PRIMITIVES)
def test_each_kernels_module_implements_the_primitive_with_its_parameters(kernels, name):
    spec = getattr(primitives, name)
    if not hasattr(kernels, name):
        assert name in primitives.OPTIONAL, f"{kernels.__name__} lacks the primitive {name}"
        return
    implementation = _parameters(getattr(kernels, name))
    wanted = _parameters(spec)
    assert [p.name for p in implementation[:len(wanted)]] == [p.name for p in wanted], \
        f"{kernels.__name__}.{name}{inspect.signature(getattr(kernels, name))} differs from " \
        f"primitives.{name}{inspect.signature(spec)}"
    for p, q in zip(implementation, wanted):   # what the interface lets callers omit
        if q.default is not inspect.Parameter.empty:
            assert p.default == q.default, f"{kernels.__name__}.{name}: default of {p.name}"
    # anything more (numpy's own empty has order=, like=, ...) must be optional
    assert all(p.default is not inspect.Parameter.empty or p.kind is p.VAR_KEYWORD
               for p in implementation[len(wanted):]), f"{kernels.__name__}.{name}"


def test_the_interface_names_every_primitive_it_defines():
    defined = {name for name, value in vars(primitives).items()
               if inspect.isfunction(value) and value.__module__ == primitives.__name__
               and not name.startswith("_")}
    helpers = {"unknown_op", "check_op", "check_same_shape", "accumulator_dtype", "arange_dtype",
               "check_floats", "im2col_geometry", "check_windows", "checked"}
    assert defined - helpers == set(primitives.PRIMITIVES)


def test_the_docs_tables_list_the_primitives_of_the_interface():
    documented = _documented_primitives()
    names = [name for name, _ in documented]
    assert len(names) == len(set(names)), "a primitive is listed twice in docs/primitives.md"
    assert set(names) == set(primitives.PRIMITIVES)
    for name, args in documented:
        assert args == [p.name for p in _parameters(getattr(primitives, name))], \
            f"docs/primitives.md shows {name}({', '.join(args)})"


@pytest.mark.parametrize("op_list", OP_LISTS)
def test_the_op_lists_agree(op_list):
    names = getattr(primitives, op_list)
    assert getattr(kernels_cpu, op_list) == names
    assert getattr(kernels_cuda, op_list) == names
    table = {"UNARY_OPS": elementwise_math.UNARY_MATH, "BINARY_OPS": elementwise_math.BINARY_MATH,
             "REDUCE_OPS": elementwise_math.REDUCE_MATH}.get(op_list)
    if table is not None:   # the math of each op is written once, in the same order
        assert tuple(op for op in table if not op.startswith("_")) == names
        for kernels in (kernels_cpu, kernels_cuda):
            assert tuple(getattr(kernels, op_list.replace("OPS", "MATH"))) == tuple(table)
    if op_list in ("UNARY_OPS", "BINARY_OPS"):
        assert _documented_ops(op_list) == names


def test_the_docs_state_integer_pow_of_a_negative_exponent():
    text = " ".join(DOC.read_text().split())
    assert "1 for base 1, ±1 for base -1, 0 otherwise" in text


# ---------------------------------------------------------------------------------- the checks

a32 = np.zeros((2, 3), np.float32)


@pytest.mark.parametrize("kernels", [kernels_cpu, kernels_cuda], ids=["cpu", "cuda"])
def test_an_unknown_op_is_refused_with_the_list_of_names(kernels):
    x = kernels.from_numpy(a32)
    out = kernels.empty((2, 3), np.float32)
    for call, kind in ((lambda k: k.unary("cube", x, out), "unary"),
                       (lambda k: k.binary("cube", x, x, out), "binary"),
                       (lambda k: k.reduce("cube", x, (1,), kernels.empty((2, 1), np.float32)),
                        "reduce"),
                       (lambda k: k.argreduce("cube", x, 1, kernels.empty((2, 1), np.int64)),
                        "argreduce")):
        names = ", ".join(getattr(primitives, kind.upper() + "_OPS"))
        message = f"unknown {kind} op 'cube'; expected one of: {names}"
        for target in (kernels, primitives.checked(kernels)):   # the kernels check it anyway
            with pytest.raises(ValueError) as error:
                call(target)
            assert str(error.value) == message


def test_the_checks_refuse_bad_calls_with_a_clear_message():
    b = np.zeros((3, 2), np.float32)
    cases = [
        (lambda: primitives.binary("add", a32, b, a32), "elementwise primitives need equal "
         "shapes (broadcast with stride-0 views first), got (3, 2) and out (2, 3)"),
        (lambda: primitives.binary("add", a32, a32.astype(np.int64), a32),
         "binary: a and b must have one dtype (the caller casts), got float32 and int64"),
        (lambda: primitives.unary("exp", b, a32), "got (3, 2) and out (2, 3)"),
        (lambda: primitives.reduce("sum", a32, (1, 0), np.zeros((1, 1))),
         "reduce: axes must be sorted, unique and within 0 .. 1, got (1, 0)"),
        (lambda: primitives.reduce("sum", a32, (1, 1), np.zeros((2, 1))), "got (1, 1)"),
        (lambda: primitives.reduce("sum", a32, (2,), np.zeros((2, 3))), "got (2,)"),
        (lambda: primitives.reduce("sum", a32, (1,), np.zeros((2, 3))),
         "reduce: out has shape (2, 3), expected (2, 1)"),
        (lambda: primitives.argreduce("argmax", a32, 1, np.zeros((2, 1))),
         "argreduce: out must be int64, got float64"),
        (lambda: primitives.matmul(np.zeros((1, 2, 3)), np.zeros((1, 2, 3)), np.zeros((1, 2, 3))),
         "matmul: shapes (1, 2, 3) @ (1, 2, 3) -> (1, 2, 3) do not fit"),
        (lambda: primitives.gather(a32, 2, np.zeros((2, 3), np.int64), a32),
         "gather: axis 2 is not one of 0 .. 1"),
        (lambda: primitives.scatter(a32, 0, np.zeros((2, 3), np.int64), a32, "max"),
         "scatter: reduce must be None, 'add' or 'multiply', got 'max'"),
        (lambda: primitives.random_integers(a32, None, 3, 3), "need low < high, got 3 and 3"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError) as error:
            call()
        assert message in str(error.value)


@pytest.mark.parametrize("kernels", [kernels_cpu, kernels_cuda], ids=["cpu", "cuda"])
def test_the_checked_kernels_check_then_compute(kernels):
    checked = primitives.checked(kernels)
    x = kernels.from_numpy(np.arange(6, dtype=np.float32).reshape(2, 3))
    out = kernels.empty((2, 3), np.float32)
    checked.binary("mul", x, x, out)
    np.testing.assert_array_equal(kernels.to_numpy(out), np.arange(6).reshape(2, 3) ** 2)
    total = kernels.empty((2, 1), np.float32)
    checked.reduce("sum", x, (1,), total)
    np.testing.assert_array_equal(kernels.to_numpy(total), [[3], [12]])
    with pytest.raises(ValueError, match="reduce: out has shape"):
        checked.reduce("sum", x, (1,), out)
    assert checked.UNARY_OPS == primitives.UNARY_OPS and checked.binary.__wrapped__ is \
        kernels.binary


# ----------------------------------------------------------------------- the math, written once


def test_the_math_runs_as_plain_python_with_numpys_functions():
    m = elementwise_math
    assert m.sigmoid(np.float32(0.0)) == 0.5 and m.sigmoid(np.float32(-200.0)) == 0.0
    assert m.floor_divide_float(7.0, -2.0) == -4.0 and m.remainder_float(-7.0, 2.0) == 1.0
    assert [m.pow_int(a, -3) for a in (1, -1, 2, 0)] == [1, -1, 0, 0]
    assert m.round_half_even(np.float64(2.5)) == 2.0 and m.round_half_even(np.float64(3.5)) == 4
    assert m.BINARY_MATH["pow"].for_kind("i") is m.pow_int
    assert m.UNARY_MATH["bitwise_not"].for_kind("b")(np.bool_(True)) == np.False_


def test_compiled_for_rebinds_the_library_and_refuses_unknown_names():
    ns = elementwise_math.compiled_for({"exp": lambda x: 0.0}, compile=lambda fn: fn)
    assert ns.compiled["sigmoid"](5.0) == 1.0       # 1 / (1 + "e^-5" = 0)
    assert elementwise_math.sigmoid(5.0) != 1.0     # the module's own is untouched
    with pytest.raises(ValueError, match="no such names"):
        elementwise_math.compiled_for({"expo": None}, compile=lambda fn: fn)
