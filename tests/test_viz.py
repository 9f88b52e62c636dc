"""Tests for tinygrad_edu.viz: the DOT source of known graphs (nodes, labels, edges), backward
step by step, collapsing and the size limit, rendering with the real `dot`, the missing-`dot`
path, bad input, and the `tinygrad-edu graph` command."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import graphviz
import numpy as np
import pytest

import tinygrad_edu as torch
from tinygrad_edu import viz
from tinygrad_edu.scalar import MLP, Value, topological_order
from tinygrad_edu.viz import backward_steps, draw_graph, render, save_steps

needs_dot = pytest.mark.skipif(not shutil.which("dot"),
                               reason="Graphviz's dot is not installed (.ci/run installs it)")


# ---- reading DOT source -------------------------------------------------------------------------

NODE = re.compile(r'^\t(\w+) \[label=("(?:[^"\\]|\\.)*"|\S+)(.*)\]$')
EDGE = re.compile(r"^\t(\w+) -> (\w+)(?: \[(.*)\])?$")


def nodes(g: graphviz.Digraph) -> dict[str, tuple[str, str]]:
    """DOT id -> (label text, the other attributes)."""
    out = {}
    for line in g.source.splitlines():
        m = NODE.match(line)
        if m:
            out[m.group(1)] = (m.group(2).strip('"'), m.group(3))
    return out


def edges(g: graphviz.Digraph) -> list[tuple[str, str, str]]:
    """(tail, head, attributes) for every edge, in order."""
    return [(m.group(1), m.group(2), m.group(3) or "")
            for m in map(EDGE.match, g.source.splitlines()) if m]


def find(g: graphviz.Digraph, text: str) -> list[str]:
    """The ids of the nodes whose label contains text."""
    return [key for key, (label, _) in nodes(g).items() if text in label]


def one(g: graphviz.Digraph, text: str) -> str:
    found = find(g, text)
    assert len(found) == 1, (text, found, g.source)
    return found[0]


def edge_set(g: graphviz.Digraph) -> set[tuple[str, str]]:
    return {(t, h) for t, h, _ in edges(g)}


def highlighted(g: graphviz.Digraph) -> list[str]:
    return [key for key, (_, attrs) in nodes(g).items() if f"fillcolor={viz.CURRENT}" in attrs]


# ---- graphs the tests draw --------------------------------------------------------------------

def micrograd_example():
    """micrograd's classic: L = ((a*b) + c) * f, with its known gradients."""
    a, b, c, f = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c"), Value(-2.0, "f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return a, b, c, d, e, f, L


def linear_sum():
    """(w * x + b).sum() with w, b requiring grad and x a plain input."""
    w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = torch.tensor([4.0, 5.0, 6.0])
    b = torch.tensor(0.5, requires_grad=True)
    return w, x, b, (w * x + b).sum()


def two_layer_mlp():
    torch.manual_seed(0)
    params = {"fc1.weight": torch.randn(3, 5, requires_grad=True),
              "fc1.bias": torch.zeros(5, requires_grad=True),
              "fc2.weight": torch.randn(5, 2, requires_grad=True),
              "fc2.bias": torch.zeros(2, requires_grad=True)}
    x = torch.randn(4, 3)
    out = (x @ params["fc1.weight"] + params["fc1.bias"]).relu() @ params["fc2.weight"] \
        + params["fc2.bias"]
    return params, out.sum()


# ---- Value graphs -----------------------------------------------------------------------------

def test_value_forward_graph_has_records_ops_and_data_flow_edges():
    a, b, c, d, e, f, L = micrograd_example()
    L.backward()
    g = draw_graph(L)
    assert isinstance(g, graphviz.Digraph)
    labels = {label for label, _ in nodes(g).values()}
    for text in ("{ a | data 2.0000 | grad 6.0000 }", "{ b | data -3.0000 | grad -4.0000 }",
                 "{ c | data 10.0000 | grad -2.0000 }", "{ f | data -2.0000 | grad 4.0000 }",
                 "{ e | data -6.0000 | grad -2.0000 }", "{ d | data 4.0000 | grad -2.0000 }",
                 "{ L | data -8.0000 | grad 1.0000 }"):
        assert text in labels
    assert sorted(label for label, _ in nodes(g).values() if "{" not in label) == ["*", "*", "+"]
    ids = {name: one(g, "{ " + name + " |") for name in "abcdefL"}
    got = edge_set(g)
    for value in "edL":             # data flows parent -> op -> value
        assert (ids[value] + "op", ids[value]) in got
    assert {(ids["a"], ids["e"] + "op"), (ids["b"], ids["e"] + "op"),
            (ids["e"], ids["d"] + "op"), (ids["c"], ids["d"] + "op"),
            (ids["d"], ids["L"] + "op"), (ids["f"], ids["L"] + "op")} <= got
    assert len(edges(g)) == 9


