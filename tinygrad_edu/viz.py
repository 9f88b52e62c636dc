"""Pictures of computation graphs, forward and backward, drawn with Graphviz.

What a learner looks at to understand autograd::

    from tinygrad_edu.viz import draw_graph, backward_steps, save_steps, render

    draw_graph(loss)                      # the forward graph: inputs -> ops -> loss
    draw_graph(loss, kind="backward")     # the grad_fn graph that backward() walks
    render(draw_graph(loss), "loss.svg")  # or .png / .pdf
    save_steps(backward_steps(loss), "steps.html")   # backprop one node at a time

Two kinds of roots:

* a `Value` (tinygrad_edu.scalar): one record per value ``label | data | grad`` (as in
  micrograd's ``draw_dot``) and one small node per op. The backward picture is the same graph
  reversed, each edge carrying the local derivative ∂child/∂parent that the chain rule
  ``parent.grad += local * child.grad`` multiplies by.
* a `Tensor`: the forward picture shows tensors (parameter name when known, shape, dtype,
  requires_grad) and ops; the backward picture shows the ``grad_fn`` nodes as PyTorch names them
  (``MulBackward0``, ``AccumulateGrad``, ...) following ``next_functions``, the leaves they
  accumulate into, and, after ``backward()``, each leaf gradient's shape (and its values when it
  has at most 6 elements).

A tensor graph has no separate record of the forward pass: its forward picture is read off the
``grad_fn`` graph, where each backward node stands for the op that produced it (``MulBackward0``
↔ ``mul``). Tensors that do not require grad leave no trace there; they appear as "no grad"
inputs.

`viz` only reads graphs: drawing changes no ``.grad``, node or tensor. `backward_steps` computes
its gradients from the graph itself, in the engine's order, calling each node's derivative on its
own copies of the gradients (no hook runs, nothing saved is freed, so a later ``backward()`` is
unaffected); for Values it replays ``Value.backward``'s loop the same way.

Large graphs: ``collapse=True`` merges items that play the same role (same op and shape, and
the same kinds of inputs and consumers within a few steps, e.g. the neurons of a layer or the
links of a chain of identical ops) into summary nodes "16 × relu"; past ``max_nodes`` drawn
nodes the picture keeps the part nearest the output and says how much it left out.
"""
from __future__ import annotations

import ast
import html
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable

import graphviz

from tinygrad_edu.autograd.engine import _make_grads
from tinygrad_edu.autograd.grad_mode import no_grad
from tinygrad_edu.autograd.graph import AccumulateGrad
from tinygrad_edu.scalar import Value, topological_order
from tinygrad_edu.serialization import atomic_write
from tinygrad_edu.vector import Tensor

__all__ = ["Graph", "draw_graph", "backward_steps", "save_steps", "render",
           "value_from_expression", "parse_bindings"]

KINDS = ("forward", "backward")
FORMATS = ("svg", "png", "pdf")
SMALL = 6                 # tensors with at most this many elements show their values
COLLAPSE_MIN = 3          # a repeated structure needs at least this many copies to be merged
COLLAPSE_ROUNDS = 3       # how many steps away two items must look alike to be merged
NOTE_LINKS = 12           # dashed links from the "not shown" note to where the graph was cut

# Colours: the node backward is at, nodes it already visited, leaves (as torchviz), the output.
CURRENT, VISITED, LEAF, OUTPUT, NOTE = "gold", "palegreen", "lightblue", "lightgrey", "lightyellow"

INSTALL_HINT = ("Install Graphviz (apt-get install graphviz / brew install graphviz) to render "
                "SVG/PNG/PDF")


# ================================================================================ public API

class Graph(graphviz.Digraph):
    """A `graphviz.Digraph` that notebooks show as SVG, plus what the drawing left out.

    ``caption`` is the text under the picture (the step's explanation for `backward_steps`);
    ``omitted_nodes`` / ``omitted_edges`` count what `max_nodes` cut off.
    """

    caption: str = ""
    omitted_nodes: int = 0
    omitted_edges: int = 0

    def _repr_svg_(self) -> str | None:
        """The picture as SVG text for Jupyter; None (no SVG) when `dot` is missing."""
        try:
            return self.pipe(format="svg", encoding="utf-8")
        except graphviz.ExecutableNotFound:
            return None

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs) -> dict:
        # Jupyter asks for this before _repr_svg_. Without `dot` a notebook gets the DOT source
        # and the install hint instead of a traceback.
        svg = self._repr_svg_()
        if svg is None:
            return {"text/plain": f"Graphviz's `dot` was not found. {INSTALL_HINT}.\n\n"
                                  + self.source}
        return {"image/svg+xml": svg}


def draw_graph(root: Value | Tensor, kind: str = "forward", *, params: Any = None,
               collapse: bool = False, max_nodes: int = 200) -> Graph:
    """The graph that computed ``root``, as a Graphviz picture.

    kind:      "forward" (data flows from the inputs to root) or "backward" (the graph that
               backward() walks from root to the leaves).
    params:    names for leaves: ``dict(model.named_parameters())``, a module-like object with
               ``named_parameters()``, or (name, tensor) pairs. Values use their own ``label``
               first.
    collapse:  merge repeated structures into summary nodes ("16 × relu").
    max_nodes: the most nodes drawn; the rest are summed up in a note node.
    """
    _check_common(root, kind, max_nodes)
    names = _param_names(params)
    if isinstance(root, Value):
        units = _value_units(root, collapse)
        pic = _value_picture(root, kind, units, names, _ValueGrads())
    elif kind == "forward":
        pic = _tensor_forward(root, _tensor_units(_graph_nodes(root), collapse), names)
    else:
        _check_has_graph(root)
        nodes = _graph_nodes(root)
        pic = _tensor_backward(root, _tensor_units(nodes, collapse), names,
                               _TensorRun.static(nodes))
    return pic.to_graph(max_nodes)


