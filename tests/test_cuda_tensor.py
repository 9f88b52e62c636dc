"""Tensors on device "cuda": placement, transfers, autograd and training, compared with the CPU.

Without a GPU these run in Numba's CUDA simulator (tests/conftest.py turns it on), with a GPU on
it; nothing here depends on which. Sizes are small because the simulator runs every CUDA thread
as a Python thread.
"""
import os
import subprocess
import sys
import textwrap
import traceback

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

if not tg.cuda.is_available():      # e.g. NUMBA_ENABLE_CUDASIM=0 on a machine without a GPU
    pytest.skip("CUDA (or its simulator) is not available", allow_module_level=True)


def assert_close(cuda_tensor, cpu_tensor, rtol=1e-5, atol=1e-6):
    assert cuda_tensor.device == tg.device("cuda:0")
    assert cuda_tensor.dtype == cpu_tensor.dtype
    assert cuda_tensor.shape == cpu_tensor.shape
    np.testing.assert_allclose(cuda_tensor.detach().cpu().numpy(), cpu_tensor.detach().numpy(),
                               rtol=rtol, atol=atol)


# ------------------------------------------------------------------- the tinygrad_edu.cuda API


def test_cuda_module_api():
    assert tg.cuda.is_available() is True
    assert tg.cuda.device_count() >= 1
    assert tg.cuda.current_device() == 0
    assert isinstance(tg.cuda.get_device_name(), str) and tg.cuda.get_device_name()
    assert tg.cuda.is_simulator() == (tg.cuda.get_device_name() == "Numba CUDA simulator")
    tg.cuda.synchronize()


def test_cuda_manual_seed_seeds_cuda_random_tensors():
    tg.cuda.manual_seed(3)
    a = tg.rand(4, device="cuda")
    tg.cuda.manual_seed_all(3)
    b = tg.rand(4, device="cuda")
    np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())
    assert a.device.type == "cuda"


# ------------------------------------------------------------------------ placement, transfers


def test_creation_on_cuda():
    for t in (tg.zeros(2, 3, device="cuda"), tg.ones((2, 3), device="cuda:0"),
              tg.full((2, 3), 7.0, device=tg.device("cuda")), tg.empty(2, 3, device="cuda"),
              tg.tensor([[1, 2, 3], [4, 5, 6]], device="cuda"), tg.rand(2, 3, device="cuda"),
              tg.randn(2, 3, device="cuda"), tg.zeros_like(tg.ones(2, 3), device="cuda")):
        assert t.device == tg.device("cuda", 0) and t.is_cuda and t.shape == (2, 3)
        assert t.get_device() == 0 and str(t.device) == "cuda:0"
    np.testing.assert_array_equal(tg.arange(5, device="cuda").cpu().numpy(), np.arange(5))
    np.testing.assert_allclose(tg.linspace(0, 1, 5, device="cuda").cpu().numpy(),
                               np.linspace(0, 1, 5), rtol=1e-6)
    np.testing.assert_array_equal(tg.eye(3, device="cuda").cpu().numpy(), np.eye(3))
    np.testing.assert_array_equal(tg.full((2,), 7.0, device="cuda").cpu().numpy(), [7, 7])


def test_to_cuda_and_back_keeps_values_dtypes_and_gradients():
    for dtype in (tg.float32, tg.float64, tg.int64, tg.int32, tg.uint8, tg.bool):
        x = tg.tensor([[0, 1, 2], [3, 4, 5]], dtype=dtype)
        for y in (x.to("cuda"), x.cuda(), x.to("cuda:0"), x.to(tg.device("cuda")),
                  x.to(device="cuda"), tg.as_tensor(x, device="cuda")):
            assert y.device.type == "cuda" and y.dtype == dtype
            back = y.cpu()
            assert back.device == tg.device("cpu")
            np.testing.assert_array_equal(back.numpy(), x.numpy())
    x = tg.arange(6.0).reshape(2, 3)
    assert x.to("cpu") is x                               # nothing to do: the same tensor
    y = x.cuda()
    assert y.cuda() is y
    assert y.to("cuda", tg.float64).dtype == tg.float64   # device and dtype at once
    np.testing.assert_array_equal(y.t().cpu().numpy(), x.numpy().T)    # a view goes across
    np.testing.assert_array_equal(y.double().cpu().numpy(), x.numpy())
    # .to() is differentiable: the gradient comes back to the CPU leaf
    leaf = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (leaf.cuda() * leaf.cuda()).sum().backward()
    assert leaf.grad.device.type == "cpu"
    np.testing.assert_allclose(leaf.grad.numpy(), [2, 4, 6])


def test_reading_values_from_cuda():
    y = tg.tensor([[1.5, 2.0], [3.0, 4.0]], device="cuda")
    assert y[0, 0].item() == 1.5 and float(y[1, 1]) == 4.0
    assert y.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert repr(y) == "tensor([[1.5000, 2.0000],\n        [3.0000, 4.0000]], device='cuda:0')"
    assert y.type() == "torch.cuda.FloatTensor"
    with pytest.raises(TypeError, match="cpu"):
        y.numpy()
    np.testing.assert_array_equal(np.asarray(y), [[1.5, 2.0], [3.0, 4.0]])   # copies to host