def test_value_backward_graph_is_reversed_with_local_derivatives():
    a, b, c, d, e, f, L = micrograd_example()
    L.backward()
    g = draw_graph(L, kind="backward")
    ids = {name: one(g, "{ " + name + " |") for name in "abcdefL"}
    labelled = {(t, h): attrs for t, h, attrs in edges(g)}
    # ∂e/∂a = b = -3, ∂e/∂b = a = 2, ∂L/∂d = f = -2, ∂L/∂f = d = 4, ∂d/∂e = ∂d/∂c = 1
    assert labelled[(ids["e"] + "op", ids["a"])] == 'label="local -3.0000"'
    assert labelled[(ids["e"] + "op", ids["b"])] == 'label="local 2.0000"'
    assert labelled[(ids["L"] + "op", ids["d"])] == 'label="local -2.0000"'
    assert labelled[(ids["L"] + "op", ids["f"])] == 'label="local 4.0000"'
    assert labelled[(ids["d"] + "op", ids["c"])] == 'label="local 1.0000"'
    assert (ids["L"], ids["L"] + "op") in labelled       # value -> its op, root first
    assert (ids["a"], ids["e"] + "op") not in labelled   # no forward edges left


def test_value_operand_used_twice_gives_two_edges():
    x = Value(3.0, "x")
    y = x * x
    assert len(edges(draw_graph(y))) == 3   # x -> * twice, * -> y


def test_value_labels_with_record_syntax_are_escaped():
    v = Value(1.0, "a|b{c}<d>") * 2
    g = draw_graph(v)
    assert r"a\|b\{c\}\<d\>" in g.source


@needs_dot
def test_escaped_labels_render(tmp_path):
    v = Value(1.0, 'a|b{c}"q"\\') * 2
    svg = render(draw_graph(v), tmp_path / "esc.svg").read_text()
    assert "a|b{c}" in svg and "&quot;q&quot;" in svg


def test_value_steps_follow_reverse_topological_order_and_fill_in_grads():
    a, b, c, d, e, f, L = micrograd_example()
    a.grad = 99.0       # backward_steps must leave users' gradients alone
    steps = list(backward_steps(L))
    order = list(reversed(topological_order(L)))
    assert len(steps) == len(order) == 7
    for step, value, n in zip(steps, order, range(1, 8)):
        assert step.caption.startswith(f"step {n}/7: {value.label}")
        current = highlighted(step)
        assert current[0] == one(step, "{ " + value.label + " |")
    # Step 1 (L) has passed its gradient to d and f only; a is not reached yet.
    first = {label.split(" |")[0][2:]: label for label, _ in nodes(steps[0]).values()
             if label.startswith("{")}
    assert "grad -2.0000" in first["d"] and "grad 4.0000" in first["f"]
    assert "grad 0.0000" in first["a"] and "grad 0.0000" in first["e"]
    assert "chain rule: d.grad += -2.0000 × 1.0000; f.grad += 4.0000 × 1.0000" in steps[0].caption
    last = {label.split(" |")[0][2:]: label for label, _ in nodes(steps[-1]).values()
            if label.startswith("{")}
    assert "grad 6.0000" in last["a"] and "grad -4.0000" in last["b"]
    assert a.grad == 99.0 and b.grad == 0.0 and L.grad == 0.0


def test_value_pictures_change_no_value(tmp_path):
    *_, L = micrograd_example()
    values = topological_order(L)
    for i, v in enumerate(values):
        v.grad = float(i)
    slots = ("data", "grad", "label", "op", "parents", "local_grads")
    before = [[getattr(v, k) for k in slots] for v in values]
    for kind in ("forward", "backward"):
        draw_graph(L, kind=kind, collapse=True)
    list(backward_steps(L))
    if shutil.which("dot"):
        save_steps(L, tmp_path / "steps.html")
    assert [[getattr(v, k) for k in slots] for v in values] == before


def test_value_step_shows_chain_rule_on_current_edges():
    a, b, c, d, e, f, L = micrograd_example()
    step_e = list(backward_steps(L))[4]       # L, f, d, c, e
    assert step_e.caption.startswith("step 5/7: e (*) has grad -2.0000")
    ids = {name: one(step_e, "{ " + name + " |") for name in "abe"}
    labelled = {(t, h): attrs for t, h, attrs in edges(step_e)}
    assert 'label="-3.0000 × -2.0000 = 6.0000"' in labelled[(ids["e"] + "op", ids["a"])]
    assert "color=red" in labelled[(ids["e"] + "op", ids["b"])]


