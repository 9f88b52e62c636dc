"""The package root is lazy: the scalar engine stands alone; the torch namespace loads on use.

Each check runs in a fresh interpreter, since this test process has long imported everything.
"""
import subprocess
import sys
import textwrap


def run_python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_scalar_engine_imports_no_numpy_numba_or_tensor_module():
    out = run_python("""
        import sys
        import tinygrad_edu.scalar
        from tinygrad_edu.scalar import Value

        a, b = Value(2.0), Value(-3.0)
        c = (a * b + a ** 2).tanh() + b.exp()
        c.backward()
        assert a.grad != 0.0 and b.grad != 0.0, (a.grad, b.grad)

        heavy = ["numpy", "numba", "tinygrad_edu.vector", "tinygrad_edu.ops",
                 "tinygrad_edu._namespace", "tinygrad_edu.viz", "graphviz"]
        print(sorted(name for name in heavy if name in sys.modules))
    """)
    assert out.strip() == "[]"


def test_the_torch_namespace_loads_on_first_use_and_is_cached():
    out = run_python("""
        import sys
        import tinygrad_edu as torch
        assert "numpy" not in sys.modules and "tinygrad_edu.vector" not in sys.modules

        s = torch.tensor([1., 2.]).sum()
        assert s.item() == 3.0 and isinstance(s, torch.Tensor)
        assert "tensor" in vars(torch) and "float32" in vars(torch)  # cached as globals
        assert torch.float32 is torch.float and torch.__version__

        from tinygrad_edu import Tensor, nn, optim
        assert Tensor is torch.Tensor and nn is torch.nn and optim is torch.optim
        assert torch.nn.functional.relu(torch.tensor([-1., 1.])).tolist() == [0., 1.]
        with torch.no_grad():
            assert not (torch.ones(2, requires_grad=True) * 2).requires_grad

        names = dir(torch)
        assert "tensor" in names and "nn" in names and "optim" in names, names

        try:
            torch.xyz
        except AttributeError as exc:
            print(exc)
        else:
            raise AssertionError("torch.xyz did not raise")
    """)
    assert "module 'tinygrad_edu' has no attribute 'xyz'" in out


def test_dir_lists_the_namespace_and_subpackages_before_first_use():
    out = run_python("""
        import tinygrad_edu as torch
        names = dir(torch)
        print(all(n in names for n in ["tensor", "Tensor", "float32", "no_grad", "exp", "nn",
                                       "optim", "utils", "autograd", "save", "FloatTensor"]))
    """)
    assert out.strip() == "True"


def test_star_import_gives_the_namespace():
    out = run_python("""
        from tinygrad_edu import *
        print(tensor([1., 2.]).sum().item(), float32, callable(exp))
    """)
    assert out.split() == ["3.0", "torch.float32", "True"]
