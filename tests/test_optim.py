"""Optimizers against PyTorch: trajectories step for step, param groups, state_dict, errors.

Gradients come from a fixed function of the current parameter values (computed with numpy on
both sides), so what is compared is the optimizer alone. Every rule runs three times: through
the device's fused kernel, on one thread and on several (the threshold for threads lowered), and
through the tensor-op reference (`_fused_kernel` patched to None).
"""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
import tinygrad_edu.kernels_cpu as K
import tinygrad_edu.optim as optim
from tinygrad_edu.vector import kernels

STEPS = 20

CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.3, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2,
                     eps=1e-6)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CASES]


def fake_grad(p: np.ndarray) -> np.ndarray:
    """A gradient that changes with p and is large in some places and small in others."""
    return np.cos(3 * p) * 2 + 0.1 * p ** 3 - 0.5


def grad_for(lib, p):
    # np.asarray: a 0-d result stays an array with its dtype (tinygrad_edu.tensor turns a numpy
    # float64 *scalar* into float32, unlike torch.tensor)
    return lib.tensor(np.asarray(fake_grad(p.detach().numpy())))


def start_values(dtype):
    rng = np.random.default_rng(0)
    return [rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(5).astype(dtype),
            np.asarray(rng.standard_normal(()), dtype)]


def trajectory(lib, name, kwargs, dtype="float64", steps=STEPS):
    params = [lib.tensor(v, requires_grad=True) for v in start_values(dtype)]
    opt = getattr(lib.optim, name)(params, **kwargs)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        for p in params:
            p.grad = grad_for(lib, p)
        opt.step()
        out.append(np.concatenate([p.detach().numpy().ravel().copy() for p in params]))
    return np.array(out)


@pytest.fixture(params=["fused", "fused-threaded", "reference"])
def path(request, monkeypatch):
    """Run the optimizer through the fused kernels (single-threaded, or the threaded twins that
    big parameters get), or through the tensor-op reference rules."""
    if request.param == "fused-threaded":
        monkeypatch.setattr(K, "_UPDATE_PARALLEL_MIN", 1)
    elif request.param == "reference":
        monkeypatch.setattr(optim, "_fused_kernel", lambda *args: None)
    return request.param


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_trajectory_matches_pytorch_float64(name, kwargs, path):
    expected = trajectory(torch, name, kwargs)
    got = trajectory(tg, name, kwargs)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert np.abs(got[-1] - got[0]).max() > 1e-3  # the parameters really moved


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_trajectory_matches_pytorch_float32(name, kwargs, path):
    expected = trajectory(torch, name, kwargs, dtype="float32")
    got = trajectory(tg, name, kwargs, dtype="float32")
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-5)


def test_fused_kernel_is_used_when_available(monkeypatch):
    k = kernels(tg.device("cpu"))
    calls = []
    original = k.sgd_step
    monkeypatch.setattr(k, "sgd_step", lambda *a: (calls.append(a), original(*a)))
    p = tg.ones(4, requires_grad=True)
    p.grad = tg.ones(4)
    optim.SGD([p], lr=0.5).step()
    assert len(calls) == 1
    assert p.tolist() == [0.5] * 4


def test_non_contiguous_parameter_uses_the_reference_rule():
    base = np.arange(12, dtype=np.float64).reshape(3, 4)
    p = tg.tensor(base).t().detach().requires_grad_()  # a leaf with transposed strides
    q = torch.tensor(base).t().detach().requires_grad_()
    assert not p.is_contiguous()
    o1, o2 = optim.Adam([p], lr=0.1), torch.optim.Adam([q], lr=0.1)
    for _ in range(3):
        p.grad = grad_for(tg, p)
        q.grad = grad_for(torch, q)
        o1.step()
        o2.step()
    np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12)


def test_non_contiguous_gradient_is_read_correctly():
    p = tg.zeros(3, 2, requires_grad=True)
    p.grad = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).t()
    optim.SGD([p], lr=1.0).step()
    assert p.tolist() == [[-1.0, -4.0], [-2.0, -5.0], [-3.0, -6.0]]


def test_step_bumps_the_version_so_saved_tensors_notice():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()            # saves w for backward
    w.grad = tg.ones(2)
    optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_parameters_without_grad_are_skipped():
    a, b = tg.ones(2, requires_grad=True), tg.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = tg.ones(2)
    opt.step()
    assert b.tolist() == [1.0, 1.0] and b not in opt.state
    assert a.tolist() != [1.0, 1.0]


def test_param_groups_with_their_own_options_match_pytorch():
    def run(lib):
        a = lib.tensor(start_values("float64")[0], requires_grad=True)
        b = lib.tensor(start_values("float64")[1], requires_grad=True)
        opt = lib.optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.0}],
                            lr=0.01, momentum=0.9)
        for _ in range(5):
            for p in (a, b):
                p.grad = grad_for(lib, p)
            opt.step()
        return a.detach().numpy().copy(), b.detach().numpy().copy(), opt.param_groups
    a1, b1, groups1 = run(tg)
    a2, b2, groups2 = run(torch)
    np.testing.assert_allclose(a1, a2, rtol=1e-12)
    np.testing.assert_allclose(b1, b2, rtol=1e-12)
    for g1, g2 in zip(groups1, groups2):
        assert {k: v for k, v in g1.items() if k != "params"} == \
            {k: v for k, v in g2.items() if k != "params"}


