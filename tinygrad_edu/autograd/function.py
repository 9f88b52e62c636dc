"""`Function`: a differentiable op as a forward and a backward (book ch. 5, seed 003 §8.3), and
how applying one records a node.

Applying a Function to tensors that require gradients makes a node (its class is the
Function's `<Name>Backward`, which is also the `ctx` that forward and backward share), links it
to the inputs' nodes and makes it the outputs' `grad_fn`. Function's docstring shows one.
"""
from __future__ import annotations

from tinygrad_edu.autograd.grad_mode import _grad_enabled
from tinygrad_edu.autograd.graph import BackwardNode, Node, _edge, _link_output, _sequence
from tinygrad_edu.vector import Tensor


class Function:
    """Base class of differentiable operations; subclass it to make your own.

        class Exp(Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, grad):          # d exp(x)/dx = exp(x)
                y, = ctx.saved_tensors
                return grad * y

        y = Exp.apply(x)

    `forward` runs with gradient recording off and returns a tensor or a tuple of tensors;
    `backward` receives one gradient per output and returns one per forward argument (None for
    arguments that are not differentiable tensors).
    """

    backward_name: str | None = None  # the node's class name; default "<Name>Backward"
    _backward_cls: type = BackwardNode

    _idle_ctx = None
    _uses_setup_context = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("backward_name") or cls.__name__ + "Backward"
        cls._backward_cls = type(name, (BackwardNode,), {"_forward_cls": cls, "__slots__": ()})
        cls._uses_setup_context = cls.setup_context is not Function.setup_context
        builtin = cls.__module__.startswith("tinygrad_edu.")
        cls._idle_ctx = cls._backward_cls() if builtin else None

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("this Function has no backward: it is not differentiable")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Optional: save for backward here instead of in forward(ctx, ...)."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        """Run forward and, if any input requires grad, record a node for backward."""
        if _grad_enabled[0]:
            for a in args:
                if isinstance(a, Tensor) and a.requires_grad:
                    return _apply_recording(cls, args)
        # Nothing to record: our own ops reuse one idle ctx per class (its attributes are never
        # read again); a user's Function gets a fresh one, as its forward may expect.
        ctx = cls._idle_ctx if cls._idle_ctx is not None else cls._backward_cls()
        ctx.needs_input_grad = _NO_GRADS
        return _run_forward(cls, ctx, args)


_NO_GRADS = (False,) * 64


def _apply_recording(cls, args: tuple):
    """Function.apply when some input requires grad: link the node to the inputs' nodes, run
    forward, then make the node the outputs' grad_fn."""
    needs, slots, metas, edges = [], [], [], []
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            slots.append(i)
            if a.requires_grad:
                needs.append(True)
                edges.append(_edge(a))
                metas.append((a._shape, a._storage.dtype, a._storage.device))
                continue
            edges.append((None, 0))
            metas.append(None)
        needs.append(False)
    # Every field set here, once (BackwardNode.__init__ would set most of them twice).
    node = object.__new__(cls._backward_cls)
    node._seq = next(_sequence)
    node._tracking = True
    node._saved = node._saved_versions = node._outputs_meta = ()
    node.needs_input_grad = tuple(needs)
    node._n_args = len(args)
    node._input_slots = tuple(slots)
    node._inputs_meta = tuple(metas)
    node.next_functions = tuple(edges)
    return _record(node, args, _run_forward(cls, node, args))


def _apply_recording_binary(cls, a, b, a_needs: bool, b_needs: bool):
    """_apply_recording for a two-operand op whose forward only runs kernels (BinaryFunction),
    spelled out without loops over the arguments: it is the recorded op of every training step.
    `a_needs`/`b_needs`: whether that operand is a tensor that requires grad."""
    node = object.__new__(cls._backward_cls)
    node._seq = next(_sequence)
    node._tracking = True
    node._n_args = 2
    node.needs_input_grad = (a_needs, b_needs)
    edge_a = _edge(a) if a_needs else (None, 0)
    edge_b = _edge(b) if b_needs else (None, 0)
    meta_a = (a._shape, a._storage.dtype, a._storage.device) if a_needs else None
    meta_b = (b._shape, b._storage.dtype, b._storage.device) if b_needs else None
    if not isinstance(b, Tensor):      # x * 2: only a is an input tensor
        node._input_slots, node._inputs_meta, node.next_functions = (0,), (meta_a,), (edge_a,)
    elif not isinstance(a, Tensor):    # 1 - x
        node._input_slots, node._inputs_meta, node.next_functions = (1,), (meta_b,), (edge_b,)
    else:
        node._input_slots, node._inputs_meta = (0, 1), (meta_a, meta_b)
        node.next_functions = (edge_a, edge_b)
    return _record_fresh_output(node, cls.forward(node, a, b))  # never one of a, b


