"""Shared helpers for comparing tinygrad_edu with PyTorch, the test oracle.

`pair(array)` makes the same tensor in both frameworks; `layouts` draws a tensor that may be a
non-contiguous view (transposed, strided slice, broadcast) with the same values in both;
`twin` makes a module a float64 copy of a torch module; `assert_same` compares values, shapes
and dtypes.
"""
from __future__ import annotations

import types

import numpy as np
import torch
from hypothesis import strategies as st

import tinygrad_edu as tg

TORCH_DTYPE = {tg.float32: torch.float32, tg.float64: torch.float64, tg.int64: torch.int64,
               tg.int32: torch.int32, tg.int16: torch.int16, tg.uint8: torch.uint8,
               tg.bool: torch.bool}
OUR_DTYPE = {v: k for k, v in TORCH_DTYPE.items()}


def pair(array, requires_grad: bool = False):
    """The same values as (ours, torch's) tensors, both leaves."""
    array = np.asarray(array)
    ours = tg.tensor(array.copy())
    theirs = torch.tensor(array.copy())
    if requires_grad:
        ours.requires_grad_(True)
        theirs.requires_grad_(True)
    return ours, theirs


def to_numpy(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return np.array(t.detach().tolist(), dtype=t.dtype.np_dtype).reshape(t.shape)


def assert_same(ours, theirs, rtol: float = 1e-7, atol: float = 1e-9, check_dtype=True):
    """Same shape, dtype and values (NaNs in the same places)."""
    assert tuple(ours.shape) == tuple(theirs.shape), (ours.shape, theirs.shape)
    if check_dtype:
        assert TORCH_DTYPE[ours.dtype] == theirs.dtype, (ours.dtype, theirs.dtype)
    a, b = to_numpy(ours), to_numpy(theirs)
    if a.dtype.kind in "biu":
        assert np.array_equal(a, b), (a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


def twin(ours, theirs):
    """Make the module `ours` a float64 copy of the torch module `theirs` (same parameters and
    buffers); returns both."""
    theirs.double()
    ours.double()
    result = ours.load_state_dict({k: tg.tensor(v.detach().numpy())
                                   for k, v in theirs.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    return ours, theirs


def fake_cuda_kernels():
    """A stand-in "CUDA" kernels module that keeps the arrays in host memory: enough for code
    that only moves, views and reads device tensors (printing, save/load) on a machine without
    a GPU. Install it with monkeypatch.setitem(vector._kernels_cache, "cuda", ...)."""
    def as_strided(buf, offset, shape, strides):
        return np.lib.stride_tricks.as_strided(buf[offset:], shape,
                                               tuple(s * buf.itemsize for s in strides))
    return types.SimpleNamespace(to_numpy=lambda x: x, from_numpy=lambda x: x.copy(),
                                 as_strided=as_strided)


def assert_same_grads(ours_list, theirs_list, rtol=1e-7, atol=1e-9):
    for i, (o, t) in enumerate(zip(ours_list, theirs_list)):
        if t.grad is None:
            assert o.grad is None or not to_numpy(o.grad).any(), f"input {i}: unexpected grad"
            continue
        assert o.grad is not None, f"input {i}: missing grad"
        assert_same(o.grad, t.grad, rtol, atol)


# ---------------------------------------------------------------- hypothesis strategies

def shapes(min_dims=0, max_dims=4, min_side=1, max_side=5):
    return st.lists(st.integers(min_side, max_side), min_size=min_dims,
                    max_size=max_dims).map(tuple)


@st.composite
def broadcastable_shapes(draw, max_dims=4, max_side=4):
    """Two shapes that broadcast together (some sizes 1, some dims missing)."""
    full = draw(shapes(0, max_dims, 1, max_side))
    out = []
    for _ in range(2):
        drop = draw(st.integers(0, len(full)))
        s = list(full[drop:])
        for i in range(len(s)):
            if draw(st.booleans()) and draw(st.booleans()):
                s[i] = 1
        out.append(tuple(s))
    return tuple(out)


def values(shape, seed, low=-3.0, high=3.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.uniform(low, high, shape).astype(dtype)
    if np.dtype(dtype).kind == "b":
        return rng.random(shape) < 0.5
    return rng.integers(int(low), int(high) + 1, shape).astype(dtype)


LAYOUTS = ("contiguous", "transposed", "strided", "expanded", "offset")


def make_layout(array: np.ndarray, layout: str, requires_grad: bool = False):
    """(ours, theirs, leaves): the same values in a chosen memory layout in both frameworks.

    The leaves are the contiguous tensors the view was made from (they receive the grads).
    """
    shape = array.shape
    if layout == "transposed" and len(shape) >= 2:
        base = np.ascontiguousarray(np.swapaxes(array, -1, -2))
        o, t = pair(base, requires_grad)
        return o.transpose(-1, -2), t.transpose(-1, -2), (o, t)
    if layout == "strided" and len(shape) >= 1:
        base = np.repeat(array, 2, axis=-1)  # every other element along the last dim is ours
        o, t = pair(base, requires_grad)
        return o[..., ::2], t[..., ::2], (o, t)
    if layout == "expanded" and len(shape) >= 1 and shape[0] > 1:
        base = array[:1]
        o, t = pair(base, requires_grad)
        return o.expand(shape), t.expand(shape), (o, t)
    if layout == "offset":
        base = np.concatenate([np.zeros((1,) + shape[1:], array.dtype), array]) if shape \
            else np.array([0, array.item()], dtype=array.dtype)
        o, t = pair(base, requires_grad)
        return (o[1:], t[1:], (o, t)) if shape else (o[1], t[1], (o, t))
    o, t = pair(array, requires_grad)
    return o, t, (o, t)