# ---- Tensor graphs ----------------------------------------------------------------------------

def test_tensor_forward_graph_has_named_leaves_ops_and_output():
    w, x, b, out = linear_sum()
    g = draw_graph(out, params={"w": w, "b": b})
    ops = {label: key for key, (label, attrs) in nodes(g).items() if "ellipse" in attrs}
    assert set(ops) == {"mul", "add", "sum"}
    w_id = one(g, "w\\n(3,) float32\\nrequires_grad=True")
    b_id = one(g, "b\\n() float32\\nrequires_grad=True")
    x_id = one(g, "input\\n(no grad)")
    out_id = one(g, "output\\n() float32")
    got = edge_set(g)
    assert {(w_id, ops["mul"]), (x_id, ops["mul"]), (b_id, ops["add"]),
            (ops["sum"], out_id)} <= got
    # mul -> its (3,) result -> add -> its (3,) result -> sum
    (mul_out,) = [h for t, h in got if t == ops["mul"]]
    (add_out,) = [h for t, h in got if t == ops["add"]]
    assert nodes(g)[mul_out][0] == nodes(g)[add_out][0] == "(3,) float32"
    assert (mul_out, ops["add"]) in got and (add_out, ops["sum"]) in got
    assert len(got) == 8


def test_tensor_backward_graph_names_nodes_and_shows_leaf_grads():
    w, x, b, out = linear_sum()
    out.backward()
    g = draw_graph(out, kind="backward", params={"w": w, "b": b})
    labels = [label for label, _ in nodes(g).values()]
    sum_id = one(g, "SumBackward")
    assert re.fullmatch(r"SumBackward[01]", nodes(g)[sum_id][0])
    add_id, mul_id = one(g, "AddBackward0"), one(g, "MulBackward0")
    accs = find(g, "AccumulateGrad")
    assert len(accs) == 2 and labels.count("AccumulateGrad") == 2
    w_leaf = one(g, "w\\n(3,) float32\\nrequires_grad=True\\ngrad (3,) = [4.0000, 5.0000, 6.0000]")
    b_leaf = one(g, "b\\n() float32\\nrequires_grad=True\\ngrad () = 3.0000")
    got = edge_set(g)
    assert {("output", sum_id), (sum_id, add_id), (add_id, mul_id)} <= got
    acc_of = {h: t for t, h in got if t in accs}
    assert (mul_id, acc_of[w_leaf]) in got and (add_id, acc_of[b_leaf]) in got
    assert len(got) == 7


def test_backward_graph_before_backward_has_no_grads():
    w, x, b, out = linear_sum()
    g = draw_graph(out, kind="backward")
    labels = [label for label, _ in nodes(g).values()]
    assert len(labels) == 8 and not any("\\ngrad" in label for label in labels)
    assert "label" not in "".join(attrs for _, _, attrs in edges(g))


def test_two_layer_mlp_graphs_with_parameter_names():
    params, loss = two_layer_mlp()
    loss.backward()
    g = draw_graph(loss, kind="backward", params=params)
    names = [label.split("\\n")[0] for label, _ in nodes(g).values()]
    # Our engine records x @ W as MmBackward0 and the bias as AddBackward0 (as PyTorch does for
    # the @ and + operators; F.linear would give AddmmBackward0).
    assert names.count("MmBackward0") == 2 and names.count("AddBackward0") == 2
    assert names.count("ReluBackward0") == 1 and names.count("AccumulateGrad") == 4
    for name, p in params.items():
        assert f"grad {tuple(p.shape)}" in nodes(g)[one(g, name + "\\n")][0]
    assert "fc2.bias\\n(2,) float32\\nrequires_grad=True\\ngrad (2,) = [4.0000, 4.0000]" in g.source
    # gradient flows from the output down: the last op first, a parameter's AccumulateGrad last
    relu = one(g, "ReluBackward0")
    assert any(t == relu and nodes(g)[h][0] == "AddBackward0" for t, h in edge_set(g))
    fwd = draw_graph(loss, params=params)
    ops = sorted(label for label, attrs in nodes(fwd).values() if "ellipse" in attrs)
    assert ops == ["add", "add", "mm", "mm", "relu", "sum"]
    assert one(fwd, "fc1.weight\\n(3, 5) float32")


def test_params_from_a_module_like_object():
    params, loss = two_layer_mlp()

    class Model:
        def named_parameters(self):
            return iter(params.items())

    g = draw_graph(loss, params=Model())
    assert find(g, "fc1.bias") and find(g, "fc2.weight")
    g = draw_graph(loss, params=list(params.items()))
    assert find(g, "fc1.bias")
    with pytest.raises(TypeError, match="params must be"):
        draw_graph(loss, params=42)


