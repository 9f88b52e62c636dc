"""The engine: `backward()` and `autograd.grad()` walk the graph from the output to the leaves.

Nodes are numbered as they are made, and an op's inputs exist before the op, so running the
reachable nodes from the newest down runs each one after all of its consumers have added
their gradient to its input buffer: a topological order, found without recursion (a 100 000-op
chain works).
"""
from __future__ import annotations

import operator
from typing import Sequence

from tinygrad_edu.autograd.grad_mode import _grad_enabled
from tinygrad_edu.autograd.graph import AccumulateGrad, Node, _all_none, _edge
from tinygrad_edu.vector import Tensor, _new, tensor, zeros_like


def _run_backward(roots: Sequence[tuple], grads: Sequence["Tensor"], retain_graph: bool,
                  create_graph: bool, capture: dict | None = None,
                  accumulate_into: set | None = None) -> dict:
    """Propagate `grads` from the root edges to the leaves.

    Each node gets a sequence number when it is created, and an op's inputs always exist
    before the op, so every edge leads from a higher number to a lower one. Running the nodes
    reachable from the roots from the highest number down therefore runs each node after all
    of its consumers have added their contribution to its input buffer (so a reused tensor gets
    the *sum* of its gradients): a topological order for free. (PyTorch's engine, which runs
    nodes on several threads, counts each node's pending consumers instead; among the nodes
    that are ready it too runs the newest first, so the order is the same.)

    `capture` maps edges (node, output_nr) to a key: the gradient arriving there is returned
    instead of accumulated (autograd.grad). `accumulate_into`, if given, limits which leaves'
    AccumulateGrad nodes run (backward(inputs=...)).
    """
    buffers: dict[Node, list] = {}
    for (node, nr), g in zip(roots, grads):
        _accumulate(buffers, node, nr, g)
    captured: dict = {}
    skip_leaves = capture is not None or accumulate_into is not None
    prev = _grad_enabled[0]
    _grad_enabled[0] = create_graph
    try:
        for node in _reachable_newest_first(buffers):
            incoming = buffers.pop(node, None)
            if incoming is None:  # no consumer passed a gradient this way
                if not retain_graph:
                    node._release()
                continue
            if capture:
                _capture(capture, captured, node, incoming)
            if skip_leaves and type(node) is AccumulateGrad and (
                    capture is not None or node.variable not in accumulate_into):
                grad_inputs = ()
            elif _all_none(incoming):
                grad_inputs = ()
            else:
                grad_inputs = node._run(incoming)
            for (nxt, nr), g in zip(node.next_functions, grad_inputs):
                if g is None or nxt is None:
                    continue
                buf = buffers.get(nxt)
                if buf is None:
                    buf = buffers[nxt] = [None] * nxt._n_outputs
                buf[nr] = g if buf[nr] is None else buf[nr] + g
            # Drop our references to the gradients we passed on, so that AccumulateGrad can see
            # when it is the only holder of one and keep it without a copy (_can_steal).
            grad_inputs = g = incoming = None
            if not retain_graph:
                node._release()
    finally:
        _grad_enabled[0] = prev
    return captured


def _reachable_newest_first(roots) -> list:
    """Every node reachable from `roots` through next_functions, by decreasing sequence number
    (leaves' AccumulateGrad nodes, numbered -1, come last)."""
    seen = set(roots)
    stack = list(seen)
    while stack:
        for nxt, _ in stack.pop().next_functions:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return sorted(seen, key=_sequence_number, reverse=True)


_sequence_number = operator.attrgetter("_seq")


def _capture(capture: dict, captured: dict, node: Node, incoming: list) -> None:
    """Keep the gradients arriving at the edges autograd.grad asked for."""
    for nr, g in enumerate(incoming):
        key = capture.get((node, nr))
        if key is not None:
            captured[key] = g if key not in captured or g is None else captured[key] + g


def _accumulate(buffers: dict, node: Node, nr: int, g) -> None:
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = [None] * node._n_outputs
    if g is None:
        return
    buf[nr] = g if buf[nr] is None else buf[nr] + g


def _zero_grads(params, set_to_none: bool) -> None:
    """Forget the gradients of `params` (what Module.zero_grad and Optimizer.zero_grad do):
    `p.grad = None`, or, with set_to_none=False, fill the gradient with zeros, first cutting it
    from any graph that made it (create_graph) so the zeros are a plain tensor."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
            continue
        if p.grad.grad_fn is not None:
            p.grad.detach_()
        else:
            p.grad.requires_grad_(False)
        p.grad.zero_()


def _make_grads(outputs: Sequence["Tensor"], grad_outputs: Sequence) -> list:
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a "
                               "grad_fn")
        if g is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = _new(out._shape, out._storage.dtype, out._storage.device)
            g._storage._kernels.fill(g._arr, 1)
        elif not isinstance(g, Tensor):
            g = tensor(g, dtype=out.dtype, device=out.device)
        elif g._shape != out._shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and "
                               f"output[{i}] has a shape of {out.shape}.")
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs=None) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's `.grad` (torch.autograd.backward)."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    grads = _make_grads(tensors, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    only = None
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        only = set(inputs)
    roots = [_edge(t) for t in tensors]
    _run_backward(roots, grads, retain_graph, create_graph, accumulate_into=only)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool | None = None,
         materialize_grads: bool = False) -> tuple:
    """d(outputs)/d(inputs), returned rather than accumulated into `.grad` (torch.autograd.grad)."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require "
                               "grad")
    grads = _make_grads(outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    capture = {_edge(x): i for i, x in enumerate(inputs)}
    captured = _run_backward([_edge(t) for t in outputs], grads, retain_graph, create_graph,
                             capture=capture)
    result = []
    for i, x in enumerate(inputs):
        g = captured.get(i)
        if g is None:
            if materialize_grads:
                g = zeros_like(x)
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
        result.append(g)
    return tuple(result)
