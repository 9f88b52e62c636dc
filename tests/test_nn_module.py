"""Module, Parameter and the containers: registration, traversal and names, state_dict,
hooks, modes, conversions, copying, and reprs equal to PyTorch's for the same architecture."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn as tnn

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F


def book_model(lib):
    """The book's chapter-6 thermometer model."""
    return lib.Sequential(OrderedDict([("hidden_linear", lib.Linear(1, 8)),
                                       ("hidden_activation", lib.Tanh()),
                                       ("output_linear", lib.Linear(8, 1))]))


class SubclassNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden_linear = nn.Linear(1, 13)
        self.hidden_activation = nn.Tanh()
        self.output_linear = nn.Linear(13, 1)
        self.register_buffer("steps", tg.zeros(()))

    def forward(self, x):
        return self.output_linear(self.hidden_activation(self.hidden_linear(x)))


# ------------------------------------------------------------------------------ Parameter


def test_parameter_is_a_leaf_sharing_storage():
    t = tg.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert isinstance(p, tg.Tensor) and p.requires_grad and p.is_leaf
    t.add_(1)
    assert p.tolist() == [2.0, 3.0]
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert tuple(nn.Parameter().shape) == (0,)


def test_parameter_of_a_computed_tensor_is_a_new_leaf():
    x = tg.randn(3, requires_grad=True)
    p = nn.Parameter(x * 2)
    assert p.grad_fn is None and p.requires_grad
    (p * 3).sum().backward()
    assert p.grad.tolist() == [3.0, 3.0, 3.0] and x.grad is None


def test_parameter_repr_matches_torch():
    values = [[1.0, -2.5], [3.25, 0.0]]
    assert repr(nn.Parameter(tg.tensor(values))) == repr(tnn.Parameter(torch.tensor(values)))
    assert repr(nn.Parameter(tg.tensor(values), requires_grad=False)) == \
        repr(tnn.Parameter(torch.tensor(values), requires_grad=False))


def test_parameter_of_integers_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(tg.tensor([1, 2]))


def test_operations_on_parameters_give_plain_tensors():
    p = nn.Parameter(tg.randn(2))
    assert type(p * 2) is tg.Tensor and type(p.detach()) is tg.Tensor


def test_parameter_deepcopy_and_pickle():
    p = nn.Parameter(tg.tensor([1.0, 2.0]))
    (p * p).sum().backward()
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad and q.tolist() == [1.0, 2.0]
    assert q.grad is None  # as PyTorch: the copy does not take the gradient
    q.data.add_(1)
    assert p.tolist() == [1.0, 2.0]
    r = pickle.loads(pickle.dumps(p))
    assert type(r) is nn.Parameter and r.tolist() == [1.0, 2.0] and r.requires_grad


# ------------------------------------------------------------------------------ registration


def test_named_parameters_follow_pytorch_names():
    for lib in (nn, tnn):
        assert [n for n, _ in book_model(lib).named_parameters()] == [
            "hidden_linear.weight", "hidden_linear.bias", "output_linear.weight",
            "output_linear.bias"]
    seq = nn.Sequential(nn.Linear(1, 13), nn.Tanh(), nn.Linear(13, 1))
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [tuple(p.shape) for p in seq.parameters()] == [(13, 1), (13,), (1, 13), (1,)]
    net = SubclassNet()
    assert [n for n, _ in net.named_parameters(prefix="net")] == [
        "net.hidden_linear.weight", "net.hidden_linear.bias", "net.output_linear.weight",
        "net.output_linear.bias"]
    assert [n for n, _ in net.named_parameters(recurse=False)] == []


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    tseq = tnn.Sequential(*(lambda s: (s, tnn.ReLU(), s))(tnn.Linear(2, 2)))
    assert [n for n, _ in tseq.named_modules()] == ["", "0", "1"]


def test_buffers_children_and_modules():
    net = SubclassNet()
    assert [n for n, _ in net.named_buffers()] == ["steps"]
    assert [n for n, _ in net.named_children()] == ["hidden_linear", "hidden_activation",
                                                    "output_linear"]
    assert len(list(net.children())) == 3 and len(list(net.modules())) == 4
    bn = nn.Sequential(nn.BatchNorm1d(3))
    assert [n for n, _ in bn.named_buffers()] == ["0.running_mean", "0.running_var",
                                                  "0.num_batches_tracked"]


