"""Bad input: a specific exception whose message names what was given and what was expected,
raised in Python before any compiled kernel could read or write out of bounds."""
import pytest

import tinygrad_edu as tg


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                                           r"\(64x784 and 100x10\)"):
        tg.zeros(64, 784) @ tg.zeros(100, 10)
    with pytest.raises(RuntimeError, match="both arguments to matmul need to be at least 1D"):
        tg.tensor(1.0) @ tg.ones(2)
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype"):
        tg.ones(2, 2) @ tg.ones(2, 2, dtype=tg.float64)
    with pytest.raises(RuntimeError, match="batch1 must be a 3D tensor"):
        tg.bmm(tg.ones(2, 2), tg.ones(2, 2))


def test_broadcast_mismatch():
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of "
                                           r"tensor b \(4\) at non-singleton dimension 1"):
        tg.ones(2, 3) + tg.ones(2, 4)
    x = tg.ones(3)
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast "
                                           r"shape \[2, 3\]"):
        x += tg.ones(2, 3)


def test_cat_stack_mismatch():
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 0. "
                                           "Expected size 3 but got size 4 for tensor number 1"):
        tg.cat([tg.ones(2, 3), tg.ones(2, 4)])
    with pytest.raises(RuntimeError, match="Tensors must have same number of dimensions: got 2 "
                                           "and 1"):
        tg.cat([tg.ones(2, 3), tg.ones(3)])
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got "
                                           r"\[2\] at entry 0 and \[3\] at entry 1"):
        tg.stack([tg.ones(2), tg.ones(3)])
    with pytest.raises(RuntimeError, match="expected a non-empty list"):
        tg.cat([])


def test_view_of_non_contiguous_and_bad_shapes():
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        tg.ones(2, 3).t().view(6)
    with pytest.raises(RuntimeError, match=r"shape '\[5\]' is invalid for input of size 6"):
        tg.ones(2, 3).reshape(5)
    with pytest.raises(RuntimeError, match="number of dimensions in the tensor input does not "
                                           "match the length of the desired ordering"):
        tg.ones(2, 3).permute(0, 1, 2)
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions, but "
                                           "self is 3D"):
        tg.ones(1, 2, 3).t()


def test_out_of_range_indices_never_reach_a_kernel():
    x = tg.arange(6.0).view(2, 3)
    with pytest.raises(IndexError, match="index 2 is out of bounds for dimension 0 with size 2"):
        x[2]
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 1 with size 3"):
        x[:, 5]
    with pytest.raises(IndexError, match="index 7 is out of bounds for dimension 0 with size 2"):
        x[tg.tensor([0, 7])]
    with pytest.raises(IndexError, match="index -3 is out of bounds"):
        x[tg.tensor([-3])]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        x[0, 0, 0]
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        x[::0]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    with pytest.raises(IndexError, match="The shape of the mask"):
        x[tg.tensor([True, False, True])]
    with pytest.raises(RuntimeError, match=r"gather\(\): index 3 is out of bounds for "
                                           r"dimension 1 with size 3"):
        x.gather(1, tg.tensor([[0, 3], [1, 1]]))
    with pytest.raises(IndexError, match="index_select\\(\\): index 2 is out of bounds for "
                                         "dimension 0"):
        x.index_select(0, tg.tensor([0, 2]))
    with pytest.raises(RuntimeError, match="scatter\\(\\): index -1 is out of bounds for "
                                           "dimension 1"):
        x.scatter(1, tg.tensor([[-1]]), 1.0)
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 0 with size 2"):
        x[tg.tensor([4])] = 1.0
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.sum(2)
    with pytest.raises(RuntimeError, match="start \\(2\\) \\+ length \\(2\\) exceeds dimension "
                                           "size \\(3\\)"):
        x.narrow(1, 2, 2)


def test_wrong_dtypes():
    i = tg.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype. Input dtype "
                                           "must be either a floating point"):
        i.mean()
    with pytest.raises(RuntimeError, match="var\\(\\): input dtype must be a floating point"):
        i.var()
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require "
                                           "gradients"):
        i.requires_grad_()
    with pytest.raises(IndexError, match="tensors used as indices must be long"):
        tg.ones(3)[tg.tensor([0.0, 1.0])]
    with pytest.raises(RuntimeError, match="Expected dtype int32/int64 for index"):
        tg.ones(3).gather(0, tg.tensor([0], dtype=tg.int16))
    assert tg.ones(3).gather(0, tg.tensor([0], dtype=tg.int32)).tolist() == [1.0]  # as PyTorch
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output "
                                           "type Long"):
        i.add_(1.5)
    with pytest.raises(RuntimeError, match="where expected condition to be a boolean tensor"):
        tg.where(i, i, i)
    with pytest.raises(ZeroDivisionError, match="integer division by zero"):
        i // 0
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):   # PyTorch's type, too
        i // 0
    with pytest.raises(ZeroDivisionError, match="integer division by zero"):
        i % tg.tensor([1, 0, 1])
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        i ** -1
    with pytest.raises(TypeError, match="unsupported dtype"):
        tg.zeros(2, dtype="complex64")


def test_bad_operands():
    with pytest.raises(TypeError):
        tg.ones(2) + "a"
    with pytest.raises(TypeError, match="expected a Tensor or a number, got list"):
        tg.add(tg.ones(2), [1, 2])
    with pytest.raises(TypeError, match="argument 'input' must be Tensor"):
        tg.exp([1.0])


def test_devices_are_named_clearly():
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda device type at start of "
                                           "device string: tpu"):
        tg.ones(2, device="tpu")
    assert tg.device("cuda:1").index == 1 and str(tg.device("cpu")) == "cpu"
    assert repr(tg.ones(1).device) == "device(type='cpu')"


@pytest.mark.skipif(not tg.cuda.is_available(), reason="needs CUDA or its simulator")
def test_a_cuda_device_that_does_not_exist_is_an_invalid_ordinal():
    n = tg.cuda.device_count()
    with pytest.raises(RuntimeError, match=f"invalid device ordinal: cuda:{n} was asked for, "
                                           f"but there (is|are) {n} CUDA device"):
        tg.ones(2, device=f"cuda:{n}")
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        tg.ones(2).to(f"cuda:{n + 2}")
    assert tg.ones(2, device="cuda:0").device == tg.device("cuda", 0)