def test_add_param_group_later():
    a, b = tg.ones(2, requires_grad=True), tg.ones(3, requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.5)
    opt.add_param_group({"params": [b], "lr": 1.0})
    assert opt.param_groups[1]["momentum"] == 0.5 and opt.param_groups[1]["lr"] == 1.0
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("Adam", dict(lr=0.1, amsgrad=True)),
                                         ("AdamW", dict()), ("RMSprop", dict(centered=True)),
                                         ("Adagrad", dict())])
def test_state_dict_has_pytorchs_layout(name, kwargs):
    def build(lib):
        params = [lib.tensor(v, requires_grad=True) for v in start_values("float32")]
        opt = getattr(lib.optim, name)([{"params": params[:2]}, {"params": params[2:],
                                                                  "lr": 0.5}], **kwargs)
        for p in params:
            p.grad = grad_for(lib, p)
        opt.step()
        return opt.state_dict()
    ours, theirs = build(tg), build(torch)
    assert ours["param_groups"] == theirs["param_groups"]
    assert ours["state"].keys() == theirs["state"].keys()
    for index, state in theirs["state"].items():
        assert ours["state"][index].keys() == state.keys()
        for key, value in state.items():
            mine = ours["state"][index][key]
            assert mine.dtype.name == str(value.dtype).removeprefix("torch.")
            np.testing.assert_allclose(mine.numpy(), value.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.05, momentum=0.9)),
                                         ("Adam", dict(lr=0.05)),
                                         ("RMSprop", dict(lr=0.01, momentum=0.5)),
                                         ("Adagrad", dict(lr=0.1))])
def test_load_state_dict_continues_the_same_trajectory(name, kwargs):
    straight = trajectory(tg, name, kwargs, steps=10)
    params = [tg.tensor(v, requires_grad=True) for v in start_values("float64")]
    first = getattr(optim, name)(params, **kwargs)
    for _ in range(5):
        for p in params:
            p.grad = grad_for(tg, p)
        first.step()
    saved = first.state_dict()
    clones = [p.detach().clone().requires_grad_() for p in params]
    second = getattr(optim, name)(clones, lr=123.0)   # options come back from the state dict
    second.load_state_dict(saved)
    assert second.param_groups[0]["lr"] == kwargs["lr"]
    assert second.param_groups[0]["params"][0] is clones[0]
    for _ in range(5):
        for p in clones:
            p.grad = grad_for(tg, p)
        second.step()
    got = np.concatenate([p.detach().numpy().ravel() for p in clones])
    np.testing.assert_allclose(got, straight[-1], rtol=1e-12)
    # the loaded state is a copy: stepping the second optimizer left the first one's alone
    if name == "Adam":
        assert first.state[params[0]]["step"].item() == 5
        assert second.state[clones[0]]["step"].item() == 10


def test_state_dict_survives_save_and_load(tmp_path):
    p = tg.ones(3, requires_grad=True)
    opt = optim.Adam([p], lr=0.01, betas=(0.8, 0.99))
    p.grad = tg.tensor([1.0, -2.0, 3.0])
    opt.step()
    tg.save(opt.state_dict(), tmp_path / "opt.pt")
    loaded = tg.load(tmp_path / "opt.pt")
    assert loaded["param_groups"][0]["betas"] == (0.8, 0.99)
    q = tg.ones(3, requires_grad=True)
    again = optim.Adam([q])
    again.load_state_dict(loaded)
    assert again.state[q]["exp_avg"].tolist() == pytest.approx([0.2, -0.4, 0.6])
    assert again.state[q]["step"].item() == 1.0


def test_state_of_the_wrong_shape_is_refused_before_any_kernel_runs():
    a = tg.ones(2, requires_grad=True)
    opt = optim.Adam([a])
    a.grad = tg.ones(2)
    opt.step()
    saved = opt.state_dict()
    b = tg.ones(3, requires_grad=True)                 # same count of parameters, other shape
    with pytest.raises(ValueError, match=r"state\[0\]\['exp_avg'\] has shape \[2\] but its "
                                         r"parameter has shape \[3\]"):
        optim.Adam([b]).load_state_dict(saved)
    opt.state[a]["exp_avg_sq"] = tg.zeros(1)           # a hand-edited state
    with pytest.raises(RuntimeError, match=r"shape \[1\].*does not match its parameter of "
                                           r"shape \[2\]"):
        opt.step()


