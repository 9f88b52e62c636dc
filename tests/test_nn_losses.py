"""Every loss, with every reduction, against PyTorch in float64 (values and gradients), over
generated shapes; class weights, ignore_index, label smoothing, probability targets; stability
at extreme logits; and the errors and warnings for bad targets."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F

SETTINGS = settings(deadline=None, max_examples=12,
                    suppress_health_check=[HealthCheck.too_slow])
REDUCTIONS = ["mean", "sum", "none"]


def compare_loss(ours_fn, torch_fn, x, y, *, target_grad=True, rtol=1e-7, atol=1e-10,
                 weight=None, int_target=False):
    """Compare loss values and the gradients of input (and float target) with PyTorch."""
    xo = tg.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    if int_target:
        yo, yt = tg.tensor(y), torch.tensor(y)
    else:
        yo = tg.tensor(y, requires_grad=target_grad)
        yt = torch.tensor(y, requires_grad=target_grad)
    extra_o = {} if weight is None else {k: tg.tensor(v) for k, v in weight.items()}
    extra_t = {} if weight is None else {k: torch.tensor(v) for k, v in weight.items()}
    lo, lt = ours_fn(xo, yo, **extra_o), torch_fn(xt, yt, **extra_t)
    assert tuple(lo.shape) == tuple(lt.shape)
    np.testing.assert_allclose(lo.detach().numpy(), lt.detach().numpy(), rtol=rtol, atol=atol)
    upstream = np.random.default_rng(7).standard_normal(tuple(lt.shape))
    lo.backward(tg.tensor(upstream))
    lt.backward(torch.tensor(upstream))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)
    if not int_target and target_grad:
        np.testing.assert_allclose(yo.grad.numpy(), yt.grad.numpy(), rtol=rtol, atol=atol)
    return lo


shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple)


# ------------------------------------------------------------------------------ regression losses


@pytest.mark.parametrize("reduction", REDUCTIONS)
@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_regression_losses_match_torch(reduction, shape, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal(shape) * 2, rng.standard_normal(shape) * 2
    compare_loss(lambda a, b: F.mse_loss(a, b, reduction=reduction),
                 lambda a, b: TF.mse_loss(a, b, reduction=reduction), x, y)
    compare_loss(lambda a, b: F.l1_loss(a, b, reduction=reduction),
                 lambda a, b: TF.l1_loss(a, b, reduction=reduction), x, y)
    for beta in (1.0, 0.5, 0.0):
        compare_loss(lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
                     lambda a, b: TF.smooth_l1_loss(a, b, reduction=reduction, beta=beta), x, y)
    compare_loss(lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=0.7),
                 lambda a, b: TF.huber_loss(a, b, reduction=reduction, delta=0.7), x, y)


def test_regression_loss_modules_and_node_names():
    x, y = np.random.default_rng(0).standard_normal((2, 4, 3))
    lo = compare_loss(nn.MSELoss(), tnn.MSELoss(), x, y)
    assert lo.grad_fn.name() == "MseLossBackward0"
    compare_loss(nn.L1Loss(reduction="sum"), tnn.L1Loss(reduction="sum"), x, y)
    lo = compare_loss(nn.SmoothL1Loss(beta=0.3), tnn.SmoothL1Loss(beta=0.3), x, y)
    assert lo.grad_fn.name() == "SmoothL1LossBackward0"
    compare_loss(nn.HuberLoss(delta=2.0), tnn.HuberLoss(delta=2.0), x, y)


def test_mse_loss_warns_when_target_broadcasts():
    x, y = np.random.default_rng(0).standard_normal((4, 3)), np.zeros(3)
    with pytest.warns(UserWarning, match=r"Using a target size \(torch.Size\(\[3\]\)\) that is "
                                         r"different to the input size \(torch.Size\(\[4, 3\]\)\)"):
        compare_loss(F.mse_loss, lambda a, b: TF.mse_loss(a, b), x, y)


def test_invalid_reduction_is_rejected():
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        F.mse_loss(tg.randn(2), tg.randn(2), reduction="avg")
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        nn.CrossEntropyLoss(reduction="avg")


def test_legacy_size_average_and_reduce_arguments():
    x, y = tg.randn(3, 2), tg.randn(3, 2)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        total = F.mse_loss(x, y, size_average=False)
    np.testing.assert_allclose(total.item(), F.mse_loss(x, y, reduction="sum").item())


def test_smooth_l1_negative_beta():
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values for "
                                           "beta."):
        F.smooth_l1_loss(tg.randn(2), tg.randn(2), beta=-1.0)


# ------------------------------------------------------------------------------ binary losses


@pytest.mark.parametrize("reduction", REDUCTIONS)
@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**16), weighted=st.booleans())
def test_bce_matches_torch(reduction, shape, seed, weighted):
    rng = np.random.default_rng(seed)
    p = rng.random(shape) * 0.98 + 0.01
    y = rng.random(shape)
    w = {"weight": rng.random(shape[-1:]) + 0.5} if weighted else None
    lo = compare_loss(lambda a, b, **k: F.binary_cross_entropy(a, b, reduction=reduction, **k),
                      lambda a, b, **k: TF.binary_cross_entropy(a, b, reduction=reduction, **k),
                      p, y, weight=w)
    assert lo.grad_fn.name() == "BinaryCrossEntropyBackward0"


def test_bce_clamps_log_at_minus_100():
    p, y = np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0])
    out = F.binary_cross_entropy(tg.tensor(p), tg.tensor(y), reduction="none")
    ref = TF.binary_cross_entropy(torch.tensor(p), torch.tensor(y), reduction="none")
    np.testing.assert_allclose(out.numpy(), ref.numpy())
    np.testing.assert_allclose(out.numpy(), [100.0, 100.0, 0.0, 0.0])


def test_bce_errors():
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(tg.tensor([0.5, 1.5]), tg.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"Using a target size \(torch.Size\(\[1, 2\]\)\) that "
                                         r"is different to the input size"):
        F.binary_cross_entropy(tg.tensor([0.5, 0.5]), tg.tensor([[0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"Target size \(torch.Size\(\[1, 2\]\)\) must be the "
                                         r"same as input size \(torch.Size\(\[2\]\)\)"):
        F.binary_cross_entropy_with_logits(tg.tensor([0.5, 0.5]), tg.tensor([[0.0, 1.0]]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**16), weighted=st.booleans(),
       pos_weighted=st.booleans())
def test_bce_with_logits_matches_torch(reduction, shape, seed, weighted, pos_weighted):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal(shape) * 4, rng.random(shape)
    w = {}
    if weighted:
        w["weight"] = rng.random(shape) + 0.5
    if pos_weighted:
        w["pos_weight"] = rng.random(shape[-1:]) * 3
    lo = compare_loss(
        lambda a, b, **k: F.binary_cross_entropy_with_logits(a, b, reduction=reduction, **k),
        lambda a, b, **k: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction, **k),
        x, y, weight=w)
    assert lo.grad_fn.name() == "BinaryCrossEntropyWithLogitsBackward0"


@pytest.mark.parametrize("pos_weight", [None, np.array([2.0, 0.5, 1.0, 3.0])])
def test_bce_with_logits_is_stable_at_plus_minus_1000(pos_weight):
    x = np.array([1000.0, -1000.0, 1000.0, -1000.0])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    w = None if pos_weight is None else {"pos_weight": pos_weight}
    lo = compare_loss(lambda a, b, **k: F.binary_cross_entropy_with_logits(
                          a, b, reduction="none", **k),
                      lambda a, b, **k: TF.binary_cross_entropy_with_logits(
                          a, b, reduction="none", **k), x, y, weight=w)
    values = lo.detach().numpy()
    assert np.isfinite(values).all()
    assert values[0] == 0 and values[1] == 0 and values[2] == pytest.approx(1000.0 * (
        1.0 if pos_weight is None else 1.0))


def test_bce_loss_modules_store_weights_as_buffers():
    w, pw = tg.tensor([1.0, 2.0]), tg.tensor([3.0, 1.0])
    loss = nn.BCEWithLogitsLoss(weight=w, pos_weight=pw)
    assert list(loss.state_dict()) == ["weight", "pos_weight"]
    x, y = np.random.default_rng(0).standard_normal((2, 3, 2))
    y = (y > 0).astype(np.float64)
    compare_loss(loss, tnn.BCEWithLogitsLoss(weight=torch.tensor([1.0, 2.0]),
                                             pos_weight=torch.tensor([3.0, 1.0])),
                 x.astype(np.float32), y.astype(np.float32), rtol=1e-5, atol=1e-6)
    compare_loss(nn.BCELoss(), tnn.BCELoss(), 1 / (1 + np.exp(-x)), y)


# ------------------------------------------------------------------------------ class-index losses


@st.composite
def class_problems(draw):
    """(logits, targets, C) for input (N, C) or (N, C, d1[, d2]) or (C,), with some targets
    possibly equal to ignore_index."""
    n, c = draw(st.integers(1, 5)), draw(st.integers(2, 5))
    extra = draw(st.sampled_from([(), (), (3,), (2, 2), None]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    if extra is None:  # unbatched: input (C,), target ()
        return rng.standard_normal(c) * 3, np.array(rng.integers(0, c)), c
    x = rng.standard_normal((n, c) + extra) * 3
    t = rng.integers(0, c, (n,) + extra)
    return x, t, c


@pytest.mark.parametrize("reduction", REDUCTIONS)
@SETTINGS
@given(problem=class_problems(), weighted=st.booleans(), ignore=st.booleans(),
       smoothing=st.sampled_from([0.0, 0.0, 0.1, 0.35]), data=st.data())
def test_cross_entropy_with_class_indices_matches_torch(reduction, problem, weighted, ignore,
                                                        smoothing, data):
    x, t, c = problem
    kwargs = {"reduction": reduction, "label_smoothing": smoothing}
    if ignore and t.ndim:
        ignore_index = data.draw(st.integers(0, c - 1))
        kwargs["ignore_index"] = ignore_index
        if (t == ignore_index).all() and reduction == "mean":
            t = t.copy()
            t.flat[0] = (ignore_index + 1) % c  # all-ignored means 0/0 = nan in both
    w = {"weight": np.random.default_rng(3).random(c) + 0.2} if weighted else None
    lo = compare_loss(lambda a, b, **k: F.cross_entropy(a, b, **kwargs, **k),
                      lambda a, b, **k: TF.cross_entropy(a, b, **kwargs, **k), x, t,
                      weight=w, int_target=True)
    if smoothing == 0.0:
        assert lo.grad_fn.name() == "NllLossBackward0"
        assert lo.grad_fn.next_functions[0][0].name() == "LogSoftmaxBackward0"


@pytest.mark.parametrize("reduction", REDUCTIONS)
@SETTINGS
@given(problem=class_problems(), weighted=st.booleans(), ignore=st.booleans(), data=st.data())
def test_nll_loss_matches_torch(reduction, problem, weighted, ignore, data):
    x, t, c = problem
    kwargs = {"reduction": reduction}
    if ignore and t.ndim:
        kwargs["ignore_index"] = data.draw(st.integers(0, c - 1))
        if (t == kwargs["ignore_index"]).all() and reduction == "mean":
            t = t.copy()
            t.flat[0] = (kwargs["ignore_index"] + 1) % c
    w = {"weight": np.random.default_rng(4).random(c) + 0.2} if weighted else None
    logp = x - np.log(np.exp(x).sum(axis=0 if x.ndim == 1 else 1, keepdims=True))
    compare_loss(lambda a, b, **k: F.nll_loss(a, b, **kwargs, **k),
                 lambda a, b, **k: TF.nll_loss(a, b, **kwargs, **k), logp, t, weight=w,
                 int_target=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@SETTINGS
@given(problem=class_problems(), weighted=st.booleans(),
       smoothing=st.sampled_from([0.0, 0.2]))
def test_cross_entropy_with_probability_targets_matches_torch(reduction, problem, weighted,
                                                              smoothing):
    x, _, c = problem
    rng = np.random.default_rng(5)
    p = rng.random(x.shape)
    p = p / p.sum(axis=0 if x.ndim == 1 else 1, keepdims=True)
    w = {"weight": rng.random(c) + 0.2} if weighted else None
    compare_loss(lambda a, b, **k: F.cross_entropy(a, b, reduction=reduction,
                                                   label_smoothing=smoothing, **k),
                 lambda a, b, **k: TF.cross_entropy(a, b, reduction=reduction,
                                                    label_smoothing=smoothing, **k),
                 x, p, weight=w)


def test_cross_entropy_is_stable_for_huge_logits():
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    t = np.array([1, 2])
    lo = compare_loss(lambda a, b: F.cross_entropy(a, b, reduction="none"),
                      lambda a, b: TF.cross_entropy(a, b, reduction="none"), x, t,
                      int_target=True)
    np.testing.assert_allclose(lo.detach().numpy(), [2000.0, 1.0 + np.log1p(np.exp(-1.0))])


def test_loss_modules_match_functional():
    x, t = np.random.default_rng(0).standard_normal((4, 3)), np.array([0, 2, 1, 2])
    w = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)
    compare_loss(nn.CrossEntropyLoss(weight=tg.tensor(w.numpy()), ignore_index=1,
                                     label_smoothing=0.1),
                 tnn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.1), x, t,
                 int_target=True)
    compare_loss(nn.NLLLoss(reduction="sum"), tnn.NLLLoss(reduction="sum"), x, t,
                 int_target=True)
    assert repr(nn.CrossEntropyLoss()) == repr(tnn.CrossEntropyLoss()) == "CrossEntropyLoss()"


# ------------------------------------------------------------------------------ bad targets


def test_float_class_targets_name_the_dtype():
    x = tg.randn(4, 3)
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Float"):
        F.cross_entropy(x, tg.tensor([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got "
                                           "Float"):
        F.nll_loss(x, tg.tensor([0.0, 1.0, 2.0, 0.0]))


def test_batch_size_mismatch():
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target "
                                         r"batch_size \(4\)."):
        F.cross_entropy(tg.randn(3, 5), tg.tensor([0, 1, 2, 3]))
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 4\], got \[2, 3\]"):
        F.nll_loss(tg.randn(2, 3, 4), tg.tensor([[0, 1, 2], [0, 1, 2]]))


@pytest.mark.parametrize("bad", [5, -3])
def test_class_index_out_of_range(bad):
    with pytest.raises(IndexError, match=f"Target {bad} is out of bounds."):
        F.cross_entropy(tg.randn(4, 3), tg.tensor([0, 1, bad, 0]))


def test_ignored_targets_may_be_out_of_range():
    x = tg.randn(3, 4)
    loss = F.cross_entropy(x, tg.tensor([1, -100, 2]))
    ref = TF.cross_entropy(torch.tensor(x.numpy()), torch.tensor([1, -100, 2]))
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-6)


def test_weight_of_wrong_size():
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 3 "
                                           r"classes or no classes but got weight tensor of "
                                           r"shape: \[2\]"):
        F.nll_loss(tg.randn(4, 3), tg.tensor([0, 1, 2, 0]), weight=tg.ones(2))


def test_probability_targets_reject_ignore_index():
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point "
                                           "target"):
        F.cross_entropy(tg.randn(4, 3), tg.rand(4, 3), ignore_index=1)


def test_label_smoothing_range():
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(tg.randn(4, 3), tg.tensor([0, 1, 2, 0]), label_smoothing=1.5)


def test_kl_div_matches_torch():
    rng = np.random.default_rng(0)
    logp = np.log(rng.dirichlet(np.ones(4), size=3))
    q = rng.dirichlet(np.ones(4), size=3)
    q[0, 0] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for reduction in ("batchmean", "sum", "none", "mean"):
            compare_loss(lambda a, b: F.kl_div(a, b, reduction=reduction),
                         lambda a, b: TF.kl_div(a, b, reduction=reduction), logp, q,
                         target_grad=False)


@pytest.mark.parametrize("case", [
    lambda L: L.nn.functional.binary_cross_entropy_with_logits(L.zeros(3), L.tensor([0, 1, 1])),
    lambda L: L.nn.functional.binary_cross_entropy(L.full((3,), 0.5), L.tensor([0, 1, 1])),
    lambda L: L.nn.functional.binary_cross_entropy(L.full((3,), 0.5),
                                                   L.zeros(3, dtype=L.float64)),
    lambda L: L.nn.functional.binary_cross_entropy(L.full((3,), 0.5), L.full((3,), 2.0)),
    lambda L: L.nn.functional.binary_cross_entropy(L.full((3,), 0.5), L.full((3,), -1.0)),
])
def test_binary_cross_entropy_refuses_targets_pytorch_refuses(case):
    with pytest.raises(RuntimeError):
        case(torch)
    with pytest.raises(RuntimeError, match="target"):
        case(tg)


def test_bce_with_logits_returns_the_targets_dtype_as_pytorch():
    for x_dt, y_dt in (("float32", "float64"), ("float64", "float32")):
        ours, theirs = (L.nn.functional.binary_cross_entropy_with_logits(
            L.zeros(3, dtype=getattr(L, x_dt), requires_grad=True),
            L.zeros(3, dtype=getattr(L, y_dt))) for L in (tg, torch))
        assert str(ours.dtype) == str(theirs.dtype)
        ours.backward()


def test_zero_losses_and_gradients_print_as_in_pytorch_not_as_minus_zero():
    printed = []
    for L in (tg, torch):
        out = [L.nn.CrossEntropyLoss()(L.zeros(3, 1), L.tensor([0, 0, 0])),
               L.nn.CrossEntropyLoss(reduction="sum")(L.zeros(3, 1), L.tensor([0, 0, 0])),
               L.nn.BCELoss(reduction="none")(L.tensor([0.0, 0.5, 1.0]), L.tensor([0.0, 0.0, 1.0]))]
        x = L.zeros(2, 3, requires_grad=True)
        L.nn.CrossEntropyLoss(ignore_index=1)(x, L.tensor([1, 0])).backward()
        a, b = L.zeros(2, requires_grad=True), L.zeros(2, requires_grad=True)
        L.nn.MSELoss()(a, b).backward()
        printed.append([repr(t) for t in out + [x.grad, a.grad, b.grad]])
    assert printed[0] == printed[1]


def test_probability_targets_of_the_wrong_shape_say_so():
    with pytest.raises(RuntimeError, match=r"must have the input's shape \[2, 3\], got \[2, 4\]"):
        nn.CrossEntropyLoss()(tg.zeros(2, 3), tg.zeros(2, 4))
