"""`tinygrad-edu run`: torch imports resolve to tinygrad_edu, others fail clearly, exit codes pass."""
import subprocess
import sys
import textwrap

import pytest

import tinygrad_edu
from tinygrad_edu import cli, runner


def write(tmp_path, body: str, name="script.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tinygrad_edu", "run", *args],
                          capture_output=True, text=True, timeout=300, cwd=cwd)


def test_torch_names_resolve_to_our_modules(tmp_path, capsys):
    script = write(tmp_path, """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.nn.init as init
        import torch.optim as optim
        from torch.optim.lr_scheduler import StepLR
        import torch.utils.data
        from torch.utils.data import DataLoader
        import torch.autograd
        import torch.backends
        assert torch.backends.mps.is_available() is False
        print(torch.__name__, nn.__name__, F.__name__, init.__name__, optim.__name__)
        print(StepLR.__module__, DataLoader.__module__, torch.utils.data.__name__,
              torch.autograd.__name__)
        print(torch.ones(2).tolist())
    """)
    assert runner.run_script(str(script)) == 0
    out = capsys.readouterr().out.split()
    assert out[:9] == ["tinygrad_edu", "tinygrad_edu.nn", "tinygrad_edu.nn.functional",
                       "tinygrad_edu.nn.init", "tinygrad_edu.optim",
                       "tinygrad_edu.optim.lr_scheduler", "tinygrad_edu.data",
                       "tinygrad_edu.utils.data", "tinygrad_edu.autograd"]


def test_submodules_that_old_code_imports_from_are_mapped(tmp_path, capsys):
    script = write(tmp_path, """
        from torch.nn.utils import clip_grad_norm_
        from torch.nn.parameter import Parameter
        from torch.nn.modules.loss import MSELoss
        from torch.nn.modules.module import Module
        from torch.optim.optimizer import Optimizer
        from torch.autograd import Variable
        import torch
        v = Variable(torch.ones(2), requires_grad=True)
        print(clip_grad_norm_.__module__, issubclass(MSELoss, Module), Optimizer.__name__,
              v.requires_grad, isinstance(torch.ones(1), Variable), Parameter.__name__)
    """)
    assert runner.run_script(str(script)) == 0
    assert capsys.readouterr().out.split() == ["tinygrad_edu.nn.utils", "True", "Optimizer",
                                               "True", "True", "Parameter"]


def test_the_mapping_is_removed_afterwards(tmp_path):
    import torch as real_torch
    script = write(tmp_path, "import torch\nassert torch.__name__ == 'tinygrad_edu'\n")
    assert runner.run_script(str(script)) == 0
    import torch
    assert torch is real_torch and "tinygrad_edu" not in torch.__name__
    assert not any(isinstance(f, runner.TorchAliasFinder) for f in sys.meta_path)


def test_other_torch_modules_are_refused_with_a_clear_error(tmp_path, capsys):
    script = write(tmp_path, """
        try:
            import torch.distributions
        except ImportError as e:
            print("refused:", e)
        import torchvision_is_not_torch_dot_something  # an ordinary missing module
    """)
    assert runner.run_script(str(script)) == 1
    captured = capsys.readouterr()
    assert "refused: No module named 'torch.distributions': tinygrad_edu does not offer " \
           "torch.distributions" in captured.out
    assert "ModuleNotFoundError" in captured.err and "torchvision_is_not" in captured.err


def test_argv_and_exit_codes(tmp_path, capsys):
    script = write(tmp_path, "import sys\nprint(sys.argv)\nsys.exit(int(sys.argv[1]))\n")
    assert runner.run_script(str(script), ["7", "--flag"]) == 7
    assert capsys.readouterr().out.strip() == f"[{str(script)!r}, '7', '--flag']"
    assert runner.run_script(str(script), ["0"]) == 0
    from tinygrad_edu.cli import main
    capsys.readouterr()
    assert main(["run", str(script), "3", "--", "-x"]) == 3   # the CLI passes "--" on too
    assert capsys.readouterr().out.strip() == f"[{str(script)!r}, '3', '--', '-x']"
    assert main(["run", str(script), "--", "4"]) == 1         # argv[1] is "--": int() fails
    assert "'--'" in capsys.readouterr().err
    message = write(tmp_path, "import sys\nsys.exit('bad input')\n", "m.py")
    assert runner.run_script(str(message)) == 1
    assert "bad input" in capsys.readouterr().err


def test_an_exception_in_the_script_shows_its_traceback_and_exits_1(tmp_path, capsys):
    script = write(tmp_path, "import torch\n\ndef f():\n    return torch.ones(2) @ torch.ones(3)\n"
                             "f()\n")
    assert runner.run_script(str(script)) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "script.py\", line 4, in f" in err
    assert "runpy" not in err                                  # our frames are left out


def test_the_scripts_folder_is_importable(tmp_path, capsys):
    write(tmp_path, "VALUE = 42\n", "helper.py")
    script = write(tmp_path, "import helper\nprint(helper.VALUE)\n")
    assert runner.run_script(str(script)) == 0
    assert capsys.readouterr().out.strip() == "42"
    assert str(tmp_path) not in sys.path


def test_missing_script_is_exit_2(capsys):
    assert cli.main(["run", "/no/such/script.py"]) == 2
    assert "no such script: /no/such/script.py" in capsys.readouterr().err


def test_run_without_a_script_is_a_usage_error():
    with pytest.raises(SystemExit) as exc:
        cli.main(["run"])
    assert exc.value.code == 2


def test_cli_subprocess_end_to_end(tmp_path):
    script = write(tmp_path, """
        import sys
        import torch
        import torch.nn as nn
        model = nn.Linear(3, 1)
        print(type(model).__module__, torch.tensor([1.5, 2.5]).sum().item(), sys.argv[1:])
        sys.exit(5)
    """)
    result = run_cli(str(script), "a", "-b")
    assert result.returncode == 5, result.stderr
    assert result.stdout.split() == ["tinygrad_edu.nn.layers", "4.0", "['a',", "'-b']"]
    assert run_cli(str(tmp_path / "missing.py")).returncode == 2


def test_run_is_no_longer_coming():
    assert "run" not in cli.COMING
    assert tinygrad_edu.runner is runner
