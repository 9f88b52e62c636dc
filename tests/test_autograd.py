"""The autograd engine: graph structure, accumulation, freeing, version counters, hooks,
grad modes, user Functions, autograd.grad, double backward and gradcheck."""
import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from oracle import assert_same


def test_graph_structure_matches_pytorch_names():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    x = tg.tensor([3.0, 4.0])
    y = (w * x + 1.0).sum()
    assert y.grad_fn.name() == "SumBackward0"
    (add, _), = y.grad_fn.next_functions
    assert add.name() == "AddBackward0"
    mul = add.next_functions[0][0]
    assert mul.name() == "MulBackward0"
    acc, _ = mul.next_functions[0]
    assert acc.name() == "AccumulateGrad" and acc.variable is w
    assert mul.next_functions[1] == (None, 0)  # x needs no gradient
    assert w.is_leaf and not y.is_leaf and x.grad_fn is None
    assert y.requires_grad and not x.requires_grad


def test_backward_accumulates_and_reused_nodes_sum():
    a = tg.tensor(3.0, requires_grad=True)
    b = a + a
    c = b * a  # c = 2a^2, dc/da = 4a
    c.backward(retain_graph=True)
    assert a.grad.item() == 12.0
    c.backward()
    assert a.grad.item() == 24.0


def test_second_backward_through_freed_graph_fails_clearly():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (a * a).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_backward_from_non_scalar_needs_gradient():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    y = a * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    y.backward(tg.tensor([1.0, 0.5]))
    assert a.grad.tolist() == [2.0, 1.0]
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (a * 2).backward(tg.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.tensor([1.0]).sum().backward()


def test_inplace_change_of_saved_tensor_is_detected():
    a = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = a.exp()
    z = y * 2
    y.add_(1)  # exp saved its output y
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*version 1; "
                                           "expected version 0"):
        z.sum().backward()
    b = tg.tensor([1.0, 2.0], requires_grad=True)
    c = b * 1
    d = c.sigmoid()
    c.mul_(2)  # sigmoid saved its output, not c: fine, as in PyTorch
    d.sum().backward()
    assert b.grad is not None


def test_pow_nodes_save_what_pytorch_saves():
    """x ** 2 keeps only x (its result may change in place); a tensor exponent keeps the
    result as well. The three forms have PyTorch's three node names."""
    for L in (torch, tg):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x ** 2
        y.add_(1)
        y.sum().backward()
        assert x.grad.tolist() == [2.0, 4.0]
        assert y.grad_fn.next_functions[0][0].name() == "PowBackward0"
        z = x ** L.tensor([2.0, 3.0])
        assert z.grad_fn.name() == "PowBackward1"
        z.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation.*version 1"):
            z.sum().backward()
        assert (2 ** x).grad_fn.name() == "PowBackward2"


def test_leaf_requiring_grad_rejects_inplace_but_no_grad_allows_it():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in "
                                           "an in-place operation"):
        w.add_(1)
    with tg.no_grad():
        w -= 0.5
    assert w.tolist() == [0.5, 1.5] and w.requires_grad and w.is_leaf


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require "
                                           "gradients"):
        tg.tensor([1, 2], requires_grad=True)
    y = tg.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf"):
        y.requires_grad = False
    assert tg.ones(2).requires_grad_().requires_grad


def test_no_grad_enable_grad_set_grad_enabled():
    x = tg.ones(2, requires_grad=True)
    with tg.no_grad():
        y = x * 2
        with tg.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad
    with tg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert tg.is_grad_enabled()

    @tg.no_grad()
    def f(t):
        return t * 3
    assert not f(x).requires_grad
    tg.set_grad_enabled(False)
    assert not tg.is_grad_enabled()
    tg.set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_detach_shares_storage_and_cuts_the_graph():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    x2 = x.detach()
    x2[0] = 5.0
    assert x[0].item() == 5.0


def test_retain_grad_and_tensor_hooks_match_pytorch():
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        seen = []
        y.register_hook(lambda g: seen.append(g.tolist()))
        handle = y.register_hook(lambda g: g * 2)
        z = (y * y).sum()
        z.backward(retain_graph=True)
        handle.remove()
        x.grad = None
        z.backward()
        return x.grad.tolist(), y.grad.tolist(), seen
    assert run(tg) == run(torch)


def test_leaf_hook_and_non_leaf_grad_warning():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 10)
    (x * 2).sum().backward()
    assert x.grad.tolist() == [20.0, 20.0]
    y = x * 2
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert y.grad is None


def test_node_hooks():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    calls = []
    y.grad_fn.register_prehook(lambda grads: calls.append("pre"))
    y.grad_fn.register_hook(lambda gin, gout: calls.append("post"))
    y.sum().backward()
    assert calls == ["pre", "post"]