def backward_steps(root: Value | Tensor, *, params: Any = None, gradient: Tensor | None = None,
                   collapse: bool = False, max_nodes: int = 200) -> Iterator[Graph]:
    """One backward picture per node, in the order backward visits the nodes.

    Each picture highlights the current node and shows the gradients computed so far; its
    ``caption`` says what the step did. For a Tensor root, ``gradient`` is backward's seed
    (needed when root is not a scalar). The gradients are computed from the graph alone: no
    ``.grad`` is written and no hook runs (so a hook that would change a gradient is not shown).
    """
    _check_common(root, "backward", max_nodes)
    names = _param_names(params)
    if isinstance(root, Value):
        return _value_steps(root, _value_units(root, collapse), names, max_nodes)
    _check_has_graph(root)
    nodes = _graph_nodes(root)
    run = _TensorRun.replay(root, nodes, gradient)   # computed now, so errors surface here
    return _tensor_steps(root, _tensor_units(nodes, collapse), names, run, max_nodes)


def save_steps(steps: Iterable[Graph] | Value | Tensor, path: str | os.PathLike,
               **kwargs: Any) -> Path:
    """Write backward steps as numbered SVGs into a folder, or as one HTML page.

    ``steps`` is what `backward_steps` returned, or a root (then ``kwargs`` go to
    `backward_steps`). A path ending in ``.html`` gets one self-contained page (SVGs inlined,
    previous/next buttons, ← → keys); any other path is a folder of ``step_001.svg``, ...
    (older ``step_NNN.svg`` files in it are removed). Returns the path written.
    """
    if isinstance(steps, (Value, Tensor)):
        steps = backward_steps(steps, **kwargs)
    elif kwargs:
        raise TypeError(f"save_steps: options {sorted(kwargs)} only apply when given a root, "
                        "not pictures")
    graphs = list(steps)
    for i, g in enumerate(graphs):
        if not isinstance(g, graphviz.Digraph):
            raise TypeError(f"save_steps: step {i} is a {type(g).__name__}, expected a "
                            "graphviz.Digraph from backward_steps")
    path = Path(path)
    if path.suffix.lower() in (".html", ".htm"):
        return _save_html(graphs, path)
    return _save_folder(graphs, path)


def render(graph: graphviz.Digraph, path: str | os.PathLike, format: str | None = None) -> Path:
    """Render ``graph`` to ``path`` as SVG, PNG or PDF (by default from the file's suffix).

    ``.dot`` writes the DOT source only. If Graphviz's ``dot`` program is missing, the DOT
    source is written next to ``path`` (suffix ``.dot``) and a RuntimeError says how to install
    Graphviz. The file is written whole or not at all.
    """
    path = Path(path)
    fmt = _format_for(path, format)
    if not path.suffix:
        path = path.with_suffix("." + fmt)
    if fmt == "dot":
        _write_atomic(path, graph.source.encode("utf-8"))
        return path
    _write_atomic(path, _pipe(graph, fmt, path.with_suffix(".dot")))
    return path


# ================================================================================ checks

def _check_common(root: Any, kind: str, max_nodes: int) -> None:
    if not isinstance(root, (Value, Tensor)):
        raise TypeError(f"root must be a Value or a Tensor, got {type(root).__name__}")
    if kind not in KINDS:
        raise ValueError(f"kind must be 'forward' or 'backward', got {kind!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")


def _check_has_graph(t: Tensor) -> None:
    if t.grad_fn is None and not t.requires_grad:
        raise ValueError(f"this tensor (shape {_shape_text(t.shape)}) has no backward graph: "
                         "requires_grad is False and grad_fn is None. Make an input require grad "
                         "(requires_grad=True) before computing it.")