def test_mixed_devices_raise_like_pytorch():
    a, b = tg.ones(3), tg.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but "
                                           "found at least two devices, cuda:0 and cpu!"):
        b + a
    with pytest.raises(RuntimeError, match="same device"):
        tg.ones(2, 3) @ tg.ones(3, 2, device="cuda")


def test_in_place_ops_and_views_on_cuda():
    x = tg.zeros(3, 4, device="cuda")
    x[1] = 5.0
    x[:, 2] += 1
    x.add_(tg.ones(4, device="cuda"))
    expected = np.zeros((3, 4), np.float32)
    expected[1] = 5
    expected[:, 2] += 1
    expected += 1
    np.testing.assert_array_equal(x.cpu().numpy(), expected)
    v = x.t()[1:3]
    assert v.storage() is x.storage() and not v.is_contiguous()
    np.testing.assert_array_equal(v.contiguous().cpu().numpy(), expected.T[1:3])
    assert x.storage().device.type == "cuda" and x.storage().tolist()[4] == 6.0


# ------------------------------------------------------------------------------ ops and grads


def _both(fn, *arrays, requires_grad=True):
    """fn on CPU tensors and on CUDA tensors made from the same arrays; grads of every input."""
    results = []
    for device in ("cpu", "cuda"):
        inputs = [tg.tensor(a, device=device, requires_grad=requires_grad and
                            np.asarray(a).dtype.kind == "f") for a in arrays]
        out = fn(*inputs)
        if requires_grad:
            out.sum().backward() if out.dim() else out.backward()
        results.append((out, inputs))
    return results


@pytest.mark.parametrize("name, fn", [
    ("broadcast arithmetic", lambda a, b: (a * b + 2) / (b.abs() + 1) - a),
    ("unary chain", lambda a, b: (a.exp() + b.sigmoid()).log() * a.tanh() + b.relu()),
    ("matmul and bias", lambda a, b: (a @ b.t()).relu() + b.sum(1)),
    ("reductions", lambda a, b: a.mean(1, keepdim=True) * a.max(1).values.unsqueeze(1) + b.var()),
    ("softmax", lambda a, b: a.softmax(1) * b.log_softmax(1)),
    ("views", lambda a, b: a.t()[1:].reshape(-1) * b.reshape(-1)[:9]),
    ("where and clamp", lambda a, b: tg.where(a > 0, a, b).clamp(-0.5, 0.5) + a.pow(2)),
    ("cat and stack", lambda a, b: tg.cat([a, b * 2], 0).sum(0) + tg.stack([a, b]).mean(0)[0]),
])
def test_ops_and_gradients_match_cpu(name, fn):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 4)).astype(np.float32)
    b = rng.normal(size=(3, 4)).astype(np.float32)
    (cpu_out, cpu_in), (cuda_out, cuda_in) = _both(fn, a, b)
    assert_close(cuda_out, cpu_out, rtol=1e-4, atol=1e-5)
    for x_cuda, x_cpu in zip(cuda_in, cpu_in):
        assert x_cuda.grad.device.type == "cuda"
        assert_close(x_cuda.grad, x_cpu.grad, rtol=1e-4, atol=1e-5)


def test_indexing_and_gather_gradients_match_cpu():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 5))
    idx = np.array([[0, 2], [1, 4], [3, 3], [2, 0]])

    def fn(x, i):
        return x.gather(1, i).sum() + x[[0, 2, 2]].sum() * 2 + x[x > 0].sum() \
            + x.index_select(1, i[0]).sum()
    (cpu_out, (cpu_x, _)), (cuda_out, (cuda_x, _)) = _both(fn, a, idx)
    assert_close(cuda_out, cpu_out, rtol=1e-10)
    assert_close(cuda_x.grad, cpu_x.grad, rtol=1e-10)


def test_sorting_and_searching_match_cpu():
    x = np.array([[3.0, 1.0, 2.0, 1.0], [0.0, np.nan, -1.0, 5.0]], np.float32)
    cpu, dev = tg.tensor(x), tg.tensor(x, device="cuda")
    for fn in (lambda t: t.sort(1).values, lambda t: t.sort(1, descending=True).indices,
               lambda t: t.argmax(1), lambda t: t.argmin(0), lambda t: t.topk(2, 1).indices,
               lambda t: tg.nonzero(t > 1), lambda t: t.max(), lambda t: (t > 0).any(1)):
        got, want = fn(dev), fn(cpu)
        assert got.device.type == "cuda"
        np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