def test_value_names_from_params_fill_in_missing_labels():
    w, x = Value(0.5), Value(2.0, "x")
    g = draw_graph(w * x, params={"w0": w, "ignored": x})
    assert one(g, "{ w0 | data 0.5000") and one(g, "{ x | data 2.0000")


def test_collapsed_steps_highlight_the_summary_of_the_current_node():
    model = MLP(2, [4, 1], seed=1)
    out = model([1.0, -1.0])
    steps = list(backward_steps(out, collapse=True))
    assert len(steps) == len(topological_order(out))
    relu_steps = [s for s in steps if "(relu" in s.caption or "⟨relu" in s.caption]
    assert len(relu_steps) == 4
    for s in relu_steps:    # each relu's step lights up the one "4 × relu" summary (and its op)
        (summary,) = [k for k in highlighted(s) if "{ 4 × relu |" in nodes(s)[k][0]]
        assert set(highlighted(s)) == {summary, summary + "op"}


def test_tensor_steps_follow_the_engine_and_restore_grads():
    w, x, b, out = linear_sum()
    steps = list(backward_steps(out, params={"w": w, "b": b}))
    names = [re.match(r"step \d+/5: (\w+)", s.caption).group(1) for s in steps]
    assert len(steps) == 5
    assert re.fullmatch(r"SumBackward[01]", names[0])
    assert names[1:3] == ["AddBackward0", "MulBackward0"]
    assert names[3:] == ["AccumulateGrad", "AccumulateGrad"]   # leaves run last
    assert {steps[3].caption.split(" into ")[1], steps[4].caption.split(" into ")[1]} == \
        {"w.grad", "b.grad"}
    for s, name in zip(steps, names):
        (current,) = highlighted(s)
        assert nodes(s)[current][0].startswith(name)
    # step 3 (MulBackward0): w's gradient is not there yet; after the last step both are
    assert "grad (3,) = [4.0000" not in steps[2].source
    assert "grad (3,) = [4.0000, 5.0000, 6.0000]" in steps[-1].source
    assert "grad () = 3.0000" in steps[-1].source
    # the pass was private: no .grad set, and the graph is still usable
    assert w.grad is None and b.grad is None
    out.backward()
    assert w.grad.tolist() == [4.0, 5.0, 6.0]


def test_tensor_steps_keep_existing_grads():
    w, x, b, out = linear_sum()
    out.backward(retain_graph=True)
    before = w.grad
    list(backward_steps(out))
    assert w.grad is before and w.grad.tolist() == [4.0, 5.0, 6.0]
    assert b.grad.tolist() == 3.0


def test_tensor_steps_on_a_freed_graph_raise():
    w, x, b, out = linear_sum()
    out.backward()
    with pytest.raises(RuntimeError, match="already freed"):
        backward_steps(out)


def test_steps_on_a_freed_graph_say_how_to_keep_it():
    w, x, b, out = linear_sum()
    out.backward()
    with pytest.raises(RuntimeError, match=r"retain_graph=True.*before calling backward"):
        backward_steps(out)


def hooked_mlp():
    """A small MLP-like graph with every kind of user hook on it, counting their calls."""
    torch.manual_seed(3)
    w1 = torch.randn(2, 3, requires_grad=True)
    b1 = torch.zeros(3, requires_grad=True)
    w2 = torch.randn(3, 1, requires_grad=True)
    x = torch.randn(2, 2)
    h = (x @ w1 + b1).tanh()
    out = (h @ w2).sum()
    calls = {"tensor": 0, "leaf": 0, "pre": 0, "post": 0, "accumulated": 0}

    def count(kind):
        def hook(*args):
            calls[kind] += 1
        return hook

    h.register_hook(count("tensor"))
    w1.register_hook(count("leaf"))
    h.grad_fn.register_prehook(count("pre"))
    out.grad_fn.register_hook(count("post"))
    w2.register_post_accumulate_grad_hook(count("accumulated"))
    h.retain_grad()
    return [w1, b1, w2, x, h, out], calls


def snapshot(tensors) -> list:
    """Everything viz must leave alone: gradients, graph links, attributes (compared by
    identity), and each node's saved tensors."""
    nodes = viz._graph_nodes(tensors[-1])
    return ([(t._grad, t.grad_fn, t._grad_acc, dict(t.__dict__), t._version[0])
             for t in tensors]
            + [(n, dict(n.__dict__), getattr(n, "_saved", None), getattr(n, "_freed", None),
                n._pre_hooks, n._post_hooks, n._tensor_hooks, n._retain) for n in nodes])