def _param_names(params: Any) -> dict[int, str]:
    """id(tensor or Value) -> name, from a dict, named_parameters(), or (name, x) pairs."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = params.named_parameters()
    pairs = params.items() if isinstance(params, Mapping) else params
    try:
        return {id(obj): str(name) for name, obj in pairs}
    except (TypeError, ValueError):
        raise TypeError(f"params must be a dict of name -> tensor, an object with "
                        f"named_parameters(), or (name, tensor) pairs; got "
                        f"{type(params).__name__}") from None


# ================================================================================ the picture model

class _Picture:
    """Nodes and edges collected before they become DOT, so the size limit can cut the graph.

    Edges are keyed by (tail, head, slot): two inputs of one op (``a * a``) stay two arrows. In
    a collapsed picture the slot is None, so edges between the same two summaries merge into
    one arrow that says how many it stands for.
    """

    def __init__(self, root: str, rankdir: str, caption: str):
        self.root = root
        self.rankdir = rankdir
        self.caption = caption
        self.nodes: dict[str, dict] = {}
        self.edges: dict[tuple, dict] = {}

    def node(self, key: str, label: str | Callable[[], str], **attrs: str) -> None:
        """Add a node; ``label`` may be a function, called only if the node is drawn."""
        self.nodes[key] = {"label": label, **attrs}

    def edge(self, tail: str, head: str, slot: Any = None, **attrs: str) -> None:
        key = (tail, head, slot)
        attrs = {k: v for k, v in attrs.items() if v is not None}
        if key in self.edges:
            self.edges[key]["count"] += 1
        else:
            self.edges[key] = {"count": 1, **attrs}

    def to_graph(self, max_nodes: int) -> Graph:
        keep = self._nearest_to_root(max_nodes)
        g = Graph(graph_attr={"rankdir": self.rankdir, "label": _dot_text(self.caption),
                              "labelloc": "b", "fontsize": "12"},
                  node_attr={"fontsize": "11"}, edge_attr={"fontsize": "10"})
        g.caption = self.caption
        for key, attrs in self.nodes.items():
            if key in keep:
                g.node(key, **_dot_attrs(attrs))
        cut = self._draw_edges(g, keep)
        g.omitted_nodes = len(self.nodes) - len(keep)
        g.omitted_edges = cut
        if g.omitted_nodes:
            self._draw_note(g, keep, max_nodes)
        return g

    def _draw_edges(self, g: Graph, keep: set) -> int:
        """Draw the edges between kept nodes; return how many were cut."""
        cut = 0
        for (tail, head, _), attrs in self.edges.items():
            if tail in keep and head in keep:
                attrs = dict(attrs)
                count = attrs.pop("count")
                if count > 1:   # merged edges say how many they stand for
                    attrs["label"] = (attrs.get("label", "") + f" ×{count}").strip()
                g.edge(tail, head, **_dot_attrs(attrs))
            else:
                cut += 1
        return cut

    def _draw_note(self, g: Graph, keep: set, max_nodes: int) -> None:
        """A note node standing for everything left out, linked where the graph was cut."""
        g.node("omitted", label=_dot_text(
            f"… {g.omitted_nodes} more nodes and {g.omitted_edges} edges not shown "
            f"(max_nodes={max_nodes}).\nUse collapse=True or a larger max_nodes to see them."),
            shape="note", style="filled", fillcolor=NOTE)
        links = set()
        for tail, head, _ in self.edges:
            if tail in keep and head not in keep:
                links.add((tail, "omitted"))
            elif head in keep and tail not in keep:
                links.add(("omitted", head))
        # A few dashed links show where the cut is; one per boundary node would bury the picture.
        for tail, head in sorted(links)[:NOTE_LINKS]:
            g.edge(tail, head, style="dashed", color="grey")

    def _nearest_to_root(self, limit: int) -> set:
        """The ``limit`` nodes nearest the root (edges taken both ways): the end a learner
        looks at first, since the loss is where backward starts."""
        if len(self.nodes) <= limit:
            return set(self.nodes)
        neighbours: dict[str, list] = {key: [] for key in self.nodes}
        for tail, head, _ in self.edges:
            neighbours[tail].append(head)
            neighbours[head].append(tail)
        order, seen = [self.root], {self.root}
        for key in order:           # breadth-first: the list grows while we walk it
            if len(order) >= limit:
                break
            for nxt in neighbours[key]:
                if nxt not in seen:
                    seen.add(nxt)
                    order.append(nxt)
        return set(order[:limit])


def _dot_attrs(attrs: dict) -> dict:
    """Attributes ready for graphviz: labels escaped (records keep their | { } syntax)."""
    out = {k: v for k, v in attrs.items() if k != "label"}
    if "label" in attrs:
        label = attrs["label"]
        if callable(label):
            label = label()
        out["label"] = label if attrs.get("shape") == "record" else _dot_text(label)
    return out


def _dot_text(text: str) -> str:
    r"""Text for a DOT label: backslashes kept literally, lines split with DOT's \n, and never
    read as an HTML label (graphviz treats "<...>" as HTML)."""
    lines = text.replace("\\", "\\\\").split("\n")
    return graphviz.nohtml("\\n".join(lines))


def _record_field(text: str) -> str:
    """Text inside one field of a record label, where { } | < > and spaces at the ends mean
    something to Graphviz."""
    text = text.replace("\\", "\\\\")
    for ch in "{}|<>\"":
        text = text.replace(ch, "\\" + ch)
    return text


def _record(*fields: str) -> str:
    return graphviz.nohtml("{ " + " | ".join(_record_field(f) for f in fields) + " }")


# ================================================================================ collapsing

@dataclass
class _Units:
    """Which drawn node each graph item belongs to: itself, or a summary of look-alikes."""

    of: dict                     # item -> unit index
    members: list[list]          # unit index -> its items, in graph order
    collapsed: bool = False

    def ids(self) -> Iterator[tuple[int, list]]:
        return enumerate(self.members)


def _units(items: list, parents_of: Callable, kind_of: Callable, collapse: bool) -> _Units:
    if not collapse:
        return _Units({it: i for i, it in enumerate(items)}, [[it] for it in items])
    classes = _similar_classes(items, parents_of, kind_of)
    by_class: dict[int, list] = {}
    for it in items:
        by_class.setdefault(classes[it], []).append(it)
    of, members = {}, []
    for it in items:            # a summary is drawn where its first member would be
        group = by_class[classes[it]]
        if len(group) < COLLAPSE_MIN:
            group = [it]
        elif group[0] is not it:
            continue
        for m in group:
            of[m] = len(members)
        members.append(group)
    return _Units(of, members, collapsed=True)


def _similar_classes(items: list, parents_of: Callable, kind_of: Callable) -> dict:
    """Colour refinement: two items end in one class when they have the same kind and, up to
    COLLAPSE_ROUNDS steps away, the same kinds of inputs and of consumers (counted).

    Looking only a few steps away is deliberate: the neurons of a layer match, and so do the
    links in the middle of a long chain of identical ops, which a full refinement (to a fixed
    point) would tell apart by their distance from the ends.
    """
    children: dict = {it: [] for it in items}
    for it in items:
        for p in parents_of(it):
            children[p].append(it)
    names: dict = {}
    cls = {it: names.setdefault(kind_of(it), len(names)) for it in items}
    for _ in range(COLLAPSE_ROUNDS):
        names = {}
        cls = {it: names.setdefault((cls[it],
                                     tuple(sorted(cls[p] for p in parents_of(it))),
                                     tuple(sorted(cls[c] for c in children[it]))), len(names))
               for it in items}
    return cls


# ================================================================================ Value graphs

class _ValueGrads:
    """The gradients a Value picture shows, and how far backward has got.

    Static pictures show each Value's own ``.grad``; step pictures show a replay's gradients.
    """

    def __init__(self, grads: dict | None = None):
        self.grads = grads
        self.current: Value | None = None
        self.done: set = set()

    def of(self, v: Value) -> float:
        return v.grad if self.grads is None else self.grads[v]


def _value_units(root: Value, collapse: bool) -> _Units:
    def kind(v: Value) -> tuple:
        return ("root",) if v is root else (v.op or "leaf", v.label)

    return _units(topological_order(root), lambda v: v.parents, kind, collapse)


def _value_name(v: Value, names: dict) -> str:
    return v.label or names.get(id(v), "")


def _value_picture(root: Value, kind: str, units: _Units, names: dict,
                   grads: _ValueGrads) -> _Picture:
    """micrograd's draw_dot: records ``label | data | grad``, op nodes, edges for data flow
    (forward) or for gradient flow with local derivatives (backward)."""
    forward = kind == "forward"
    caption = ("forward: data flows left to right; each box is label | data | grad" if forward
               else "backward: gradient flows left to right; each edge carries the local "
                    "derivative, and parent.grad += local × child.grad")
    pic = _Picture(f"u{units.of[root]}", "LR", caption)
    for u, members in units.ids():
        style = _progress_style(members, grads.current, grads.done)
        if members[0] is root:
            style.setdefault("penwidth", "2")
        # Labels are made only for the nodes that get drawn: a 100 000-node graph draws 200.
        pic.node(f"u{u}", partial(_value_record, members, names, grads), shape="record",
                 **style)
        if members[0].op:
            pic.node(f"u{u}op", members[0].op, shape="ellipse", **style)
            if forward:
                pic.edge(f"u{u}op", f"u{u}")
            else:
                pic.edge(f"u{u}", f"u{u}op")
    for v in units.of:
        _value_edges(pic, v, units, forward, grads)
    return pic


def _value_edges(pic: _Picture, v: Value, units: _Units, forward: bool,
                 grads: _ValueGrads) -> None:
    child = f"u{units.of[v]}"
    for slot, (p, local) in enumerate(zip(v.parents, v.local_grads)):
        parent = f"u{units.of[p]}"
        slot = None if units.collapsed else slot
        if forward:
            pic.edge(parent, child + "op", slot)
        elif units.collapsed:
            pic.edge(child + "op", parent, slot)
        elif v is grads.current:    # this step's chain rule, spelled out on the edge
            pic.edge(child + "op", parent, slot, color="red", penwidth="2", label=(
                f"{_num(local)} × {_num(grads.of(v))} = {_num(local * grads.of(v))}"))
        else:
            pic.edge(child + "op", parent, slot, label=f"local {_num(local)}")


def _value_ref(v: Value, names: dict) -> str:
    """How a caption names a Value: its label, else its op and data, e.g. ⟨* -6.0000⟩."""
    return _value_name(v, names) or f"⟨{v.op or 'leaf'} {_num(v.data)}⟩"


def _value_record(members: list[Value], names: dict, grads: _ValueGrads) -> str:
    v = members[0]
    if len(members) == 1:
        return _record(_value_name(v, names), f"data {_num(v.data)}", f"grad {_num(grads.of(v))}")
    what = f"{len(members)} × {v.op or 'leaf'}" + (f" {v.label}" if v.label else "")
    return _record(what, f"data {_span(m.data for m in members)}",
                   f"grad {_span(grads.of(m) for m in members)}")


def _value_steps(root: Value, units: _Units, names: dict, max_nodes: int) -> Iterator[Graph]:
    """Replay Value.backward's loop on a private dict of gradients, one picture per node.

    The same visiting order as the engine (reverse topological order) and the same update,
    ``grads[parent] += local * grads[node]``; the Values' own ``.grad`` are never touched.
    """
    order = topological_order(root)
    state = _ValueGrads({v: 0.0 for v in order})
    state.grads[root] = 1.0
    for i, node in enumerate(reversed(order)):
        for parent, local in zip(node.parents, node.local_grads):
            state.grads[parent] += local * state.grads[node]
        state.current = node
        state.done.add(node)
        pic = _value_picture(root, "backward", units, names, state)
        pic.caption = f"step {i + 1}/{len(order)}: " + _value_step_text(node, names, state)
        yield pic.to_graph(max_nodes)


def _value_step_text(node: Value, names: dict, state: _ValueGrads) -> str:
    who = _value_ref(node, names)
    grad = state.grads[node]
    if not node.parents:
        return f"{who} is a leaf: its gradient {_num(grad)} is final"
    parts = []
    for p, local in list(zip(node.parents, node.local_grads))[:4]:
        parts.append(f"{_value_ref(p, names)}.grad += {_num(local)} × {_num(grad)}")
    more = " …" if len(node.parents) > 4 else ""
    what = f"{who} ({node.op})" if _value_name(node, names) else who
    return f"{what} has grad {_num(grad)}; chain rule: " + "; ".join(parts) + more


# ================================================================================ Tensor graphs

def _graph_nodes(root: Tensor) -> list:
    """Every autograd node reachable from root.grad_fn (or root's AccumulateGrad), breadth first
    along next_functions, so the order — and the DOT source — is the same on every run."""
    start = root.grad_fn
    if start is None and root.requires_grad:    # a leaf: its AccumulateGrad, or a stand-in
        start = root._grad_acc or _Leaf(root)   # if backward has not made it one yet
    if start is None:
        return []
    order, seen = [start], {start}
    for node in order:
        for nxt, _ in node.next_functions:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                order.append(nxt)
    return order


class _Leaf:
    """A leaf root's AccumulateGrad as backward would make it, without adding it to the leaf."""

    next_functions = ()
    _seq = -1
    _n_outputs = 1

    def __init__(self, variable: Tensor):
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"


_LEAVES = (AccumulateGrad, _Leaf)


def _tensor_units(nodes: list, collapse: bool) -> _Units:
    start = nodes[0] if nodes else None

    def kind(node) -> tuple:
        if node is start:
            return ("root",)
        if isinstance(node, _LEAVES):
            return ("leaf", tuple(node.variable.shape), str(node.variable.dtype))
        return (node.name(), _outputs(node))

    return _units(nodes, _inputs, kind, collapse)


def _inputs(node) -> list:
    return [nxt for nxt, _ in node.next_functions if nxt is not None]


def _outputs(node) -> tuple:
    """(shape, dtype) of each output of a backward node (from what it recorded in forward)."""
    return tuple((tuple(m[0]), str(m[1])) if m is not None else None
                 for m in getattr(node, "_outputs_meta", ()))


def _op_name(node) -> str:
    """The forward op behind a backward node: MulBackward0 -> mul, IndexSelectBackward0 ->
    index_select, CopySlices -> copy_slices."""
    name = re.sub(r"Backward\d*$", "", node.name())
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()


def _tensor_forward(root: Tensor, units: _Units, names: dict) -> _Picture:
    """Tensors (boxes) and ops (ellipses), edges in the direction data flows."""
    caption = "forward: tensors (boxes) flow through ops (ellipses) down to the output"
    if root.grad_fn is None:     # a leaf on its own: nothing was computed
        pic = _Picture("leaf", "TB", caption)
        pic.node("leaf", _tensor_text(root, names), shape="box", style="filled", fillcolor=LEAF)
        return pic
    out_id = f"u{units.of[root.grad_fn]}t{root._output_nr}"
    pic = _Picture(out_id, "TB", caption)
    for u, members in units.ids():
        node = members[0]
        if isinstance(node, _LEAVES):
            pic.node(f"u{u}", _leaf_text(members, names), shape="box", style="filled",
                     fillcolor=LEAF)
            continue
        pic.node(f"u{u}", _count(members) + _op_name(node), shape="ellipse")
        for nr, meta in enumerate(_outputs(node)):
            _forward_output(pic, f"u{u}", nr, meta, members, out_id)
    for node in units.of:
        _forward_inputs(pic, node, units)
    return pic


def _forward_output(pic: _Picture, op_id: str, nr: int, meta, members: list, out_id: str):
    key = f"{op_id}t{nr}"
    if meta is None:            # a non-tensor output: nothing to draw
        return
    text = _count(members) + f"{_shape_text(meta[0])} {_dtype_text(meta[1])}"
    if key == out_id:
        pic.node(key, "output\n" + text, shape="box", style="filled,bold", fillcolor=OUTPUT)
    else:
        pic.node(key, text, shape="box")
    pic.edge(op_id, key)


def _forward_inputs(pic: _Picture, node, units: _Units) -> None:
    if isinstance(node, _LEAVES):
        return
    op_id = f"u{units.of[node]}"
    for slot, (nxt, nr) in enumerate(node.next_functions):
        key = None if units.collapsed else slot
        if nxt is None:         # an input that needs no gradient left no node to point at
            src = f"{op_id}in{slot}"
            pic.node(src, "input\n(no grad)", shape="box", style="dashed")
        elif isinstance(nxt, _LEAVES):
            src = f"u{units.of[nxt]}"
        else:
            src = f"u{units.of[nxt]}t{nr}"
        pic.edge(src, op_id, key)


def _tensor_backward(root: Tensor, units: _Units, names: dict, run: _TensorRun) -> _Picture:
    """The grad_fn graph: root -> its grad_fn -> next_functions ... -> AccumulateGrad -> leaf."""
    pic = _Picture("output", "TB", run.caption)
    pic.node("output", "output\n" + _shape_text(root.shape) + " " + _dtype_text(root.dtype),
             shape="box", style="filled,bold", fillcolor=OUTPUT)
    for u, members in units.ids():
        _backward_node(pic, u, members, names, run)
    pic.edge("output", "u0", label=run.seed)     # unit 0 is the root's node
    for node in units.of:
        for slot, (nxt, _) in enumerate(node.next_functions):
            if nxt is not None:
                _backward_edge(pic, node, slot, nxt, units, run)
    return pic


def _backward_node(pic: _Picture, u: int, members: list, names: dict, run: _TensorRun) -> None:
    node = members[0]
    style = _progress_style(members, run.current, run.done)
    lines = [_count(members) + node.name()]
    if len(members) == 1 and node in run.received:
        lines.append("grad " + run.received[node])
    pic.node(f"u{u}", "\n".join(lines), **{"shape": "box", **style})
    if isinstance(node, _LEAVES):
        text = _leaf_text(members, names)
        if len(members) == 1 and node in run.leaf_grads:
            text += "\ngrad " + run.leaf_grads[node]
        pic.node(f"u{u}leaf", text, shape="box", style="filled", fillcolor=LEAF)
        pic.edge(f"u{u}", f"u{u}leaf")


def _backward_edge(pic: _Picture, node, slot: int, nxt, units: _Units, run: _TensorRun) -> None:
    tail, head = f"u{units.of[node]}", f"u{units.of[nxt]}"
    if units.collapsed:
        pic.edge(tail, head)
        return
    sent = run.sent.get(node)
    label = sent[slot] if sent is not None and slot < len(sent) and sent[slot] else None
    if node is run.current and label:
        pic.edge(tail, head, slot, label=label, color="red", penwidth="2")
    elif label:
        pic.edge(tail, head, slot, label=label)
    else:
        pic.edge(tail, head, slot)


def _leaf_text(members: list[AccumulateGrad], names: dict) -> str:
    if len(members) == 1:
        return _tensor_text(members[0].variable, names)
    found = [names[id(m.variable)] for m in members if id(m.variable) in names]
    shown = ", ".join(found[:2]) + (", …" if len(found) > 2 else "")
    t = members[0].variable
    return "\n".join(x for x in (f"{len(members)} × leaf", shown,
                                 f"{_shape_text(t.shape)} {_dtype_text(t.dtype)}") if x)


def _tensor_text(t: Tensor, names: dict) -> str:
    """name, shape dtype, requires_grad: what a learner asks about a leaf."""
    lines = [names[id(t)]] if id(t) in names else []
    lines.append(f"{_shape_text(t.shape)} {_dtype_text(t.dtype)}")
    lines.append(f"requires_grad={t.requires_grad}")
    return "\n".join(lines)


@dataclass
class _TensorRun:
    """What a backward pass did, node by node: the order, and gradients as short texts.

    ``received[node]``: the gradient arriving at node (w.r.t. its output);
    ``sent[node][i]``: the gradient node passed to ``next_functions[i]``;
    ``leaf_grads[acc]``: the leaf's gradient once its AccumulateGrad ran.
    """

    order: list = field(default_factory=list)
    received: dict = field(default_factory=dict)
    sent: dict = field(default_factory=dict)
    leaf_grads: dict = field(default_factory=dict)
    seed: str | None = None
    current: Any = None
    done: set = field(default_factory=set)
    caption: str = ("backward: gradients flow from the output down next_functions to the "
                    "AccumulateGrad nodes, which add them into the leaves' .grad")

    @classmethod
    def static(cls, nodes: list) -> _TensorRun:
        """What a picture outside backward can show: leaves' .grad and retained gradients."""
        run = cls()
        for node in nodes:
            if isinstance(node, _LEAVES) and node.variable._grad is not None:
                run.leaf_grads[node] = _grad_text(node.variable._grad)
            retained = _retained_grad(node)
            if retained is not None:
                run.received[node] = retained + " (retained)"
        return run

    @classmethod
    def replay(cls, root: Tensor, nodes: list, gradient: Tensor | None) -> _TensorRun:
        """The texts of a backward pass computed by `_backward_pass`."""
        (seed,) = _make_grads([root], [gradient])   # backward's own seed and its checks
        run = cls(seed="1" if gradient is None else _grad_text(seed))
        for node, received, sent in _backward_pass(root, nodes, seed):
            run.order.append(node)
            run.received[node] = ", ".join(_grad_text(g) for g in received)
            if isinstance(node, _LEAVES):
                run.leaf_grads[node] = _grad_text(received[0])
            else:
                run.sent[node] = [None if g is None else _grad_text(g) for g in sent]
        return run


def _backward_pass(root: Tensor, nodes: list, seed: Tensor) -> Iterator[tuple]:
    """Backward computed from the graph alone: ``(node, gradients it receives, gradients it
    sends along next_functions)`` for each node a gradient reaches, in the engine's order.

    As _run_backward: newest node first (a topological order; AccumulateGrad last),
    each node's buffer summing what its consumers sent. Each derivative is called directly
    (``apply``, without the hooks ``Node._run`` adds), with recording off, on this pass's own
    buffers: no hook runs, no ``.grad`` or node is written, nothing saved is freed.
    """
    if any(getattr(n, "_freed", False) for n in nodes):
        raise RuntimeError("backward_steps: this graph's saved tensors were already freed by "
                           "backward(); call backward(retain_graph=True), or draw the steps "
                           "before calling backward (or compute the output again)")
    buffers = {nodes[0]: [None] * nodes[0]._n_outputs}
    buffers[nodes[0]][root._output_nr if root.grad_fn is not None else 0] = seed
    for node in sorted(nodes, key=lambda n: n._seq, reverse=True):  # stable: leaves keep BFS order
        received = buffers.pop(node, None)
        if received is None or all(g is None for g in received):
            continue            # no gradient reached it: the engine skips it too
        with no_grad():
            if isinstance(node, _LEAVES):
                sent = []
            elif node.name() == "BackwardHookFunctionBackward":
                sent = received  # nn.Module's full backward hooks: the identity, minus the hooks
            else:
                sent = list(node.apply(*received))
            for (nxt, nr), g in zip(node.next_functions, sent):
                if g is not None and nxt is not None:
                    buf = buffers.setdefault(nxt, [None] * nxt._n_outputs)
                    buf[nr] = g if buf[nr] is None else buf[nr] + g
        yield node, received, sent


def _retained_grad(node) -> str | None:
    for ref in (getattr(node, "_retain", None) or {}).values():
        t = ref()
        if t is not None and t._grad is not None:
            return _grad_text(t._grad)
    return None


def _tensor_steps(root: Tensor, units: _Units, names: dict, run: _TensorRun,
                  max_nodes: int) -> Iterator[Graph]:
    """One picture per node of the computed pass, showing only what was known by then."""
    n, done = len(run.order), set()
    for i, node in enumerate(run.order):
        done.add(node)
        view = _TensorRun(run.order, _known(run.received, done), _known(run.sent, done),
                          _known(run.leaf_grads, done), run.seed, node, done)
        pic = _tensor_backward(root, units, names, view)
        pic.caption = f"step {i + 1}/{n}: " + _tensor_step_text(node, run, names)
        yield pic.to_graph(max_nodes)


def _known(texts: dict, done: set) -> dict:
    """Only what backward had computed by this step."""
    return {k: v for k, v in texts.items() if k in done}


def _tensor_step_text(node, run: _TensorRun, names: dict) -> str:
    got = run.received.get(node, "?")
    if isinstance(node, _LEAVES):
        var = node.variable
        who = names.get(id(var), f"the leaf {_shape_text(var.shape)}")
        return f"AccumulateGrad adds grad {got} into {who}.grad"
    targets = [nxt.name() for nxt, _ in node.next_functions if nxt is not None]
    to = ", ".join(targets) if targets else "no inputs that need gradients"
    return f"{node.name()} receives grad {got} and sends gradients to {to}"


# ================================================================================ shared helpers

def _progress_style(members: list, current: Any, done: set) -> dict:
    """Highlight the node backward is at; shade the ones it already visited."""
    if current is not None and any(m is current for m in members):
        return {"style": "filled", "fillcolor": CURRENT, "penwidth": "2.5"}
    if done and any(m in done for m in members):
        return {"style": "filled", "fillcolor": VISITED}
    return {}


def _count(members: list) -> str:
    return f"{len(members)} × " if len(members) > 1 else ""


def _num(x: float) -> str:
    """A number as micrograd prints it (4 decimals), switching to exponent form when 4
    decimals would hide it."""
    if x == 0 or math.isnan(x) or math.isinf(x) or 1e-3 <= abs(x) < 1e6:
        return f"{x:.4f}"
    return f"{x:.3e}"


def _span(xs: Iterable[float]) -> str:
    xs = list(xs)
    lo, hi = min(xs), max(xs)
    return _num(lo) if lo == hi else f"{_num(lo)} … {_num(hi)}"


def _shape_text(shape) -> str:
    return str(tuple(int(s) for s in shape))


def _dtype_text(dtype) -> str:
    return str(dtype).replace("torch.", "")


def _grad_text(g: Tensor | None) -> str:
    """A gradient's shape, and its values when it is small enough to read."""
    if g is None:
        return "None"
    shape = _shape_text(g.shape)
    if g.numel() > SMALL:
        return shape
    values = g.detach().tolist()
    return f"{shape} = {_nested(values)}"


def _nested(values) -> str:
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v) for v in values) + "]"
    return _num(float(values))