def test_optimizer_fused_updates_match_cpu():
    """Each optimizer's fused CUDA kernel against the same steps on the CPU."""
    rng = np.random.default_rng(2)
    w0 = rng.normal(size=(3, 4)).astype(np.float32)
    grads = [rng.normal(size=(3, 4)).astype(np.float32) for _ in range(3)]
    configs = [
        (tg.optim.SGD, dict(lr=0.1)),
        (tg.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)),
        (tg.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, maximize=True)),
        (tg.optim.Adam, dict(lr=0.01, weight_decay=0.1)),
        (tg.optim.Adam, dict(lr=0.01, amsgrad=True, maximize=True)),
        (tg.optim.AdamW, dict(lr=0.01)),
        (tg.optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
        (tg.optim.RMSprop, dict(lr=0.01)),
        (tg.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1)),
    ]
    for cls, options in configs:
        weights = []
        for device in ("cpu", "cuda"):
            w = tg.tensor(w0, device=device, requires_grad=True)
            opt = cls([w], **options)
            for g in grads:
                w.grad = tg.tensor(g, device=device)
                opt.step()
            weights.append(w)
            if device == "cuda":
                for value in opt.state[w].values():
                    if isinstance(value, tg.Tensor) and value.dim():
                        assert value.device.type == "cuda"     # state lives with the parameter
        assert_close(weights[1], weights[0], rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------- training


def _mlp_steps(device, optimizer, steps=3):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    model.to(device)
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.normal(size=(16, 4)).astype(np.float32), device=device)
    y = tg.tensor(rng.integers(0, 3, 16), device=device)
    opt = optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, list(model.parameters())


@pytest.mark.parametrize("optimizer", [
    lambda p: tg.optim.SGD(p, lr=0.1, momentum=0.9),
    lambda p: tg.optim.Adam(p, lr=0.01),
], ids=["sgd", "adam"])
def test_mlp_training_steps_match_cpu(optimizer):
    cpu_losses, cpu_params = _mlp_steps("cpu", optimizer)
    cuda_losses, cuda_params = _mlp_steps("cuda", optimizer)
    np.testing.assert_allclose(cuda_losses, cpu_losses, rtol=1e-5)
    assert cuda_losses[-1] < cuda_losses[0]
    for p_cuda, p_cpu in zip(cuda_params, cpu_params):
        assert p_cuda.device.type == "cuda" and p_cuda.grad.device.type == "cuda"
        assert_close(p_cuda, p_cpu, rtol=1e-4, atol=1e-5)


def test_cnn_training_steps_match_cpu():
    losses = {}
    for device in ("cpu", "cuda"):
        tg.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(2 * 3 * 3, 3)).to(device)
        rng = np.random.default_rng(0)
        x = tg.tensor(rng.normal(size=(4, 1, 6, 6)).astype(np.float32), device=device)
        y = tg.tensor(rng.integers(0, 3, 4), device=device)
        opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        losses[device] = []
        for _ in range(2):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses[device].append(loss.item())
    np.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=1e-4)


# ----------------------------------------------------------------------- without any CUDA


def test_without_gpu_or_simulator_the_error_says_how_to_enable_the_simulator():
    if not tg.cuda.is_simulator():
        pytest.skip("a real GPU is present: CUDA is available without the simulator")
    script = textwrap.dedent("""
        import tinygrad_edu as tg
        assert tg.cuda.is_available() is False and tg.cuda.device_count() == 0
        try:
            tg.ones(2, device="cuda")
        except RuntimeError as e:
            print(e)
        try:
            tg.ones(2).cuda()
        except RuntimeError as e:
            print(e)
    """)
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0")
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=300,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert result.returncode == 0, result.stderr
    messages = result.stdout.strip().splitlines()
    assert len(messages) == 2
    for message in messages:
        assert "CUDA is not available" in message and "NUMBA_ENABLE_CUDASIM=1" in message


# ------------------------------------------------------- ranges, triangles, running products


def test_ranges_and_identity_made_on_cuda_match_cpu():
    cases = [lambda d, **kw: tg.arange(7, device=d, **kw),
             lambda d, **kw: tg.arange(-3, 8, 2, device=d, **kw),
             lambda d, **kw: tg.arange(0.5, 3, 0.25, device=d, **kw),
             lambda d, **kw: tg.linspace(-1.5, 2, 9, device=d, **kw),
             lambda d, **kw: tg.linspace(0, 1, 1, device=d, **kw),
             lambda d, **kw: tg.eye(3, device=d, **kw),
             lambda d, **kw: tg.eye(2, 4, device=d, **kw),
             lambda d, **kw: tg.eye(4, 2, device=d, **kw)]
    for i, make in enumerate(cases):
        for kw in ({}, {"dtype": tg.float64}, {"dtype": tg.int32}, {"dtype": tg.bool}):
            if i in (2, 3, 4) and kw.get("dtype") in (tg.int32, tg.bool):
                continue
            got, want = make("cuda", **kw), make("cpu", **kw)
            assert got.device.type == "cuda" and got.dtype == want.dtype, (i, kw)
            np.testing.assert_array_equal(got.cpu().numpy(), want.numpy(), err_msg=f"{i} {kw}")
    assert tg.linspace(0, 1, 0, device="cuda").shape == (0,)
    assert tg.logspace(0, 2, 3, device="cuda").device.type == "cuda"
    np.testing.assert_allclose(tg.logspace(0, 2, 3, device="cuda").cpu().numpy(), [1, 10, 100],
                               rtol=1e-6)