class MyExp(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * y


class ScaleBy(tg.autograd.Function):
    """Two outputs and a non-tensor argument."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k, x + 1

    @staticmethod
    def backward(ctx, g1, g2):
        return g1 * ctx.k + g2, None


def test_user_function_subclass():
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    y = MyExp.apply(x)
    assert y.grad_fn.name() == "MyExpBackward"
    y.sum().backward()
    assert np.allclose(x.grad.tolist(), [1.0, np.e])
    x.grad = None
    a, b = ScaleBy.apply(x, 3.0)
    (a.sum() + 2 * b.sum()).backward()
    assert x.grad.tolist() == [5.0, 5.0]
    x.grad = None
    a, b = ScaleBy.apply(x, 3.0)
    a.sum().backward()  # b got no gradient: materialized as zeros
    assert x.grad.tolist() == [3.0, 3.0]


def test_user_function_wrong_number_of_gradients():
    class Bad(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g
    x = tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients"):
        Bad.apply(x, x).sum().backward()


def test_autograd_grad_and_double_backward():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x ** 3).sum()
    g, = tg.autograd.grad(y, x, create_graph=True)
    assert g.tolist() == [3.0, 12.0] and x.grad is None
    g.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]
    z = tg.ones(1, requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        tg.autograd.grad((x * 2).sum(), [x, z])
    gx, gz = tg.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gz is None and gx.tolist() == [2.0, 2.0]


def test_hundred_thousand_op_chain():
    x = tg.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_gradcheck_accepts_right_and_rejects_wrong_derivatives():
    x = tg.rand(3, dtype=tg.float64, requires_grad=True)
    w = tg.rand(3, 2, dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda a, b: (a @ b).tanh(), (x, w))

    class Wrong(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * a

        @staticmethod
        def backward(ctx, g):
            return g  # should be 2 a g
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        tg.autograd.gradcheck(Wrong.apply, (x,))
    assert not tg.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)


def test_gradients_of_views_and_setitem():
    def run(m):
        w = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        buf = m.zeros(2, 3)
        buf[0] = w * 2
        buf[1, 1:] = w[:2] ** 2
        (buf * m.arange(6.0).view(2, 3)).sum().backward()
        return w.grad.tolist(), buf.grad_fn.name().split("::")[-1]  # torch::autograd::CopySlices
    assert run(tg) == run(torch)


def test_unbind_iteration_thermometer_style():
    """`w, b = params` unbinds; the gradients flow back into params."""
    params = tg.tensor([1.0, 0.0], requires_grad=True)
    t_u = tg.tensor([3.0, 4.0])
    w, b = params
    assert w.grad_fn.name() == "UnbindBackward0"
    ((w * t_u + b) ** 2).mean().backward()
    tp = torch.tensor([1.0, 0.0], requires_grad=True)
    tw, tb = tp
    ((tw * torch.tensor([3.0, 4.0]) + tb) ** 2).mean().backward()
    assert_same(params.grad, tp.grad)


def test_leaf_gradients_never_alias_each_other_or_intermediates():
    """AccumulateGrad keeps a fresh gradient without copying it, but only when nothing else can
    see it: two leaves fed the same gradient must still get separate tensors."""
    x = tg.ones(3, requires_grad=True)
    w = tg.ones(3, requires_grad=True)
    (x + w).sum().backward()
    assert x.grad.storage() is not w.grad.storage()
    x.grad.add_(1)
    assert w.grad.tolist() == [1.0, 1.0, 1.0]
    a = tg.ones(2, 3, requires_grad=True)
    b = tg.ones(2, 3, requires_grad=True)
    c = a * 2
    (c + b).sum().backward()
    assert a.grad.storage() is not b.grad.storage()
    b.grad.zero_()
    assert a.grad.tolist() == [[2.0] * 3] * 2
    weight = tg.ones(4, 3, requires_grad=True)
    out = tg.ones(5, 3) @ weight.t()
    kept = out.detach()
    out.sum().backward()
    assert weight.grad.is_contiguous() and weight.grad.tolist() == [[5.0] * 3] * 4
    assert weight.grad.storage() is not kept.storage()


# --------------------------------------------------------- outputs saved without reference cycles


class _SquareSavingOutput(tg.autograd.Function):
    """y = x^2, saving y itself (dy/dx = 2x = 2 y / x) to exercise saved outputs."""

    @staticmethod
    def forward(ctx, x):
        y = x * x
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * 2 * y / x


_SAVES_OUTPUT = {
    "exp": lambda L, x: x.exp(), "pow": lambda L, x: x ** L.full_like(x, 3.0),
    "sigmoid": lambda L, x: x.sigmoid(),
    "tanh": lambda L, x: x.tanh(), "softmax": lambda L, x: L.softmax(x, 0),
    "relu": lambda L, x: x.relu(), "sqrt": lambda L, x: x.sqrt(),
}


@pytest.mark.parametrize("op", sorted(_SAVES_OUTPUT))
def test_a_forward_without_backward_leaves_no_reference_cycle(op):
    import gc
    x = tg.tensor([0.5, 2.0], requires_grad=True)
    f = _SAVES_OUTPUT[op]
    y = f(tg, x)
    del y
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            y = f(tg, x)
            del y              # freed at once by reference counting, as in PyTorch
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_users_function_saving_its_output_is_freed_and_differentiates():
    import gc
    x = tg.tensor([0.5, 2.0], dtype=tg.float64, requires_grad=True)
    y = _SquareSavingOutput.apply(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 4.0])
    gc.collect()
    gc.disable()
    try:
        y = _SquareSavingOutput.apply(x)
        del y
        assert gc.collect() == 0
    finally:
        gc.enable()


@pytest.mark.parametrize("op", ["exp", "tanh", "sigmoid", "pow"])
def test_double_backward_flows_through_saved_outputs(op):
    data = [0.3, -1.2, 0.8]
    grads = []
    for L in (torch, tg):
        x = L.tensor(data, dtype=L.float64, requires_grad=True)
        y = _SAVES_OUTPUT[op](L, x)
        g, = L.autograd.grad(y.sum(), x, create_graph=True)
        g2, = L.autograd.grad((g * g).sum(), x)
        grads.append(g2)
    assert_same(grads[1], grads[0])


def test_changing_a_saved_output_in_place_names_the_node_that_made_it():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match="which is output 0 of ExpBackward0, is at version 1; "
                                           "expected version 0"):
        y.sum().backward()


def test_std_of_a_constant_has_zero_gradient_and_var_std_nodes_have_pytorchs_names():
    """PyTorch takes d std/dx as 0 where std = 0 (the chain rule through sqrt gives 0/0)."""
    grads = []
    for L in (torch, tg):
        x = L.tensor([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]], dtype=L.float64, requires_grad=True)
        s, v = x.std(1), x.var(0, correction=0)
        assert (s.grad_fn.name(), v.grad_fn.name()) == ("StdBackward0", "VarBackward0")
        (s.sum() + v.sum()).backward()
        g, = L.autograd.grad(x.std(0).sum(), x, create_graph=True)
        g2, = L.autograd.grad((g * g).sum(), x)
        grads.append((x.grad, g2))
    assert not tg.isnan(grads[1][0]).any()
    for ours, theirs in zip(grads[1], grads[0]):
        assert_same(ours, theirs)


@pytest.mark.parametrize("p", [2, "fro", 3, 0.5])
def test_norm_of_a_zero_vector_has_zero_gradient_as_in_pytorch(p):
    grads = []
    for L in (torch, tg):
        x = L.tensor([[0.0, 0.0], [3.0, -4.0]], dtype=L.float64, requires_grad=True)
        y = x.norm(p=p, dim=1) if p != "fro" else x.norm(dim=1)
        assert y.grad_fn.name() == "LinalgVectorNormBackward0"
        y.sum().backward()
        z = L.tensor([[1.0, 2.0], [3.0, -4.0]], dtype=L.float64, requires_grad=True)
        g, = L.autograd.grad(z.norm(p=p if p != "fro" else 2).sum(), z, create_graph=True)
        g2, = L.autograd.grad((g * g * z).sum(), z)
        grads.append((x.grad, g2))
    for ours, theirs in zip(grads[1], grads[0]):
        assert_same(ours, theirs)


_AT_SPECIAL_POINTS = {
    "abs": lambda L, x: x.abs(), "sqrt": lambda L, x: x.abs().sqrt(),
    "relu": lambda L, x: x.relu(), "clamp": lambda L, x: x.clamp(0, 1),
    "pow0.5": lambda L, x: x.abs() ** 0.5, "pow0": lambda L, x: x ** 0,
    "x**x": lambda L, x: x.abs() ** x, "max": lambda L, x: x.max(), "amax": lambda L, x: x.amax(1),
    "max1": lambda L, x: x.max(1).values, "median": lambda L, x: x.median(),
    "prod": lambda L, x: x.prod(), "cumprod": lambda L, x: x.cumprod(1),
    "norm1": lambda L, x: x.norm(1), "norminf": lambda L, x: x.norm(float("inf")),
    "std": lambda L, x: x.std(1), "maximum": lambda L, x: L.maximum(x, L.zeros_like(x)),
    "normalize": lambda L, x: L.nn.functional.normalize(x, dim=1),
    "cosine": lambda L, x: L.nn.functional.cosine_similarity(x, x * 2, dim=1),
    "smooth_l1": lambda L, x: L.nn.functional.smooth_l1_loss(x, L.zeros_like(x)),
    "layer_norm": lambda L, x: L.nn.functional.layer_norm(x, (3,)),
    "atan2": lambda L, x: L.atan2(x, L.zeros_like(x)),
    "hardtanh": lambda L, x: L.nn.functional.hardtanh(x),
}


@pytest.mark.parametrize("op", sorted(_AT_SPECIAL_POINTS))
def test_gradients_at_zeros_and_ties_match_pytorch(op):
    """Where a formula meets 0/0 or a tie, PyTorch picks a value (0, or a share of the
    gradient); NaN or a different pick there would silently break training."""
    grads = []
    for L in (torch, tg):
        x = L.tensor([[0.0, 0.0, 1.0], [-1.0, 2.0, 0.0]], dtype=L.float64, requires_grad=True)
        _AT_SPECIAL_POINTS[op](L, x).sum().backward()
        grads.append(x.grad)
    assert_same(grads[1], grads[0])