# ================================================================================ files

def _format_for(path: Path, format: str | None) -> str:
    fmt = (format or path.suffix.lstrip(".")).lower()
    if not fmt:
        raise ValueError(f"render: cannot tell the format of {str(path)!r}; give a suffix "
                         f"(.svg, .png, .pdf, .dot) or format=")
    if fmt not in FORMATS + ("dot",):
        raise ValueError(f"render: unsupported format {fmt!r} for {str(path)!r}; expected one "
                         f"of svg, png, pdf, dot")
    if path.suffix and path.suffix.lstrip(".").lower() != fmt:
        raise ValueError(f"render: format={fmt!r} does not match the file name {str(path)!r}; "
                         f"use a .{fmt} suffix or no suffix")
    return fmt


def _pipe(graph: graphviz.Digraph, fmt: str, dot_path: Path) -> bytes:
    """Run `dot`; if it is missing (or fails), keep the DOT source and say what to do."""
    try:
        return graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        _write_atomic(dot_path, graph.source.encode("utf-8"))
        raise RuntimeError(f"Graphviz's `dot` was not found; the DOT source was written to "
                           f"{dot_path}. {INSTALL_HINT}") from None
    except graphviz.CalledProcessError as e:
        _write_atomic(dot_path, graph.source.encode("utf-8"))
        stderr = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else e.stderr
        raise RuntimeError(f"Graphviz's `dot` failed to render {fmt} ({stderr}); the DOT "
                           f"source was written to {dot_path}") from None