def test_tril_triu_with_diagonals_match_cpu():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 3, 4))
    g = rng.normal(size=(2, 3, 4))
    for diagonal in (-2, 0, 1, 4):
        for op in ("tril", "triu"):
            results = []
            for device in ("cpu", "cuda"):
                t = tg.tensor(x, device=device, requires_grad=True)
                y = getattr(t, op)(diagonal)
                y.backward(tg.tensor(g, device=device))      # the mask again
                results.append((y, t.grad))
            (y_cpu, g_cpu), (y_cuda, g_cuda) = results
            assert_close(y_cuda, y_cpu, rtol=0, atol=0)
            assert_close(g_cuda, g_cpu, rtol=0, atol=0)
    flags = tg.ones(3, 3, dtype=tg.bool, device="cuda")
    np.testing.assert_array_equal(flags.triu(1).cpu().numpy(), np.triu(np.ones((3, 3), bool), 1))


def test_cumsum_and_cumprod_with_zeros_match_cpu():
    x = np.array([[2.0, 0.0, 3.0, 4.0, 0.5],
                  [0.0, 2.0, 0.0, 1.5, 3.0],
                  [1.5, 2.0, -1.0, 3.0, 0.0]])
    g = np.arange(15.0).reshape(3, 5) - 7
    for dim in (1, 0, -1):
        for op in ("cumprod", "cumsum"):
            outs = []
            for device in ("cpu", "cuda"):
                t = tg.tensor(x, device=device, requires_grad=True)
                y = getattr(t, op)(dim)
                y.backward(tg.tensor(g, device=device))
                outs.append((y, t.grad))
            (y_cpu, g_cpu), (y_cuda, g_cuda) = outs
            assert_close(y_cuda, y_cpu, rtol=1e-12, atol=0)
            assert_close(g_cuda, g_cpu, rtol=1e-12, atol=1e-12)
    ints = tg.tensor([[1, 2, 0], [3, -1, 2]], device="cuda")
    np.testing.assert_array_equal(ints.cumprod(1).cpu().numpy(), [[1, 2, 0], [3, -3, -6]])
    np.testing.assert_array_equal((ints > 0).cumsum(0).cpu().numpy(), [[1, 1, 0], [2, 1, 1]])
    assert ints.cumsum(0).dtype == tg.int64 and ints.cumsum(0).device.type == "cuda"


# ------------------------------------------------------------------------- random numbers
# Made on the device from one seed drawn from the host generator: a seed repeats them, the next
# call gives others. Statistics are read on the host (the simulator's reductions are slow).


RANDOM_MAKERS = {
    "rand": lambda: tg.rand(64, device="cuda"),
    "randn float64": lambda: tg.randn(8, 8, device="cuda", dtype=tg.float64),
    "randint": lambda: tg.randint(-4, 6, (64,), device="cuda"),
    "randperm": lambda: tg.randperm(9, device="cuda"),
    "normal": lambda: tg.normal(2.0, 0.5, (64,), device="cuda"),
    "normal tensors": lambda: tg.normal(tg.zeros(32, device="cuda"),
                                        tg.full((32,), 3.0, device="cuda")),
    "bernoulli": lambda: tg.bernoulli(tg.full((64,), 0.25, device="cuda", dtype=tg.float64)),
    "multinomial": lambda: tg.multinomial(tg.tensor([[0.0, 1, 2, 0, 3]], device="cuda"), 3),
    "uniform_": lambda: tg.empty(64, device="cuda").uniform_(-1, 3),
    "normal_": lambda: tg.empty(64, device="cuda", dtype=tg.float64).normal_(1, 2),
    "exponential_": lambda: tg.empty(64, device="cuda").exponential_(2.0),
    "random_": lambda: tg.empty(64, device="cuda", dtype=tg.int64).random_(3, 9),
    "bernoulli_": lambda: tg.empty(64, device="cuda").bernoulli_(0.75),
    "dropout": lambda: nn.functional.dropout(tg.ones(64, device="cuda"), 0.4),
}


@pytest.mark.parametrize("name", sorted(RANDOM_MAKERS))
def test_random_tensors_on_cuda_repeat_with_the_seed(name):
    make = RANDOM_MAKERS[name]
    tg.manual_seed(123)
    first, second = make(), make()
    tg.manual_seed(123)
    again = make()
    assert first.device.type == "cuda"
    a, b, c = (t.cpu().numpy() for t in (first, second, again))
    np.testing.assert_array_equal(a, c)                 # same seed, same numbers
    if name != "multinomial":                           # 3 of 3 categories: may repeat
        assert not np.array_equal(a, b)                 # the next call: other numbers


