"""Tensors on device "cuda": placement, transfers, autograd and training, compared with the CPU.

Without a GPU these run in Numba's CUDA simulator (tests/conftest.py turns it on), with a GPU on
it; nothing here depends on which. Sizes are small because the simulator runs every CUDA thread
as a Python thread.
"""
import os
import subprocess
import sys
import textwrap

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
    if not hasattr(nn, "Conv2d"):
        pytest.skip("nn.Conv2d does not exist yet (issue 5): no CNN to train")
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