def _write_atomic(path: Path, data: bytes) -> None:
    """Never a half-written file: see serialization.atomic_write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: f.write(data))


def _save_folder(graphs: list[Graph], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():    # leftovers of a longer run would look like more steps
        if re.fullmatch(r"step_\d+\.(svg|dot)", old.name):
            old.unlink()
    width = max(3, len(str(len(graphs))))
    for i, g in enumerate(graphs, 1):
        path = folder / f"step_{i:0{width}d}.svg"
        try:
            _write_atomic(path, _pipe(g, "svg", path.with_suffix(".dot")))
        except RuntimeError:
            _write_dot_sources(graphs, folder, width)
            raise RuntimeError(f"Graphviz's `dot` was not found or failed; the DOT sources "
                               f"were written to {folder}. {INSTALL_HINT}") from None
    return folder


def _write_dot_sources(graphs: list[Graph], folder: Path, width: int) -> None:
    for i, g in enumerate(graphs, 1):
        _write_atomic(folder / f"step_{i:0{width}d}.dot", g.source.encode("utf-8"))


def _save_html(graphs: list[Graph], path: Path) -> Path:
    svgs = []
    for i, g in enumerate(graphs, 1):
        try:
            svgs.append(_inline_svg(g.pipe(format="svg", encoding="utf-8")))
        except graphviz.ExecutableNotFound:
            folder = path.with_name(path.stem + "_dot")
            folder.mkdir(parents=True, exist_ok=True)
            _write_dot_sources(graphs, folder, max(3, len(str(len(graphs)))))
            raise RuntimeError(f"Graphviz's `dot` was not found; the DOT sources were written "
                               f"to {folder}. {INSTALL_HINT}") from None
    _write_atomic(path, _html_page(graphs, svgs).encode("utf-8"))
    return path


def _inline_svg(svg: str) -> str:
    """The <svg> element alone: the XML declaration and DOCTYPE (which names an external DTD)
    do not belong inside an HTML page."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Backward, step by step</title>