def same(a: list, b: list) -> bool:
    def key(x):
        if isinstance(x, dict):
            return {k: key(v) for k, v in x.items()}
        if isinstance(x, (tuple, list)):
            return tuple(key(v) for v in x)
        return id(x)
    return key(a) == key(b)


def test_pictures_change_nothing_and_run_no_hook(tmp_path):
    tensors, calls = hooked_mlp()
    before = snapshot(tensors)
    for kind in ("forward", "backward"):
        draw_graph(tensors[-1], kind=kind)
        draw_graph(tensors[-1], kind=kind, collapse=True)
    steps = list(backward_steps(tensors[-1]))
    assert len(steps) == 8
    if shutil.which("dot"):
        save_steps(tensors[-1], tmp_path / "steps.html")
    assert same(snapshot(tensors), before)
    assert all(t._grad is None for t in tensors)
    assert calls == dict.fromkeys(calls, 0)
    # the graph still works, hooks and all, and gives what an untouched graph gives
    tensors[-1].backward()
    assert calls == dict.fromkeys(calls, 1)
    fresh, _ = hooked_mlp()
    fresh[-1].backward()
    for t, f in zip(tensors, fresh):        # (h retains its grad; out does not)
        assert (t._grad is None) == (f._grad is None)
        if t._grad is not None:
            assert t._grad.tolist() == f._grad.tolist()


def test_a_leaf_root_gets_no_accumulate_grad_node():
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    assert t._grad_acc is None
    g = draw_graph(t, kind="backward")
    assert one(g, "AccumulateGrad") and one(g, "(2,) float32\\nrequires_grad=True")
    draw_graph(t)
    (step,) = backward_steps(t, gradient=torch.tensor([3.0, 4.0]))
    assert step.caption == ("step 1/1: AccumulateGrad adds grad (2,) = [3.0000, 4.0000] into "
                            "the leaf (2,).grad")
    assert t._grad_acc is None and t.grad is None and t.__dict__ == {}


def test_module_backward_hooks_do_not_run():
    nn = pytest.importorskip("tinygrad_edu.nn")
    torch.manual_seed(0)
    layer = nn.Linear(2, 3)
    calls = []
    layer.register_full_backward_hook(lambda *args: calls.append("hook"))
    layer.register_full_backward_pre_hook(lambda *args: calls.append("pre"))
    out = layer(torch.randn(4, 2, requires_grad=True)).tanh().sum()
    steps = list(backward_steps(out))
    assert sum(": BackwardHookFunctionBackward receives" in s.caption for s in steps) == 2
    assert calls == [] and layer.weight.grad is None
    out.backward()
    assert calls == ["pre", "hook"]


def small_mlp(lib):
    """tanh(x @ W1 + b1) @ W2 + b2, summed, in float64: the leaves, and the output and the
    intermediates newest first; `lib` is PyTorch or tinygrad_edu."""
    gen = np.random.default_rng(7)
    data = {"x": gen.normal(size=(2, 2)), "W1": gen.normal(size=(2, 3)), "b1": gen.normal(size=3),
            "W2": gen.normal(size=(3, 1)), "b2": gen.normal(size=1)}
    t = {k: lib.tensor(v.tolist(), dtype=lib.float64, requires_grad=k != "x")
         for k, v in data.items()}
    h1 = t["x"] @ t["W1"]
    h2 = h1 + t["b1"]
    h3 = h2.tanh()
    h4 = h3 @ t["W2"]
    h5 = h4 + t["b2"]
    out = h5.sum()
    return t, [out, h5, h4, h3, h2, h1]


def numbers(text: str) -> list[float]:
    """The numbers a gradient text prints ("(2, 3) = [[0.1000, ...]]"), not its shape."""
    return [float(x) for x in re.findall(r"-?\d+\.\d+(?:e[-+]\d+)?", text)]