def test_random_tensors_on_cuda_have_their_distributions():
    """The tensor layer's part: dtypes, devices, bounds and parameters reach the primitives
    (whose statistics tests/test_cuda_kernels.py checks on more numbers)."""
    tg.manual_seed(0)
    u = tg.rand(800, device="cuda").cpu().numpy()
    assert u.dtype == np.float32 and u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.06 and abs(u.var() - 1 / 12) < 0.02
    z = tg.randn(800, device="cuda", dtype=tg.float64).cpu().numpy()
    assert z.dtype == np.float64 and abs(z.mean()) < 0.2 and abs(z.std() - 1) < 0.12
    w = tg.empty(800, device="cuda").uniform_(-1, 3).cpu().numpy()
    assert w.min() >= -1 and w.max() < 3 and abs(w.mean() - 1) < 0.25
    n = tg.normal(tg.full((800,), 5.0, device="cuda", dtype=tg.float64), 0.5)
    assert n.dtype == tg.float64 and n.device.type == "cuda"
    n = n.cpu().numpy()
    assert abs(n.mean() - 5) < 0.1 and abs(n.std() - 0.5) < 0.06
    k = tg.randint(-4, 6, (800,), device="cuda").cpu().numpy()
    assert k.dtype == np.int64 and set(k.tolist()) == set(range(-4, 6))
    k8 = tg.randint(0, 256, (800,), device="cuda", dtype=tg.uint8).cpu().numpy()
    assert k8.dtype == np.uint8 and k8.max() > 240 and k8.min() < 15
    hits = tg.bernoulli(tg.tensor([0.0, 1.0, 0.5], device="cuda").expand(200, 3))
    hits = hits.cpu().numpy()
    assert hits.dtype == np.float32 and (hits[:, 0] == 0).all() and (hits[:, 1] == 1).all()
    assert 0.35 < hits[:, 2].mean() < 0.65
    p = tg.randperm(30, device="cuda")
    assert p.dtype == tg.int64 and sorted(p.tolist()) == list(range(30))
    r = tg.randint_like(tg.zeros(100, device="cuda", dtype=tg.int32), 4)
    assert r.dtype == tg.int32 and r.device.type == "cuda" and set(r.tolist()) == {0, 1, 2, 3}


def test_multinomial_on_cuda():
    tg.manual_seed(1)
    probs = tg.tensor([[0.0, 1.0, 2.0, 0.0, 3.0], [1.0, 1.0, 1.0, 1.0, 1.0]], device="cuda")
    for _ in range(3):
        draws = tg.multinomial(probs, 3)
        assert draws.device.type == "cuda" and draws.shape == (2, 3)
        for row, p in zip(draws.tolist(), probs.tolist()):
            assert len(set(row)) == 3 and all(p[c] > 0 for c in row)
    many = tg.multinomial(probs[0], 400, replacement=True).cpu().numpy()
    counts = np.bincount(many, minlength=5)
    assert counts[0] == counts[3] == 0 and counts[4] > counts[2] > counts[1] > 20
    for bad, k, message in ((tg.tensor([1.0, -1.0]), 1, "element < 0"),
                            (tg.tensor([1.0, float("nan")]), 1, "nan"),
                            (tg.tensor([0.0, 0.0]), 1, "sum of probabilities"),
                            (tg.tensor([1.0, 0.0, 1.0]), 4, r"n_sample > prob_dist.size\(-1\)"),
                            (tg.tensor([1.0, 0.0, 1.0]), 0, "n_sample <= 0")):
        for device in ("cpu", "cuda"):
            with pytest.raises(RuntimeError, match=message):
                tg.multinomial(bad.to(device), k)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_multinomial_without_replacement_draws_zero_weights_last_in_random_order(device):
    """As PyTorch: k up to the number of categories, the zero-weight ones after all others."""
    tg.manual_seed(3)
    probs = tg.tensor([[1.0, 0.0, 0.0, 4.0, 0.0], [0.0, 0.0, 2.0, 0.0, 0.0]], device=device)
    tails = set()
    for _ in range(12):
        rows = tg.multinomial(probs, 5).tolist()
        assert sorted(rows[0]) == sorted(rows[1]) == [0, 1, 2, 3, 4]
        assert set(rows[0][:2]) == {0, 3} and rows[1][0] == 2
        tails.add(tuple(rows[0][2:]))
    assert len(tails) > 1                  # the zero-weight ones are not in a fixed order


# ------------------------------------------------------------------- advanced indexing on CUDA


def _index_cases(device):
    """Index expressions for a (3, 4, 5) tensor, their index tensors made on `device`."""
    def t(v, **kw):
        return tg.tensor(v, device=device, **kw)
    return {
        "tensor": (t([2, 0, 2]),),
        "list with negatives": ([0, -1, -3],),
        "2-D index in dim 1": (slice(None), t([[1, -2], [3, 0]])),
        "non-adjacent": (t([0, 2]), slice(None), t([4, -5])),
        "adjacent and broadcast": (t([[0], [2]]), t([1, 3, -1])),
        "int then advanced": (1, [0, 3], t([4, 1])),
        "mask": (t(np.arange(12).reshape(3, 4) % 3 == 1),),
        "mask in dim 1": (slice(None), t([True, False, True, True])),
        "ellipsis": (Ellipsis, t([1, 1, 0])),
        "None": (None, t([0, 1]), slice(1, 3)),
        "empty": (t([], dtype=tg.int64),),
        "index on the CPU": (tg.tensor([1, 2]), slice(1, 3), [0, 4]),
    }