<style>
  body {{ font-family: sans-serif; margin: 1em; }}
  #bar {{ position: sticky; top: 0; background: white; padding: 0.5em 0; }}
  #caption {{ font-size: 1.1em; }}
  .step svg {{ max-width: 100%; height: auto; }}
</style>
</head>
<body>
<div id="bar">
  <button id="prev" type="button">&larr; previous</button>
  <span id="count"></span>
  <button id="next" type="button">next &rarr;</button>
  <span>(or the &larr; &rarr; keys)</span>
  <p id="caption"></p>
</div>
{steps}
<script>
  const steps = document.querySelectorAll(".step");
  let at = 0;
  function show(i) {{
    at = Math.max(0, Math.min(steps.length - 1, i));
    steps.forEach((s, k) => {{ s.hidden = k !== at; }});
    document.getElementById("count").textContent = "step " + (at + 1) + " / " + steps.length;
    document.getElementById("caption").textContent = steps[at].dataset.caption;
  }}
  document.getElementById("prev").onclick = () => show(at - 1);
  document.getElementById("next").onclick = () => show(at + 1);
  document.addEventListener("keydown", (e) => {{
    if (e.key === "ArrowLeft") show(at - 1);
    if (e.key === "ArrowRight") show(at + 1);
  }});
  show(0);