def test_step_gradients_match_pytorch():
    real = pytest.importorskip("torch")
    ours, inner = small_mlp(torch)
    theirs, their_inner = small_mlp(real)
    for h in their_inner:
        h.retain_grad()
    their_inner[0].backward()
    names = {k: v for k, v in ours.items() if k != "x"}
    steps = list(backward_steps(inner[0], params=names))
    assert len(steps) == 10
    # ops first, newest first: sum, add, mm, tanh, add, mm; each receives d out / d its output
    ops = [re.fullmatch(r"step \d+/10: (\w+) receives grad (.*) and sends .*", s.caption)
           for s in steps[:6]]
    assert [m.group(1) for m in ops] == ["SumBackward0", "AddBackward0", "MmBackward0",
                                         "TanhBackward0", "AddBackward0", "MmBackward0"]
    for m, h in zip(ops, their_inner):
        assert numbers(m.group(2)) == pytest.approx(h.grad.flatten().tolist(), abs=1e-4)
    # then the leaves, whose gradients the last picture shows in their boxes
    got = {re.search(r"into (\w+)\.grad", s.caption).group(1):
           numbers(s.caption.split(" into ")[0]) for s in steps[6:]}
    assert set(got) == set(names)
    for name, values in got.items():
        assert values == pytest.approx(theirs[name].grad.flatten().tolist(), abs=1e-4)
        label = nodes(steps[-1])[one(steps[-1], name + "\\n")][0]
        assert numbers(label.split("\\ngrad ")[1]) == values
    # and exactly, from the pass the pictures are drawn from
    seed = torch.ones((), dtype=torch.float64)
    passed = {node: received for node, received, _ in
              viz._backward_pass(inner[0], viz._graph_nodes(inner[0]), seed)}
    for h, th in zip(inner, their_inner):
        np.testing.assert_allclose(passed[h.grad_fn][0].numpy(), th.grad.numpy(), rtol=1e-12)
    for name, t in names.items():
        np.testing.assert_allclose(passed[t._grad_acc][0].numpy(), theirs[name].grad.numpy(),
                                   rtol=1e-12)
    assert all(t.grad is None for t in ours.values())


def test_tensor_without_graph():
    t = torch.ones(3)
    with pytest.raises(ValueError, match="no backward graph.*requires_grad is False"):
        draw_graph(t, kind="backward")
    with pytest.raises(ValueError, match="no backward graph"):
        backward_steps(t)
    assert one(draw_graph(t), "(3,) float32\\nrequires_grad=False")


def test_bad_root_kind_and_max_nodes():
    with pytest.raises(TypeError, match="Value or a Tensor, got list"):
        draw_graph([1, 2])
    with pytest.raises(TypeError, match="got float"):
        backward_steps(1.5)
    with pytest.raises(ValueError, match="kind must be 'forward' or 'backward', got 'sideways'"):
        draw_graph(Value(1.0), kind="sideways")
    with pytest.raises(ValueError, match="max_nodes must be a positive int, got 0"):
        draw_graph(Value(1.0), max_nodes=0)


# ---- large graphs -----------------------------------------------------------------------------

def value_mlp():
    model = MLP(2, [16, 16, 1], seed=0)
    out = model([0.5, -1.0])
    out.backward()
    return out


def test_collapse_merges_the_neurons_of_a_layer():
    out = value_mlp()
    full = draw_graph(out, max_nodes=10**6)
    small = draw_graph(out, collapse=True)
    assert len(nodes(full)) > 500 and len(nodes(small)) < 40
    labels = [label for label, _ in nodes(small).values()]
    assert sum("16 × relu" in label for label in labels) == 2     # one per hidden layer
    assert sum("16 × dot" in label for label in labels) == 2
    assert any("256 × leaf" in label for label in labels)         # layer 2's weights
    assert 'label="×256"' in small.source                         # 16 relus -> 16 dots
    (root,) = root_records(small)       # the output is not repeated: it stays one value
    assert "×" not in nodes(small)[root][0]


def test_collapse_shortens_a_chain_of_identical_ops():
    y = x = Value(1.0, "x")
    for _ in range(50):
        y = y * 1.01
    g = draw_graph(y, collapse=True)
    assert len(nodes(g)) < 30
    assert any(re.search(r"\d+ × \*", label) for label, _ in nodes(g).values())


def test_collapse_on_tensor_graphs():
    w = torch.ones(3, requires_grad=True)
    y = w
    for _ in range(20):
        y = y * 2.0
    g = draw_graph(y.sum(), kind="backward", collapse=True)
    assert any(re.fullmatch(r"\d+ × MulBackward0", label) for label, _ in nodes(g).values())
    assert len(nodes(g)) < 15
    assert len(find(draw_graph(y.sum(), kind="backward"), "MulBackward0")) == 20


def test_max_nodes_adds_a_note_saying_what_was_left_out():
    out = value_mlp()
    full = draw_graph(out, max_nodes=10**6)
    g = draw_graph(out, max_nodes=50)
    kept = {k: v for k, v in nodes(g).items() if k != "omitted"}
    assert len(kept) == 50
    assert g.omitted_nodes == len(nodes(full)) - 50
    kept_edges = [e for e in edges(g) if "omitted" not in e[:2]]
    assert g.omitted_edges == len(edges(full)) - len(kept_edges)
    note = nodes(g)["omitted"][0]
    assert f"{g.omitted_nodes} more nodes and {g.omitted_edges} edges not shown" in note
    assert "max_nodes=50" in note
    assert root_records(full)[0] in kept        # what is kept is the end nearest the output
    assert full.omitted_nodes == 0 and "omitted" not in nodes(full)