@pytest.mark.parametrize("case", sorted(_index_cases("cpu")))
def test_advanced_indexing_on_cuda_matches_cpu(case):
    x = np.arange(60.0).reshape(3, 4, 5)
    cpu_index, cuda_index = _index_cases("cpu")[case], _index_cases("cuda")[case]
    # get, and its gradient (repeated indices accumulate)
    cpu_x, cuda_x = (tg.tensor(x, device=d, requires_grad=True) for d in ("cpu", "cuda"))
    cpu_y, cuda_y = cpu_x[cpu_index], cuda_x[cuda_index]
    assert_close(cuda_y, cpu_y, rtol=0, atol=0)
    g = np.arange(float(np.prod(cpu_y.shape))).reshape(tuple(cpu_y.shape))
    cpu_y.backward(tg.tensor(g))
    cuda_y.backward(tg.tensor(g, device="cuda"))
    assert_close(cuda_x.grad, cpu_x.grad, rtol=0, atol=0)
    # set: a number, and a tensor broadcast to the indexed shape
    for value in (-1.0, np.arange(float(cpu_y.shape[-1])) if cpu_y.dim() else 7.0):
        cpu_t, cuda_t = tg.tensor(x), tg.tensor(x, device="cuda")
        cpu_t[cpu_index] = value if np.isscalar(value) else tg.tensor(value)
        cuda_t[cuda_index] = value if np.isscalar(value) else tg.tensor(value, device="cuda")
        assert_close(cuda_t, cpu_t, rtol=0, atol=0)


def test_index_errors_on_cuda_are_the_cpus():
    x = np.arange(60.0).reshape(3, 4, 5)
    cases = [lambda t, d: ([0, 3],),
             lambda t, d: (slice(None), tg.tensor([4, -5], device=d)),
             lambda t, d: (slice(None), slice(None), tg.tensor([[5]], device=d)),
             lambda t, d: (0, 0, tg.tensor([-6, 0], device=d)),
             lambda t, d: (tg.tensor([0, 1]), tg.tensor([0, 9], device=d))]
    for make in cases:
        messages = []
        for device in ("cpu", "cuda"):
            t = tg.tensor(x, device=device)
            with pytest.raises(IndexError) as get_error:
                t[make(t, device)]
            with pytest.raises(IndexError) as set_error:
                t[make(t, device)] = 1.0
            messages.append((str(get_error.value), str(set_error.value)))
            np.testing.assert_array_equal(t.cpu().numpy(), x)            # nothing written
        assert messages[0] == messages[1]
        assert "out of bounds for dimension" in messages[0][0]
    with pytest.raises(RuntimeError, match="indices should be either on cpu or on the same"):
        tg.tensor(x)[tg.tensor([0, 1], device="cuda")]
    with pytest.raises(IndexError, match="tensors used as indices must be long"):
        tg.tensor(x, device="cuda")[tg.tensor([0.0], device="cuda")]


# ---------------------------------------------------------------- class targets and lookups


def test_cross_entropy_with_ignored_targets_on_cuda_matches_cpu():
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(6, 4))
    weight = np.array([1.0, 2.0, 0.5, 1.0])
    for target, kw in (([0, -100, 3, 2, -100, 1], {}),
                       ([0, -100, 3, 2, -100, 1], {"reduction": "sum", "weight": weight}),
                       ([0, 2, 3, 2, 2, 1], {"ignore_index": 2, "label_smoothing": 0.1}),
                       ([0, 9, 3, 9, 1, 1], {"ignore_index": 9, "reduction": "none"})):
        results = []
        for device in ("cpu", "cuda"):
            x = tg.tensor(logits, device=device, requires_grad=True)
            args = {k: tg.tensor(v, device=device) if isinstance(v, np.ndarray) else v
                    for k, v in kw.items()}
            loss = nn.functional.cross_entropy(x, tg.tensor(target, device=device), **args)
            loss.sum().backward()
            results.append((loss, x.grad))
        (cpu_loss, cpu_grad), (cuda_loss, cuda_grad) = results
        assert_close(cuda_loss, cpu_loss, rtol=1e-12, atol=1e-12)
        assert_close(cuda_grad, cpu_grad, rtol=1e-12, atol=1e-12)
    # every target ignored: the mean of nothing is NaN, as in PyTorch
    loss = nn.functional.cross_entropy(tg.tensor(logits[:2], device="cuda"),
                                       tg.tensor([-100, -100], device="cuda"))
    assert np.isnan(loss.item())


def test_class_target_and_lookup_range_errors_on_cuda_are_the_cpus():
    """A bad class target raises at once on the CPU; on CUDA at the next wait for the device
    (here .item()), as PyTorch's device-side asserts do, with the CPU's message."""
    logits = np.zeros((3, 4))
    for target in ([0, 4, 1], [0, -1, 1], [-100, 7, 2], [5, -100, -3]):
        messages = []
        for device in ("cpu", "cuda"):
            with pytest.raises(IndexError) as error:
                nn.functional.cross_entropy(tg.tensor(logits, device=device),
                                            tg.tensor(target, device=device)).item()
            messages.append(str(error.value))
        assert messages[0] == messages[1] and messages[0].startswith("Target ")
    with pytest.raises(RuntimeError, match="same device"):
        nn.functional.cross_entropy(tg.tensor(logits, device="cuda"), tg.tensor([0, 1, 2]))
    for device in ("cpu", "cuda"):
        labels = tg.tensor([0, 3, 1], device=device)
        with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
            nn.functional.one_hot(labels, 3)
        with pytest.raises(RuntimeError, match="Class values must be non-negative"):
            nn.functional.one_hot(tg.tensor([0, -1], device=device))
        hot = nn.functional.one_hot(labels)
        assert hot.device.type == device
        np.testing.assert_array_equal(hot.cpu().numpy(), np.eye(4, dtype=np.int64)[[0, 3, 1]])
        weight = tg.tensor(np.arange(12.0).reshape(4, 3), device=device)
        for bad in ([0, 4], [-1, 2]):
            with pytest.raises(IndexError, match="index out of range in self"):
                nn.functional.embedding(tg.tensor(bad, device=device), weight)
        rows = nn.functional.embedding(tg.tensor([[3, 0]], device=device), weight)
        np.testing.assert_array_equal(rows.cpu().numpy(), [[[9, 10, 11], [0, 1, 2]]])