</script>
</body>
</html>
"""


def _html_page(graphs: list[Graph], svgs: list[str]) -> str:
    steps = "\n".join(
        f'<div class="step" id="step-{i}" data-caption="{html.escape(g.caption)}">\n{svg}\n</div>'
        for i, (g, svg) in enumerate(zip(graphs, svgs), 1))
    return _PAGE.format(steps=steps)


# ================================================================================ expressions

FUNCTIONS = ("exp", "log", "tanh", "sigmoid", "relu", "sqrt", "abs")
LABEL_CHARS = 16          # longer sub-expressions stay unlabelled: the op node says what they are
_BINARY = {ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__", ast.Div: "__truediv__",
           ast.Pow: "__pow__"}


def parse_bindings(specs: Iterable[str]) -> dict[str, float]:
    """``["x=2,y=3"]`` -> ``{"x": 2.0, "y": 3.0}`` (what ``--at`` takes)."""
    out: dict[str, float] = {}
    for spec in specs:
        for item in filter(None, (s.strip() for s in spec.split(","))):
            name, sep, number = (s.strip() for s in item.partition("="))
            if not sep or not name.isidentifier() or name in FUNCTIONS:
                raise ValueError(f"--at: expected name=number (e.g. x=2), got {item!r}")
            try:
                out[name] = float(number)
            except ValueError:
                raise ValueError(f"--at: {name} must be a number, got {number!r}") from None
    return out


def value_from_expression(expr: str, variables: Mapping[str, float]) -> Value:
    """Build the Value graph of a scalar expression such as ``"x**2 + y**3"``.

    Safe by construction: the text is parsed with `ast` and only numbers, the given names,
    + - * / ** (and unary + -), and calls of exp, log, tanh, sigmoid, relu, sqrt, abs are
    evaluated; anything else is a ValueError. Each variable becomes a leaf Value labelled with
    its name. Math errors (log of a negative, ...) raise as the Value ops raise them.
    """
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as e:
        raise ValueError(f"cannot parse expression {expr!r}: {e.msg}") from None
    except (RecursionError, MemoryError):
        raise ValueError(f"expression is too deeply nested: {expr[:40]!r}…") from None
    leaves = {name: Value(x, label=name) for name, x in variables.items()}
    out = _evaluate(tree.body, leaves)
    return out if isinstance(out, Value) else Value(out)


def _evaluate(node: ast.AST, leaves: dict[str, Value]) -> Value | float:
    """Evaluate one whitelisted node; a computed Value is labelled with its source text
    ("x ** 2") when that is short enough to read in a picture."""
    out = _evaluate_node(node, leaves)
    if isinstance(out, Value) and not out.label:
        text = ast.unparse(node)
        if len(text) <= LABEL_CHARS:
            out.label = text
    return out


def _evaluate_node(node: ast.AST, leaves: dict[str, Value]) -> Value | float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in leaves:
            bound = ", ".join(sorted(leaves)) or "none"
            raise ValueError(f"unknown name {node.id!r} (names bound by --at: {bound})")
        return leaves[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left, leaves), _evaluate(node.right, leaves)
        if not isinstance(left, Value) and not isinstance(right, Value):
            return _numbers(node.op, left, right)
        left = _constant(left, node.left)
        if not isinstance(node.op, ast.Pow):    # x ** 2 keeps 2 a number, as Python code would
            right = _constant(right, node.right)
        return getattr(left, _BINARY[type(node.op)])(right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        x = _evaluate(node.operand, leaves)
        return -x if isinstance(node.op, ast.USub) else x
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS and len(node.args) == 1 and not node.keywords):
        x = _evaluate(node.args[0], leaves)
        return getattr(_constant(x, node.args[0]), node.func.id)()
    raise ValueError(f"not allowed in an expression: {ast.unparse(node)!r} (allowed: numbers, "
                     f"names given with --at, + - * / **, and {', '.join(FUNCTIONS)} of one "
                     "argument)")


def _constant(x: Value | float, node: ast.AST) -> Value:
    """A number met beside a Value becomes a leaf labelled with how it was written ("2")."""
    if isinstance(x, Value):
        return x
    text = ast.unparse(node)
    return Value(x, label=text if len(text) <= LABEL_CHARS else "")


def _numbers(op: ast.operator, a: float, b: float) -> float:
    """A constant sub-expression such as 2**3, folded with Value's own checks and messages."""
    return getattr(Value(a), _BINARY[type(op)])(b).data