def test_assignment_rules_follow_pytorch():
    lin = nn.Linear(3, 3)
    with pytest.raises(TypeError, match=r"cannot assign 'torch.FloatTensor' as parameter "
                                        r"'weight' \(torch.nn.Parameter or None expected\)"):
        lin.weight = tg.zeros(3, 3)
    net = SubclassNet()
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'hidden_linear'"):
        net.hidden_linear = 3
    with pytest.raises(TypeError, match="cannot assign 'str' as buffer 'steps'"):
        net.steps = "x"
    net.steps = tg.ones(())  # a tensor assigned to a buffer's name replaces the buffer
    assert net._buffers["steps"].item() == 1.0
    lin.bias = None
    assert lin.bias is None and [n for n, _ in lin.named_parameters()] == ["weight"]
    lin.extra = nn.Parameter(tg.zeros(1))
    assert "extra" in dict(lin.named_parameters())
    del lin.extra
    assert "extra" not in dict(lin.named_parameters())
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'foo'"):
        lin.foo


def test_register_methods_validate():
    m = nn.Module()
    with pytest.raises(TypeError, match=r"cannot assign 'torch.FloatTensor' object to parameter "
                                        r"'w' \(torch.nn.Parameter or None required\)"):
        m.register_parameter("w", tg.zeros(1))
    with pytest.raises(KeyError, match=r'contain "\."'):
        m.register_buffer("a.b", tg.zeros(1))
    with pytest.raises(KeyError, match="attribute 'training' already exists"):
        m.register_parameter("training", None)

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(tg.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_non_leaf_parameter_is_rejected():
    m = nn.Module()
    p = nn.Parameter(tg.zeros(2))
    q = nn.Parameter(tg.zeros(2))
    q._grad_fn = (p * 1).grad_fn  # a Parameter with history (grad_fn itself is read-only)
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'w'"):
        m.register_parameter("w", q)


def test_get_submodule_and_add_module():
    seq = nn.Sequential(nn.Linear(1, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 2)))
    assert isinstance(seq.get_submodule("1.1"), nn.Linear)
    assert seq.get_submodule("") is seq
    with pytest.raises(AttributeError, match="Linear has no attribute `foo`"):
        seq.get_submodule("0.foo")
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        seq.get_submodule("0.weight")
    assert seq.get_parameter("1.1.bias") is seq[1][1].bias
    seq.add_module("extra", nn.Identity())
    assert seq.extra is seq[-1]
    with pytest.raises(TypeError, match="is not a Module subclass"):
        seq.add_module("bad", 3)


def test_dir_lists_registered_names():
    names = dir(SubclassNet())
    for n in ("hidden_linear", "output_linear", "steps", "forward", "training"):
        assert n in names


# ------------------------------------------------------------------------------ calling, hooks


def test_forward_pre_hooks_and_hooks_run_and_can_be_removed():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: calls.append("pre") or (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append("post") or out + 1)
    x = tg.ones(1, 2)
    out = lin(x)
    assert calls == ["pre", "post"]
    np.testing.assert_allclose(out.detach().numpy(), lin.bias.detach().numpy()[None] + 1,
                               rtol=1e-6)
    h1.remove()
    h2.remove()
    calls.clear()
    np.testing.assert_allclose(lin(x).detach().numpy(), F.linear(x, lin.weight, lin.bias)
                               .detach().numpy())
    assert calls == []


def test_hooks_with_kwargs_prepend_and_context_manager():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m, order = Scale(), []
    m.register_forward_pre_hook(lambda mod, a, kw: (a, {"factor": 3.0}), with_kwargs=True)
    m.register_forward_hook(lambda mod, a, kw, out: order.append(("kw", kw["factor"])),
                            with_kwargs=True)
    m.register_forward_hook(lambda mod, a, out: order.append("first"), prepend=True)
    assert m(tg.ones(2)).tolist() == [3.0, 3.0]
    assert order == ["first", ("kw", 3.0)]
    with m.register_forward_hook(lambda mod, a, out: out * 0):
        assert m(tg.ones(1)).tolist() == [0.0]
    assert m(tg.ones(1)).tolist() == [3.0]