def test_embedding_gradients_on_cuda_match_cpu():
    w0 = np.random.default_rng(6).normal(size=(5, 3))
    grads = []
    for device in ("cpu", "cuda"):
        emb = nn.Embedding(5, 3, padding_idx=1).to(device)
        with tg.no_grad():
            emb.weight.copy_(tg.tensor(w0, dtype=tg.float32, device=device))
        out = emb(tg.tensor([[0, 1, 4], [4, 4, 2]], device=device))
        (out * out).sum().backward()
        grads.append(emb.weight.grad)
    assert_close(grads[1], grads[0], rtol=1e-6, atol=1e-7)
    assert (grads[1].cpu().numpy()[[1, 3]] == 0).all()       # padding row and an unused row


# ---------------------------------------------------------------- host <-> device transfers


class Transfers:
    """Every copy between host and device, recorded where kernels_cuda makes it:
    `cuda.to_device` (host to device: from_numpy, the pooling window tables), `to_numpy`
    (device to host: .item(), .tolist(), .cpu(), nonzero's count; CudaArray.copy_to_host goes
    through it), and any numpy array handed to a kernel launch, which numba would copy to the
    device and back unseen. Each is kept as (direction, the tinygrad_edu functions on the
    stack, innermost first)."""

    def __init__(self, monkeypatch):
        from tinygrad_edu import kernels_cuda as K
        self.log = []
        to_device, to_numpy, launch = K.cuda.to_device, K.to_numpy, K._launch

        def counted_to_device(*args, **kwargs):
            self._record("host to device")
            return to_device(*args, **kwargs)

        def counted_to_numpy(x):
            self._record("device to host")
            return to_numpy(x)

        def checked_launch(kernel, blocks, threads, *args):
            if any(isinstance(a, np.ndarray) for a in args):
                self._record("implicit copy of a numpy argument")
            return launch(kernel, blocks, threads, *args)

        monkeypatch.setattr(K.cuda, "to_device", counted_to_device)
        monkeypatch.setattr(K, "to_numpy", counted_to_numpy)
        monkeypatch.setattr(K, "_launch", checked_launch)

    def _record(self, direction):
        stack = [f.name for f in reversed(traceback.extract_stack()[:-2])
                 if f"{os.sep}tinygrad_edu{os.sep}" in f.filename]
        self.log.append((direction, stack))

    def during(self, fn):
        """The transfers fn() makes (checks left pending by earlier code are settled first,
        so that their one read is not counted against fn)."""
        from tinygrad_edu import kernels_cuda as K
        K.raise_pending()
        self.log.clear()
        fn()
        return list(self.log)


@pytest.fixture
def transfers(monkeypatch):
    return Transfers(monkeypatch)


def test_training_steps_on_cuda_make_only_the_documented_transfers(transfers):
    """An MLP with dropout, on data made on the device, trained with SGD: after a warm-up step,
    each step makes no transfer at all: no host-side random numbers (dropout's mask, the
    data), no index or offset tables, no optimizer state, and cross_entropy's class-target
    check stays on the device until the next wait for it (kernels_cuda.check_later)."""
    allowed_per_step = {}
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.25), nn.Linear(8, 3))
    model.to("cuda")
    made = transfers.during(lambda: (tg.randn(16, 4, device="cuda"),
                                     tg.randint(0, 3, (16,), device="cuda")))
    assert made == [], made                       # data made on the device: nothing crosses
    x = tg.randn(16, 4, device="cuda")
    y = tg.randint(0, 3, (16,), device="cuda")
    opt = tg.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    losses = []

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss)

    step()                                        # warm-up: state, kernels, caches
    for _ in range(2):
        made = transfers.during(step)
        counts = dict.fromkeys(allowed_per_step, 0)
        for direction, stack in made:
            reason = next((name for name in allowed_per_step if name in stack), None)
            assert reason is not None, f"undocumented transfer ({direction}) via {stack}"
            assert direction == "device to host"
            counts[reason] += 1
        assert counts == allowed_per_step, counts
    assert all(p.device.type == "cuda" for p in model.parameters())
    values = [loss.item() for loss in losses]     # read only now, after the counted steps
    assert np.isfinite(values).all()


