"""`torch.autograd`: how gradients flow, under PyTorch's names.

One module per part, each built on those before it:

    grad_mode.py   no_grad, enable_grad, set_grad_enabled: whether ops record the graph
    graph.py       the backward graph's nodes (grad_fn, next_functions), AccumulateGrad, hooks
    function.py    Function (forward + backward) and how applying one records a node
    engine.py      backward() and grad(): the walk from the output to the leaves
    views.py       PyTorch's view + in-place rule: a view's history follows its base (CopySlices)
    methods.py     the Tensor methods over its history: grad_fn, backward, register_hook, ...

Importing this package attaches those methods to Tensor (vector.py holds only the fields).
"""
from tinygrad_edu.autograd import methods as _methods
from tinygrad_edu.autograd.engine import backward, grad
from tinygrad_edu.autograd.function import Function, FunctionCtx  # noqa: F401 (the ctx type)
from tinygrad_edu.autograd.grad_mode import (enable_grad, inference_mode,  # noqa: F401 (public)
                                             is_grad_enabled, no_grad, set_grad_enabled)
from tinygrad_edu.vector import Tensor, zeros_like

_methods.attach_methods(Tensor)


class _VariableType(type):
    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableType):
    """PyTorch's wrapper from before tensors had autograd (0.4), kept by old code:
    `Variable(t, requires_grad=True)` is now a tensor sharing t's memory, and every tensor is a
    Variable."""

    def __new__(cls, data, requires_grad: bool = False, volatile: bool = False):
        return data.detach().requires_grad_(requires_grad)


class GradcheckError(RuntimeError):
    """Backward's gradient and the numerical one disagree."""


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """Check backward against central differences, element by element.

    For every input x that requires grad and every element x_i, the numerical derivative
        (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)
    of every output element is compared with the row of the Jacobian that backward computes
    (one backward per output element). Use float64 inputs: float32 is too coarse for eps=1e-6.
    """
    import numpy as np
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    wrt = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for x in wrt:
        if x.dtype.name != "float64":
            import warnings
            warnings.warn(f"gradcheck: input of dtype {x.dtype} is not float64; the check may "
                          "fail only because of rounding", UserWarning, stacklevel=2)

    def outputs():
        out = fn(*inputs)
        return [out] if isinstance(out, Tensor) else [o for o in out if isinstance(o, Tensor)]

    outs = outputs()
    # All analytic Jacobians first: the numerical pass below perturbs the inputs in place, which
    # (rightly) invalidates the recorded graph.
    analytic = {}
    for k, out in enumerate(outs):
        for xi, x in enumerate(wrt):
            jac = np.zeros((x.numel(), out.numel()))
            for j in range(out.numel()):  # one backward per output element: a Jacobian column
                seed = zeros_like(out)
                seed.view(-1)[j] = 1.0
                g = grad([out], [x], [seed], retain_graph=True, allow_unused=True)[0]
                if g is not None:
                    jac[:, j] = g.detach().reshape(-1).tolist()
            analytic[k, xi] = jac
    for (k, xi), jac in analytic.items():
        x = wrt[xi]
        numeric = np.zeros_like(jac)
        flat = x.detach().view(-1)
        for i in range(x.numel()):
            orig = flat[i].item()
            with no_grad():
                flat[i] = orig + eps
                plus = np.array(outputs()[k].detach().reshape(-1).tolist(), dtype=float)
                flat[i] = orig - eps
                minus = np.array(outputs()[k].detach().reshape(-1).tolist(), dtype=float)
                flat[i] = orig
            numeric[i] = (plus - minus) / (2 * eps)
        if not np.allclose(jac, numeric, rtol=rtol, atol=atol):
            worst = np.unravel_index(np.argmax(np.abs(jac - numeric)), jac.shape)
            msg = (f"Jacobian mismatch for output {k} with respect to an input of shape "
                   f"{list(x.shape)}: at (input element {worst[0]}, output element {worst[1]}) "
                   f"numerical {numeric[worst]:.6g} vs analytical {jac[worst]:.6g}")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


__all__ = ["Function", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
           "inference_mode", "gradcheck", "function"]