def test_missing_forward():
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(tg.ones(1))


# ------------------------------------------------------------------------------ modes, grads


def test_train_eval_propagate():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        model.train("yes")


def test_zero_grad_and_requires_grad():
    model = book_model(nn)
    model(tg.randn(4, 1)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and (p.grad.numpy() == 0).all() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    assert not model(tg.randn(2, 1)).requires_grad


# ------------------------------------------------------------------------------ conversions


def test_double_and_to_keep_parameter_identity():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    params = list(model.parameters())
    model(tg.randn(4, 2)).sum().backward()
    assert model.double() is model
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    assert all(p.dtype is tg.float64 and p.grad.dtype is tg.float64 for p in params)
    assert model[1].running_mean.dtype is tg.float64
    assert model[1].num_batches_tracked.dtype is tg.int64  # integers keep their type
    model.to(tg.float32)
    assert all(p.dtype is tg.float32 for p in params)
    model.to(tg.zeros(1, dtype=tg.float64))
    assert all(p.dtype is tg.float64 for p in params)
    model.float().cpu()
    assert model(tg.randn(4, 2)).dtype is tg.float32
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point or complex "
                                        "dtypes, but got desired dtype=torch.int64"):
        model.to(tg.int64)


def test_apply_visits_children_first():
    seen = []
    book_model(nn).apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Tanh", "Linear", "Sequential"]


def test_deepcopy_and_pickle_of_a_model():
    model = SubclassNet()
    x = tg.randn(3, 1)
    twin = copy.deepcopy(model)
    np.testing.assert_array_equal(twin(x).detach().numpy(), model(x).detach().numpy())
    assert twin.hidden_linear.weight is not model.hidden_linear.weight
    with tg.no_grad():
        twin.hidden_linear.weight.add_(1)
    assert not np.allclose(twin(x).detach().numpy(), model(x).detach().numpy())
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone(x).detach().numpy(), model(x).detach().numpy())
    assert isinstance(clone.hidden_linear.weight, nn.Parameter)


# ------------------------------------------------------------------------------ state_dict


def test_state_dict_round_trip_and_torch_compatibility():
    ours, theirs = SubclassNet(), tnn.Sequential()
    theirs = tnn.Module()
    theirs.hidden_linear, theirs.output_linear = tnn.Linear(1, 13), tnn.Linear(13, 1)
    theirs.register_buffer("steps", torch.ones(()))
    sd = ours.state_dict()
    assert list(sd) == ["steps", "hidden_linear.weight", "hidden_linear.bias",
                        "output_linear.weight", "output_linear.bias"]
    assert list(sd) == list(theirs.state_dict())
    assert all(not v.requires_grad for v in sd.values())
    assert ours.state_dict(keep_vars=True)["hidden_linear.weight"] is ours.hidden_linear.weight
    # torch's values into ours, through numpy
    result = ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in
                                   theirs.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    np.testing.assert_array_equal(ours.hidden_linear.weight.detach().numpy(),
                                  theirs.hidden_linear.weight.detach().numpy())
    assert ours.steps.item() == 1.0
    # the loaded values are copies: changing the source does not change the model
    copy_ = SubclassNet()
    copy_.load_state_dict(ours.state_dict())
    with tg.no_grad():
        ours.output_linear.bias.add_(1)
    assert copy_.output_linear.bias.item() != ours.output_linear.bias.item()


def test_non_persistent_buffers_are_not_saved():
    m = nn.Module()
    m.register_buffer("a", tg.zeros(1))
    m.register_buffer("b", tg.zeros(1), persistent=False)
    assert list(m.state_dict()) == ["a"]
    assert [n for n, _ in m.named_buffers()] == ["a", "b"]