@pytest.mark.parametrize("name, fn, expected", [
    ("rand, randn, randint, randperm, normal", lambda x, i: (
        tg.rand(3, device="cuda"), tg.randn(3, device="cuda"),
        tg.randint(0, 4, (3,), device="cuda"), tg.randperm(4, device="cuda"),
        tg.normal(0.0, 1.0, (3,), device="cuda")), []),
    ("arange, linspace, eye, tril", lambda x, i: (
        tg.arange(5, device="cuda"), tg.linspace(0, 1, 4, device="cuda"),
        tg.eye(3, device="cuda"), x.tril(1)), []),
    ("dropout, forward and backward", lambda x, i: (
        nn.functional.dropout(x, 0.5).sum().backward()), []),
    ("index tensor on the device: its range check", lambda x, i: x[i], [
        ("device to host", "_checked_index")]),
    ("two index tensors: a range check each", lambda x, i: x[i, i], [
        ("device to host", "_checked_index")] * 2),
    ("a list index: copied over, then checked", lambda x, i: x[[0, 2]], [
        ("host to device", "_on_device"), ("device to host", "_checked_index")]),
    ("a mask: nonzero reads the count", lambda x, i: x[x > 0], [
        ("device to host", "nonzero")]),
    ("setitem with an index tensor", lambda x, i: x.detach().__setitem__(i, 0.0), [
        ("device to host", "_checked_index")]),
    ("one_hot: one min/max", lambda x, i: nn.functional.one_hot(i, 4), [
        ("device to host", "one_hot")]),
    ("embedding, forward and backward: one min/max", lambda x, i: (
        nn.functional.embedding(i, x).sum().backward()), [("device to host", "embedding")]),
    ("multinomial: its checks' four numbers at once", lambda x, i: (
        tg.multinomial(x.detach().abs() + 0.1, 2)), [
        ("device to host", "_check_distributions")]),
    ("binary_cross_entropy: its [0, 1] check waits on the device", lambda x, i: (
        nn.functional.binary_cross_entropy(x.detach().sigmoid(), x.detach().sigmoid())), []),
    ("clip_grad_norm_: the clipping factor stays on the device", lambda x, i: (
        x.sum().backward(), nn.utils.clip_grad_norm_([x], 0.5)), []),
    ("cumsum and cumprod backward: flips of a made-here index, no check", lambda x, i: (
        (x.cumsum(1) + x.cumprod(0)).sum().backward()), []),
    ("gather and index_select backward: one check each, in forward", lambda x, i: (
        x.gather(1, i.reshape(1, 2).expand(3, 2)).sum().backward(),
        x.index_select(1, i).sum().backward()), [
        ("device to host", "gather"), ("device to host", "index_select")]),
    ("scatter and index_add backward: no second check", lambda x, i: (
        x.scatter(1, i.reshape(1, 2).expand(3, 2), x[:, :2]).sum().backward(),
        x.index_add(1, i, x[:, :2]).sum().backward()), [
        ("device to host", "scatter"), ("device to host", "index_add")]),
])
def test_transfers_of_single_ops_on_cuda(transfers, name, fn, expected):
    x = tg.tensor(np.arange(12.0).reshape(3, 4) - 5, device="cuda", requires_grad=True)
    i = tg.tensor([2, 0], device="cuda")
    made = transfers.during(lambda: fn(x, i))
    summary = [(direction, next((n for n in stack if n in {e[1] for e in expected}), stack))
               for direction, stack in made]
    assert summary == expected, made


def test_a_pending_device_check_is_settled_at_the_next_wait_in_one_read(transfers):
    from tinygrad_edu import kernels_cuda as K
    logits = tg.zeros(3, 4, device="cuda", requires_grad=True)
    good, bad = tg.tensor([0, 3, 1], device="cuda"), tg.tensor([0, 9, 1], device="cuda")
    losses = transfers.during(lambda: [nn.functional.cross_entropy(logits, good)
                                       for _ in range(5)])
    assert losses == [] and len(K._pending_reports) >= 5
    transfers.log.clear()                 # not during(): that would settle them first
    tg.cuda.synchronize()
    made = list(transfers.log)
    assert [direction for direction, _ in made] == ["device to host"]   # one byte for all five
    assert K._pending_reports == []
    # a bad target: the loss and its backward run (no kernel reads outside the rows: the
    # simulator would raise), and the error comes at the wait, named as on the CPU
    loss = nn.functional.cross_entropy(logits, bad)
    loss.backward()
    with pytest.raises(IndexError, match="Target 9 is out of bounds"):
        tg.cuda.synchronize()
    assert K._pending_reports == []                                      # settled
    assert nn.functional.cross_entropy(logits, good).item() == pytest.approx(np.log(4))
    # the checked targets changed in place before the wait: the error is still raised
    t = tg.tensor([0, 9, 1], device="cuda")
    nn.functional.cross_entropy(logits, t)
    t[1] = 2
    with pytest.raises(RuntimeError, match="check made on the device failed"):
        t.tolist()


def test_binary_cross_entropy_outside_0_1_on_cuda_is_reported_at_the_next_wait():
    x, y = tg.tensor([0.2, 1.5], device="cuda"), tg.tensor([0.0, 1.0], device="cuda")
    with np.errstate(invalid="ignore"):          # the simulator computes log(1 - 1.5) on the host
        loss = nn.functional.binary_cross_entropy(x, y)
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        loss.item()
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        nn.functional.binary_cross_entropy(x.cpu(), y.cpu())      # the CPU: at once
