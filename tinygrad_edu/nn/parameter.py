"""`Parameter`: a tensor that a Module treats as one of its learnable weights."""
from __future__ import annotations

import tinygrad_edu as tg
from tinygrad_edu import vector
from tinygrad_edu.vector import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad (by default) and that a `Module` registers as a parameter
    when assigned as an attribute: `self.weight = Parameter(torch.randn(3, 2))`.

    It shares `data`'s storage (no copy) and is always a leaf of the graph: ops on it return plain
    tensors with a `grad_fn`, and its `.grad` is where backward accumulates the gradient.
    """

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            data = tg.empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, not {type(data).__name__}")
        # A view of data's elements with no history: Parameter(x * 2) is a new leaf. The version
        # counter is shared, as with detach(): an in-place change through either is seen by both.
        vector._init_from(self, data._storage, data._offset, data._shape, data._strides,
                          data._arr)
        self._version = data._version
        self.requires_grad_(requires_grad)

    @classmethod
    def _from_tensor(cls, tensor: Tensor, original: "Parameter") -> "Parameter":
        """A Parameter over `tensor`'s storage, like `original` (used by Tensor.__deepcopy__)."""
        p = cls(tensor, original.requires_grad)
        p._grad = tensor._grad
        return p

    def __deepcopy__(self, memo):
        # As PyTorch: a copy of the values with the same requires_grad; the gradient stays behind.
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.data, self.requires_grad))

    def __repr__(self) -> str:
        from tinygrad_edu.printing import tensor_repr
        return tensor_repr(self, prefix="Parameter containing:\n")


def _rebuild_parameter(data: Tensor, requires_grad: bool) -> Parameter:
    return Parameter(data, requires_grad)