@pytest.mark.parametrize("make_sd", [
    lambda lib: {"weight": lib.zeros(2, 3), "bias": lib.zeros(3)},
    lambda lib: {"weight": lib.zeros(3, 3)},
    lambda lib: {"weight": lib.zeros(3, 3), "bias": lib.zeros(3), "extra": lib.zeros(1),
                 "foo.bar": lib.zeros(1)},
])
@pytest.mark.parametrize("strict", [True, False])
def test_load_state_dict_errors_match_torch(make_sd, strict):
    ours, theirs = nn.Linear(3, 3), tnn.Linear(3, 3)
    try:
        expected = theirs.load_state_dict(make_sd(torch), strict=strict)
    except RuntimeError as e:
        with pytest.raises(RuntimeError) as info:
            ours.load_state_dict(make_sd(tg), strict=strict)
        assert str(info.value) == str(e)
    else:
        result = ours.load_state_dict(make_sd(tg), strict=strict)
        assert result.missing_keys == expected.missing_keys
        assert result.unexpected_keys == expected.unexpected_keys
        assert repr(result) == repr(expected)


def test_load_state_dict_for_nested_modules_reports_dotted_keys():
    ours = book_model(nn)
    sd = ours.state_dict()
    del sd["output_linear.bias"]
    sd["hidden_linear.extra"] = tg.zeros(1)
    with pytest.raises(RuntimeError) as info:
        ours.load_state_dict(sd)
    assert str(info.value) == ('Error(s) in loading state_dict for Sequential:\n\t'
                               'Missing key(s) in state_dict: "output_linear.bias". \n\t'
                               'Unexpected key(s) in state_dict: "hidden_linear.extra". ')


# ------------------------------------------------------------------------------ containers


def test_sequential_indexing_slicing_and_mutation():
    seq = nn.Sequential(nn.Linear(1, 13), nn.Tanh(), nn.Linear(13, 1))
    assert isinstance(seq[0], nn.Linear) and seq[-1] is seq[2] and len(seq) == 3
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail._modules) == ["1", "2"]
    assert tail[0] is seq[1]
    assert repr(tail) == repr(tnn.Sequential(tnn.Linear(1, 13), tnn.Tanh(),
                                             tnn.Linear(13, 1))[1:])
    with pytest.raises(IndexError, match="index 5 is out of range"):
        seq[5]
    assert [type(m).__name__ for m in seq] == ["Linear", "Tanh", "Linear"]
    seq.append(nn.ReLU())
    assert list(seq._modules) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and isinstance(seq[1], nn.Linear)
    seq[2] = nn.Sigmoid()
    assert isinstance(seq[-1], nn.Sigmoid)
    seq.insert(0, nn.Identity())
    assert isinstance(seq[0], nn.Identity) and len(seq) == 4


def test_sequential_forward_composes():
    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    x = tg.randn(4, 2)
    manual = seq[2](seq[1](seq[0](x)))
    np.testing.assert_array_equal(seq(x).detach().numpy(), manual.detach().numpy())


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    ml.insert(1, nn.Identity())
    assert [type(m).__name__ for m in ml] == ["Linear", "Identity", "Linear", "Linear", "ReLU",
                                              "Tanh"]
    assert ml[-1] is ml[5] and isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    assert len(list(ml.parameters())) == 6
    with pytest.raises(IndexError, match="index 6 is out of range"):
        ml[6]
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        ml.extend(nn.ReLU())
    md = nn.ModuleDict({"a": nn.Linear(1, 2), "b": nn.ReLU()})
    md["c"] = nn.Tanh()
    assert list(md) == ["a", "b", "c"] and "b" in md and len(md) == 3
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]
    assert md.pop("b").__class__ is nn.ReLU and list(md.keys()) == ["a", "c"]


# ------------------------------------------------------------------------------ repr