def _run_forward(cls, ctx, args: tuple):
    """cls.forward with recording switched off (a forward is one op, not a graph of ops)."""
    prev = _grad_enabled[0]
    _grad_enabled[0] = False
    try:
        if cls._uses_setup_context:
            output = cls.forward(*args)
            cls.setup_context(ctx, args, output)
        else:
            output = cls.forward(ctx, *args)
    finally:
        _grad_enabled[0] = prev
    return output


def _record(node: BackwardNode, args: tuple, output):
    """Make `node` the grad_fn of the Function's outputs."""
    if isinstance(output, Tensor) and not node._dirty and not node._non_differentiable \
            and not _is_one_of(output, args):
        return _record_fresh_output(node, output)  # the common case
    outputs = output if isinstance(output, tuple) else (output,)
    new_outputs, meta = [], []
    for nr, out in enumerate(outputs):
        if isinstance(out, Tensor):
            out = _output_of(node, args, out, nr)
            meta.append((out._shape, out._storage.dtype, out._storage.device))
        else:
            meta.append(None)
        new_outputs.append(out)
    node._outputs_meta = tuple(meta)
    if node._saved:
        _unlink_saved_outputs(node, new_outputs)
    return tuple(new_outputs) if isinstance(output, tuple) else new_outputs[0]


def _record_fresh_output(node: BackwardNode, output: "Tensor") -> "Tensor":
    """_record for one new output tensor (not an input, not in-place): link it to the node."""
    _link_output(node, output, 0)
    node._outputs_meta = ((output._shape, output._storage.dtype, output._storage.device),)
    if _is_one_of(output, node._saved):   # y = exp(x) saves y
        _unlink_saved_outputs(node, (output,))
    return output


def _unlink_saved_outputs(node: BackwardNode, outputs) -> None:
    """Keep no reference cycle between a node and the outputs it saved (y = exp(x) saves y).

    The output's grad_fn is the node; if the node also held the output, the two would keep each
    other alive after the user dropped the output, until Python's cycle collector ran: a forward
    pass without backward (an evaluation outside no_grad) would pile up its activations. So the
    node keeps an alias of such an output instead: the same storage and version counter (so an
    in-place change is still caught) but no grad_fn. PyTorch saves outputs without the link too.
    """
    saved = list(node._saved)
    nrs = {}
    for i, t in enumerate(saved):
        for nr, out in enumerate(outputs):
            if t is not None and t is out and out.grad_fn is node:
                saved[i] = out._alias()
                nrs[i] = nr
    if nrs:
        node._saved = tuple(saved)
        node._saved_output_nrs = nrs


def _saved_output_moved(node: "Node | None", target: "Tensor") -> None:
    """An in-place op computed its result out of place and wrote it into `target`: if the
    result's node saved that result (y = exp(x) saves y), what it saved is now `target` at its
    new version, so a later in-place change of `target` is caught as PyTorch catches it."""
    nrs = getattr(node, "_saved_output_nrs", None)
    if not nrs:
        return
    saved, versions = list(node._saved), list(node._saved_versions)
    for i in nrs:
        saved[i] = target._alias()
        versions[i] = target._version[0]
    node._saved, node._saved_versions = tuple(saved), tuple(versions)


def _is_one_of(t: "Tensor", tensors) -> bool:
    for x in tensors:
        if x is t:
            return True
    return False


def _output_of(node: BackwardNode, args: tuple, out: "Tensor", nr: int) -> "Tensor":
    """Make `out` output number `nr` of `node`, handling in-place (dirty) and pass-through
    outputs and outputs declared non-differentiable."""
    dirty = _is_one_of(out, node._dirty)
    if dirty:
        if out.grad_fn is None and out._requires_grad and out._base is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        out._version[0] += 1
    elif _is_one_of(out, args):
        out = out._alias()  # an input returned unchanged becomes a new tensor of the graph
    if out._storage.dtype.is_floating_point and not _is_one_of(out, node._non_differentiable):
        _link_output(node, out, nr)
    return out


FunctionCtx = BackwardNode  # the type of a Function's ctx (torch.autograd.function.FunctionCtx)
