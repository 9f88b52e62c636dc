"""The `tinygrad-edu` command: usage errors exit 2 without a traceback; the demo trains."""
import io
import subprocess
import sys

import pytest

from tinygrad_edu import cli
from tinygrad_edu.examples import train_moons


def run(*args):
    return subprocess.run([sys.executable, "-m", "tinygrad_edu", *args], capture_output=True,
                          text=True, timeout=120)


def test_unknown_command_prints_usage_and_exits_2():
    result = run("frobnicate")
    assert result.returncode == 2
    assert "usage: tinygrad-edu" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_command_prints_usage_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "usage: tinygrad-edu" in capsys.readouterr().out


def test_bad_option_value_exits_2():
    with pytest.raises(SystemExit) as exc:
        cli.main(["demo", "--steps", "many"])
    assert exc.value.code == 2
    assert cli.main(["demo", "--steps", "0"]) == 2


def test_demo_trains_the_moons_mlp():
    out = io.StringIO()
    metrics = train_moons(steps=40, seed=0, out=out)
    assert metrics["accuracy"] >= 0.9
    assert metrics["loss"] < 0.3
    assert "step  39" in out.getvalue()


def test_demo_command_runs():
    result = run("demo", "--steps", "5")
    assert result.returncode == 0, result.stderr
    assert "step   4" in result.stdout


def test_bench_lists_the_benchmarks_and_rejects_unknown_names(capsys):
    assert cli.main(["bench"]) == 0
    listing = capsys.readouterr().out
    assert "thermometer" in listing and "scalar" in listing
    assert cli.main(["bench", "no-such-benchmark"]) == 2
    assert "no benchmark 'no-such-benchmark'" in capsys.readouterr().err