REPR_CASES = [
    lambda lib: lib.Sequential(lib.Linear(1, 13), lib.Tanh(), lib.Linear(13, 1)),
    book_model,
    lambda lib: lib.Sequential(lib.Flatten(), lib.Linear(784, 128, bias=False), lib.ReLU(),
                               lib.Dropout(0.2), lib.BatchNorm1d(128), lib.LeakyReLU(0.1),
                               lib.Linear(128, 10), lib.LogSoftmax(dim=1)),
    lambda lib: lib.ModuleList([lib.Linear(2, 2) for _ in range(3)] + [lib.ReLU(),
                                                                       lib.ReLU(),
                                                                       lib.Linear(2, 2)]),
    lambda lib: lib.ModuleDict({"enc": lib.Sequential(lib.Embedding(10, 3, padding_idx=0),
                                                      lib.LayerNorm(3)),
                                "act": lib.GELU(approximate="tanh")}),
    lambda lib: lib.Sequential(lib.Hardtanh(), lib.Softmax(dim=1), lib.Unflatten(1, (2, 3)),
                               lib.Identity(), lib.ELU(), lib.SiLU(), lib.Mish(),
                               lib.Softplus(), lib.Sigmoid(), lib.ReLU(inplace=True),
                               lib.ReLU6(), lib.BatchNorm1d(4, momentum=None, affine=False),
                               lib.LayerNorm((2, 3), elementwise_affine=False)),
    lambda lib: lib.Sequential(lib.MSELoss(), lib.CrossEntropyLoss(), lib.BCEWithLogitsLoss(),
                               lib.NLLLoss(), lib.L1Loss(), lib.SmoothL1Loss(), lib.BCELoss()),
    lambda lib: lib.Sequential(),
    lambda lib: lib.ModuleList(),
]


@pytest.mark.parametrize("build", REPR_CASES)
def test_repr_equals_torch(build):
    assert repr(build(nn)) == repr(build(tnn))


def test_subclass_repr_and_extra_repr():
    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(2, 2)

        def extra_repr(self):
            return "scale=2"

    assert repr(WithExtra()) == ("WithExtra(\n  scale=2\n  (inner): Linear(in_features=2, "
                                 "out_features=2, bias=True)\n)")
    assert repr(SubclassNet()).startswith("SubclassNet(\n  (hidden_linear): Linear(")


def _hooked_run(L):
    """A Sequential with full backward hooks (and a pre-hook doubling a grad_output) on its
    layers and itself; what the hooks saw, and the gradients after two backward passes."""
    lin, act, out = L.nn.Linear(2, 3), L.nn.Tanh(), L.nn.Linear(3, 1)
    with L.no_grad():
        for m in (lin, out):
            m.weight.copy_(L.arange(m.weight.numel(), dtype=L.float32).reshape(m.weight.shape)
                           / 10 - 0.2)
            m.bias.fill_(0.1)
    model, seen = L.nn.Sequential(lin, act, out), []

    def hook(name):
        def record(module, grad_input, grad_output):
            seen.append((name, [None if g is None else g.tolist() for g in grad_input],
                         [None if g is None else g.tolist() for g in grad_output]))
        return record
    handle = lin.register_full_backward_hook(hook("lin"))
    act.register_full_backward_hook(hook("act"))
    model.register_full_backward_hook(hook("model"))
    out.register_full_backward_pre_hook(lambda m, grad_output: (grad_output[0] * 2,))
    y = model(L.tensor([[1.0, -1.0], [0.5, 2.0]]))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        y.sum().backward()
    x = L.tensor([[1.0, -1.0]], requires_grad=True)
    act.register_full_backward_hook(lambda m, grad_input, grad_output: (grad_input[0] * 0 + 1,))
    model(x).sum().backward()
    handle.remove()
    model(x.detach().requires_grad_()).sum().backward()
    return seen, lin.weight.grad.tolist(), x.grad.tolist(), y.grad_fn.name()


def test_full_backward_hooks_see_and_replace_gradients_as_in_pytorch():
    ours, theirs = _hooked_run(tg), _hooked_run(torch)
    assert ours[3] == theirs[3] == "BackwardHookFunctionBackward"
    assert np.allclose(ours[1], theirs[1]) and np.allclose(ours[2], theirs[2])
    assert [s[0] for s in ours[0]] == [s[0] for s in theirs[0]]
    for (_, gi_ours, go_ours), (_, gi_theirs, go_theirs) in zip(ours[0], theirs[0]):
        for a, b in zip(gi_ours + go_ours, gi_theirs + go_theirs):
            assert (a is None and b is None) or np.allclose(a, b)