def test_load_state_dict_rejects_a_different_layout():
    a, b = tg.ones(2, requires_grad=True), tg.ones(2, requires_grad=True)
    saved = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([a], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(saved)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    p = tg.ones(3, requires_grad=True)
    (p * 2).sum().backward()
    opt = optim.SGD([p], lr=0.1)
    opt.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert p.grad is None
    else:
        assert p.grad.tolist() == [0.0, 0.0, 0.0]


def test_the_books_loop_with_backward_and_zero_grad_matches_pytorch():
    """Book ch. 4.2.1: the thermometer fit with optim.SGD, real gradients from autograd."""
    t_c = [0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0]
    t_u = [35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4]

    def fit(lib, cls, lr, scale, epochs):
        c, u = lib.tensor(t_c), lib.tensor(t_u) * scale
        params = lib.tensor([1.0, 0.0], requires_grad=True)
        opt = cls(lib)([params], lr=lr)
        for _ in range(epochs):
            loss = ((params[0] * u + params[1] - c) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        return params.detach().numpy().copy(), loss.item()
    for cls, lr, scale, epochs in [(lambda m: m.optim.SGD, 1e-2, 0.1, 5000),
                                   (lambda m: m.optim.Adam, 1e-1, 1.0, 2000)]:
        (p1, l1), (p2, l2) = fit(tg, cls, lr, scale, epochs), fit(torch, cls, lr, scale, epochs)
        np.testing.assert_allclose(p1, p2, rtol=1e-4)
        assert l1 == pytest.approx(l2, rel=1e-4)
    p, loss = fit(tg, lambda m: m.optim.SGD, 1e-2, 0.1, 5000)
    np.testing.assert_allclose(p, [5.3671, -17.3012], atol=1e-4)  # the book's printed result
    assert loss == pytest.approx(2.927647, abs=1e-5)


def test_closure_is_evaluated_with_grad_enabled():
    p = tg.tensor([2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    with tg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0
    assert p.item() == pytest.approx(2.0 - 0.1 * 4.0)


def test_step_hooks_run_and_can_be_removed():
    p = tg.ones(1, requires_grad=True)
    p.grad = tg.ones(1)
    opt = optim.SGD([p], lr=0.1)
    seen = []
    handle = opt.register_step_pre_hook(lambda o, a, k: seen.append(("pre", p.item())))
    opt.register_step_post_hook(lambda o, a, k: seen.append(("post", p.item())))
    opt.step()
    handle.remove()
    opt.step()
    assert seen == [("pre", 1.0), ("post", pytest.approx(0.9)), ("post", pytest.approx(0.8))]


@pytest.mark.parametrize("make,message", [
    (lambda p: optim.SGD([p], lr=-0.1), "Invalid learning rate: -0.1"),
    (lambda p: optim.SGD([p], lr=0.1, momentum=-1), "Invalid momentum value: -1"),
    (lambda p: optim.SGD([p], lr=0.1, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda p: optim.SGD([p], lr=0.1, nesterov=True), "Nesterov momentum requires a momentum"),
    (lambda p: optim.Adam([p], betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.Adam([p], betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda p: optim.Adam([p], eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (lambda p: optim.RMSprop([p], alpha=-0.5), "Invalid alpha value: -0.5"),
    (lambda p: optim.Adagrad([p], lr_decay=-1), "Invalid lr_decay value: -1"),
    (lambda p: optim.SGD([], lr=0.1), "optimizer got an empty parameter list"),
    (lambda p: optim.SGD([p * 2], lr=0.1), "can't optimize a non-leaf Tensor"),
])
def test_invalid_arguments_raise_pytorchs_errors(make, message):
    p = tg.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make(p)


def test_other_misuse_is_a_type_error():
    p = tg.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([p, 3.0], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        optim.Adam([p], differentiable=True)


def test_duplicate_parameters_warn_like_pytorch():
    p = tg.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)


def test_a_group_without_required_lr():
    p = tg.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="didn't specify a value of required optimization "
                                         "parameter lr"):
        optim.SGD([{"params": [p]}], lr=optim.required)


def test_repr_lists_the_groups():
    p = tg.ones(2, requires_grad=True)
    text = repr(optim.Adam([p], lr=0.01))
    assert text.startswith("Adam (\nParameter Group 0\n")
    assert "    lr: 0.01\n" in text and "    betas: (0.9, 0.999)\n" in text
    assert text == repr(torch.optim.Adam([torch.ones(2, requires_grad=True)], lr=0.01))
    groups = [{"params": [tg.ones(1, requires_grad=True)]} for _ in range(2)]
    theirs = [{"params": [torch.ones(1, requires_grad=True)]} for _ in range(2)]
    assert repr(optim.SGD(groups, lr=0.1)) == repr(torch.optim.SGD(theirs, lr=0.1))


def test_adam_state_is_created_lazily_and_adagrad_state_eagerly():
    p = tg.ones(2, requires_grad=True)
    assert len(optim.Adam([p]).state) == 0
    state = optim.Adagrad([p], initial_accumulator_value=0.5).state[p]
    assert state["sum"].tolist() == [0.5, 0.5] and state["step"].item() == 0.0


def test_named_parameters_are_accepted():
    p = tg.ones(2, requires_grad=True)
    opt = optim.SGD([("weight", p)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight"]
    assert opt.param_groups[0]["params"][0] is p


def test_no_warnings_in_a_plain_training_step():
    p = tg.ones(3, requires_grad=True)
    opt = optim.Adam([p])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (p * p).sum().backward()
        opt.step()
        opt.zero_grad()