def root_records(g: graphviz.Digraph) -> list[str]:
    """The output's record: the one drawn with a thicker border."""
    return [k for k, (_, attrs) in nodes(g).items() if "penwidth=2 shape=record" in attrs]


# ---- files ------------------------------------------------------------------------------------

@needs_dot
@pytest.mark.parametrize("suffix,magic", [(".svg", None), (".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_render_with_real_dot(tmp_path, suffix, magic):
    a, b, c, d, e, f, L = micrograd_example()
    L.backward()
    path = render(draw_graph(L), tmp_path / f"L{suffix}")
    data = path.read_bytes()
    if magic is None:
        text = data.decode()
        assert text.startswith("<?xml") and "<svg" in text and "grad 1.0000" in text
    else:
        assert data.startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [f"L{suffix}"]   # no temporary files left


@needs_dot
def test_render_format_argument_and_bad_suffix(tmp_path):
    g = draw_graph(Value(2.0, "z") * 3)
    assert render(g, tmp_path / "pic", format="svg") == tmp_path / "pic.svg"
    assert "<svg" in (tmp_path / "pic.svg").read_text()
    assert render(g, tmp_path / "pic.dot").read_text() == g.source
    with pytest.raises(ValueError, match="unsupported format 'gif'.*expected one of svg, png"):
        render(g, tmp_path / "pic.gif")
    with pytest.raises(ValueError, match="format='png' does not match the file name"):
        render(g, tmp_path / "pic.svg", format="png")
    with pytest.raises(ValueError, match="cannot tell the format"):
        render(g, tmp_path / "noext")


@needs_dot
def test_notebook_display_is_svg():
    g = draw_graph(Value(2.0, "z") * 3)
    assert "<svg" in g._repr_svg_()
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"] and "<svg" in bundle["image/svg+xml"]


def test_without_dot_the_source_is_written_and_the_error_says_how_to_install(tmp_path,
                                                                              monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))    # no `dot` anywhere on PATH
    g = draw_graph(Value(2.0, "z") * 3)
    with pytest.raises(RuntimeError) as info:
        render(g, tmp_path / "out.svg")
    message = str(info.value)
    assert "`dot` was not found" in message and str(tmp_path / "out.dot") in message
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert (tmp_path / "out.dot").read_text() == g.source
    assert not (tmp_path / "out.svg").exists()
    assert g._repr_svg_() is None
    assert "text/plain" in g._repr_mimebundle_() and g.source in g._repr_mimebundle_()["text/plain"]
    with pytest.raises(RuntimeError, match="DOT sources were written"):
        save_steps(Value(2.0, "z") * 3, tmp_path / "steps")
    assert sorted(p.name for p in (tmp_path / "steps").iterdir()) == \
        ["step_001.dot", "step_002.dot", "step_003.dot"]
    with pytest.raises(RuntimeError, match="DOT sources were written"):
        save_steps(Value(2.0, "z") * 3, tmp_path / "page.html")
    assert len(list((tmp_path / "page_dot").iterdir())) == 3
    assert not (tmp_path / "page.html").exists()


@needs_dot
def test_save_steps_as_numbered_svgs(tmp_path):
    folder = tmp_path / "steps"
    folder.mkdir()
    (folder / "step_009.svg").write_text("left over")
    (folder / "notes.txt").write_text("mine")
    a, b, c, d, e, f, L = micrograd_example()
    assert save_steps(L, folder) == folder
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["notes.txt"] + [f"step_00{i}.svg" for i in range(1, 8)]
    assert "step 3/7: d" in (folder / "step_003.svg").read_text()


@needs_dot
def test_save_steps_as_one_self_contained_html_page(tmp_path):
    w, x, b, out = linear_sum()
    page = save_steps(backward_steps(out, params={"w": w, "b": b}), tmp_path / "steps.html")
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert text.count('<div class="step"') == 5 and text.count("<svg") == 5
    assert 'id="prev"' in text and 'id="next"' in text
    assert "ArrowLeft" in text and "ArrowRight" in text
    assert "data-caption=\"step 5/5: AccumulateGrad adds grad" in text
    # nothing fetched from elsewhere: no src/href, no external DTD; only XML namespace names
    assert not re.search(r"\b(src|href)\s*=", text) and "<link" not in text
    assert "<?xml" not in text and "<!DOCTYPE svg" not in text
    assert "http" not in re.sub(r'xmlns(:\w+)?="[^"]*"', "", text)


def test_save_steps_rejects_options_with_pictures(tmp_path):
    with pytest.raises(TypeError, match="only apply when given a root"):
        save_steps([], tmp_path / "x.html", collapse=True)
    with pytest.raises(TypeError, match="step 0 is a str"):
        save_steps(["nope"], tmp_path / "x.html")


# ---- expressions and the command line ------------------------------------------------------------

def test_expression_builds_labelled_values():
    out = viz.value_from_expression("x**2 + y**3", {"x": 2.0, "y": 3.0})
    out.backward()
    assert out.data == 31.0
    leaves = {v.label: v for v in topological_order(out) if not v.op}
    assert set(leaves) == {"x", "y"}
    assert leaves["x"].grad == 4.0 and leaves["y"].grad == 27.0
    assert viz.value_from_expression("-sigmoid(0) * 2 / x + abs(x)", {"x": -4.0}).data == 4.25


@pytest.mark.parametrize("expr,match", [
    ("__import__('os').system('true')", "not allowed"),
    ("x.real", "not allowed"),
    ("x[0]", "not allowed"),
    ("(lambda: 1)()", "not allowed"),
    ("exp(x, x)", "not allowed"),
    ("x < 1", "not allowed"),
    ("'text'", "not allowed"),
    ("x +", "cannot parse"),
    ("z * x", "unknown name 'z'"),
])
def test_expression_whitelist(expr, match):
    with pytest.raises(ValueError, match=match):
        viz.value_from_expression(expr, {"x": 1.0})


def test_parse_bindings():
    assert viz.parse_bindings(["x=2,y=3", "z=-1.5"]) == {"x": 2.0, "y": 3.0, "z": -1.5}
    for bad in ("x", "2x=1", "x=two", "exp=1"):
        with pytest.raises(ValueError, match="--at"):
            viz.parse_bindings([bad])


ROOT = Path(__file__).resolve().parents[1]


def cli_env(**extra: str) -> dict:
    """The environment for a subprocess that must import this checkout (not an installed copy),
    whatever folder it runs in."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **extra}


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tinygrad_edu", "graph", *args],
                          capture_output=True, text=True, timeout=120, cwd=cwd, env=cli_env())


@needs_dot
def test_cli_draws_an_expression(tmp_path):
    result = run_cli("x**2 + y**3", "--at", "x=2,y=3", "-o", "tmp.svg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "tmp.svg"
    svg = (tmp_path / "tmp.svg").read_text()
    assert svg.startswith("<?xml") and "<svg" in svg
    assert "grad 4.0000" in svg and "grad 27.0000" in svg and "data 31.0000" in svg


def test_cli_writes_dot_and_steps(tmp_path):
    result = run_cli("tanh(x*w + b)", "--at", "x=1,w=0.5", "--at", "b=0", "--kind", "backward",
                     "-o", str(tmp_path / "g.dot"))
    assert result.returncode == 0, result.stderr
    source = (tmp_path / "g.dot").read_text()
    assert "{ w | data 0.5000 | grad 0.7864 }" in source and "local" in source
    if shutil.which("dot"):
        result = run_cli("x*y", "--at", "x=2,y=3", "-o", str(tmp_path / "g.svg"),
                         "--steps", str(tmp_path / "s.html"))
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [str(tmp_path / "g.svg"), str(tmp_path / "s.html")]
        assert (tmp_path / "s.html").read_text().count('<div class="step"') == 3


@pytest.mark.parametrize("args,message", [
    (["__import__('os').system('echo hacked')"], "not allowed"),
    (["x +", "--at", "x=1"], "cannot parse"),
    (["x * z", "--at", "x=1"], "unknown name 'z'"),
    (["log(x)", "--at", "x=-1"], "log: input must be > 0"),
    (["x", "--at", "x=abc"], "must be a number"),
    (["x", "--at", "x=1", "-o", "out.gif"], "unsupported format"),
])
def test_cli_bad_input_exits_2_without_traceback(tmp_path, args, message):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert "hacked" not in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_cli_without_dot_keeps_the_source(tmp_path):
    env = cli_env(PATH=str(tmp_path / "empty"))       # no `dot` anywhere on PATH
    result = subprocess.run([sys.executable, "-m", "tinygrad_edu", "graph", "x*2", "--at", "x=1",
                             "-o", "g.svg"], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "`dot` was not found" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "g.dot").exists() and not (tmp_path / "g.svg").exists()
