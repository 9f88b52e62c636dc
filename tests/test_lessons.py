"""The lessons and their stepper.

Every lesson runs to the end with --no-pause (its own checks are asserts, so a wrong framework
fails here) and writes its pictures; the stepper is checked on a small synthetic lesson: what it
shows and in which order, --from, failing cells, quitting, notebooks, and the CLI's exit codes.
"""
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tinygrad_edu import cli, lessons
from tinygrad_edu.lessons import (Stepper, discover, lesson_command, parse_cells, read_lesson,
                                  render_markdown, write_notebook)

REPO = Path(__file__).resolve().parent.parent

# What each lesson must write into its output folder.
PICTURES = {
    1: ["neuron_forward.svg", "neuron_backward.svg", "neuron_backward_steps.html"],
    2: ["moons_decision.svg", "mlp_graph.svg"],
    3: ["points.t"],
    4: ["timings.csv"],
    5: ["bikes_by_hour.svg"],
    6: ["thermometer_fit.svg", "train_val_loss.svg"],
    7: ["thermometer_models.svg"],
    8: ["mnist_curves.svg"],
    9: ["feature_maps.svg"],
    10: [],                 # kernels and devices: it prints, it draws nothing
}


def run_cli(*args, cwd, env_extra=None, stdin=""):
    env = {k: v for k, v in os.environ.items() if k != lessons.ENV_VAR}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "tinygrad_edu", *args], cwd=cwd, env=env,
                          input=stdin, capture_output=True, text=True, timeout=300)


# ============================================================================ the real lessons

def test_lessons_one_to_four_exist_with_titles():
    found = {lesson.number: lesson.title for lesson in discover()}
    assert found[1] == "Values and expression graphs"
    assert found[2] == "A neural net of Values"
    assert found[3] == "Tensors: storage, offsets and strides"
    assert found[4] == "Kernels: loops, Numba and BLAS"


def test_lessons_five_to_ten_exist_with_titles():
    found = {lesson.number: lesson.title for lesson in discover()}
    assert found[5] == "Real data: wine, bikes and text"
    assert found[6] == "Learning: a thermometer from scratch"
    assert found[7] == "nn: layers, containers and modules"
    assert found[8] == "Classification: handwritten digits"
    assert found[9] == "Convolutions: networks that know what an image is"
    assert found[10] == "GPUs: devices and CUDA kernels"


@pytest.mark.parametrize("number", sorted(PICTURES))
def test_every_lesson_runs_to_the_end(number, tmp_path):
    out = tmp_path / "out"
    result = run_cli("lesson", str(number), "--no-pause", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "All checks passed." in result.stdout
    assert f"End of lesson {number}: all" in result.stdout
    assert "Traceback" not in result.stdout
    drawn = PICTURES[number]
    if shutil.which("dot") is None:   # without Graphviz, lessons write DOT text instead (and say so)
        drawn = [name for name in drawn if not name.endswith((".svg", ".html"))]
    for name in drawn:
        picture = out / name
        assert picture.is_file() and picture.stat().st_size > 0, name
        assert re.search(rf"→ wrote .*{re.escape(name)}", result.stdout), name
    assert not (tmp_path / "tinygrad_edu_out").exists()     # --out was used, not the default


def test_a_lesson_runs_as_a_plain_python_script(tmp_path):
    """Outside the stepper there is no predefined OUT: the lesson picks the default folder."""
    result = subprocess.run([sys.executable, str(REPO / "lessons" / "03_tensors.py")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "All checks passed." in result.stdout
    assert (tmp_path / "tinygrad_edu_out" / "lesson_03" / "points.t").is_file()


def test_lessons_command_lists_the_lessons(tmp_path):
    result = run_cli("lessons", cwd=tmp_path)
    assert result.returncode == 0
    assert re.search(r"^\s*1\s+Values and expression graphs$", result.stdout, re.M)
    assert re.search(r"^\s*4\s+Kernels: loops, Numba and BLAS$", result.stdout, re.M)


def test_unknown_lesson_lists_the_lessons_and_exits_2(tmp_path):
    result = run_cli("lesson", "99", cwd=tmp_path)
    assert result.returncode == 2
    assert "there is no lesson 99" in result.stderr
    assert "Values and expression graphs" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("args", [["lesson", "one"], ["lesson"], ["lesson", "1", "--from", "x"]])
def test_bad_usage_exits_2_without_a_traceback(args, tmp_path):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: tinygrad-edu lesson" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_regular_install_carries_the_lessons(tmp_path):
    """Build a wheel from a copy of the project, install it elsewhere, list the lessons there."""
    pytest.importorskip("setuptools")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc")
    shutil.copytree(REPO / "tinygrad_edu", src / "tinygrad_edu", ignore=ignore)
    shutil.copytree(REPO / "lessons", src / "lessons", ignore=ignore)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    built = subprocess.run([*pip, "wheel", str(src), "--no-deps", "--no-build-isolation",
                            "-w", str(tmp_path / "wheel")], capture_output=True, text=True)
    if built.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {built.stderr[-500:]}")
    wheel = next((tmp_path / "wheel").glob("*.whl"))
    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--no-compile", "--target", str(site),
                    str(wheel)], check=True, capture_output=True)
    assert (site / "tinygrad_edu" / "_lessons" / "01_values.py").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_cli("lessons", cwd=elsewhere, env_extra={"PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    assert "Values and expression graphs" in result.stdout


# ============================================================================ parsing

SYNTHETIC = '''\
# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # A tiny lesson
#
# Some *text* with `x = 21` and a list:
# - first
# - second

# %%
x = 21
print("x is", x)

# %%
(OUT / "pic.svg").write_text("<svg/>")
x * 2

# %% [markdown]
# ## Part two

# %%
print("y is", x + 1)
'''

FAILING = '''\
# %% [markdown]
# # Failing lesson

# %%
a = 1
print("first ran")

# %%
b = a / 0

# %%
print("after the failure")
'''


def write_lesson(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture
def synthetic(tmp_path, monkeypatch):
    """A lessons folder, as the CLI sees it: lesson 1 runs fine, lesson 2's cell 3 fails."""
    folder = tmp_path / "lessons"
    write_lesson(folder, "01_tiny.py", SYNTHETIC)
    write_lesson(folder, "02_failing.py", FAILING)
    write_lesson(folder, "notes.py", "print('not a lesson: no number')\n")
    monkeypatch.setenv(lessons.ENV_VAR, str(folder))
    monkeypatch.chdir(tmp_path)
    return folder


def test_parse_cells_kinds_sources_and_line_numbers():
    cells = parse_cells(SYNTHETIC)
    assert [c.kind for c in cells] == ["markdown", "code", "code", "markdown", "code"]
    assert cells[0].source.splitlines()[:3] == ["# A tiny lesson", "", "Some *text* with "
                                                "`x = 21` and a list:"]
    assert cells[1].source == 'x = 21\nprint("x is", x)'
    lines = SYNTHETIC.splitlines()
    for cell in cells:           # each cell's line number points at its first line in the file
        first = cell.source.splitlines()[0]
        assert lines[cell.line - 1] in (first, "# " + first)


def test_parse_cells_code_before_the_first_marker_empty_cells_and_md_alias():
    text = "import math\n\n# %%\n\n# %% [md]\n# text\n#\n# more\n# %% [raw]\n# raw\n"
    cells = parse_cells(text)
    assert [(c.kind, c.source, c.line) for c in cells] == [
        ("code", "import math", 1), ("markdown", "text\n\nmore", 6), ("raw", "raw", 10)]


def test_title_is_the_first_heading_else_the_file_name(tmp_path):
    assert read_lesson(write_lesson(tmp_path, "01_a.py", SYNTHETIC), 1).title == "A tiny lesson"
    plain = write_lesson(tmp_path, "07_no_heading_here.py", "# %%\nx = 1\n")
    assert read_lesson(plain, 7).title == "no heading here"


def test_discover_takes_numbered_files_only_and_rejects_duplicates(synthetic):
    assert [(lesson.number, lesson.title) for lesson in discover()] == [
        (1, "A tiny lesson"), (2, "Failing lesson")]
    write_lesson(synthetic, "2_again.py", "# %%\n")
    with pytest.raises(lessons.LessonError, match="two lessons are numbered 2"):
        discover()


def test_lessons_dir_from_the_environment_and_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(lessons.ENV_VAR, str(tmp_path))
    assert lessons.lessons_dir() == tmp_path
    monkeypatch.setenv(lessons.ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(lessons.LessonError, match="not a folder"):
        lessons.lessons_dir()
    assert cli.main(["lessons"]) == 1
    monkeypatch.delenv(lessons.ENV_VAR)
    assert (lessons.lessons_dir() / "01_values.py").is_file()


# ============================================================================ rendering

def test_render_markdown_plain():
    text = ("# Big title\n## Smaller\nA paragraph with `some code here` and **bold** and *soft*"
            " words that goes on long enough to be wrapped.\n\n- one\n- two `x.grad`\n"
            "  continued\n\n    indented code\n")
    shown = render_markdown(text, color=False, width=40)
    lines = shown.splitlines()
    assert lines[:4] == ["Big title", "═════════", "Smaller", "───────"]
    assert "\033[" not in shown
    assert "`some code here`" in shown                  # code spans keep their backticks...
    assert "**" not in shown and "*soft*" not in shown   # ...emphasis markers go
    assert all(len(line) <= 40 for line in lines)
    assert "  • one" in lines and "  • two `x.grad` continued" in lines
    assert "    indented code" in lines


def test_render_markdown_colour_survives_wrapping():
    shown = render_markdown("*" + "emphasis " * 12 + "end* and `a b c`", color=True, width=30)
    assert shown.count("\033[3m") == 1 and shown.count("\033[23m") == 1   # one italic span
    assert "\033[36ma b c\033[39m" in shown                                # a code span, whole


def test_highlight_is_optional(monkeypatch):
    code = "x = 1  # one"
    assert lessons.highlight(code, color=False) == code
    pytest.importorskip("pygments")
    assert "\033[" in lessons.highlight(code, color=True)
    monkeypatch.setitem(sys.modules, "pygments", None)    # as if pygments were not installed
    assert lessons.highlight(code, color=True) == code


# ============================================================================ the stepper

def step(number, stdin="", **options):
    out = io.StringIO()
    options.setdefault("pause", False)
    code = lesson_command(number, stdin=io.StringIO(stdin), stdout=out, color=False, **options)
    return code, out.getvalue()


def positions(text, *needles):
    found = [text.find(n) for n in needles]
    assert -1 not in found, [n for n, f in zip(needles, found) if f == -1]
    return found


def test_stepper_shows_text_then_code_then_output_in_order(synthetic):
    code, shown = step(1, out_dir="out")
    assert code == 0
    order = positions(shown, "A tiny lesson\n═", "  • first", "15 │ x = 21", "x is 21",
                      "19 │ (OUT", "42", "→ wrote out/pic.svg", "Part two", "y is 22",
                      "End of lesson 1: all 5 cells ran.")
    assert order == sorted(order)
    assert "[1/5] text" in shown and "[2/5] code" in shown
    assert (synthetic.parent / "out" / "pic.svg").read_text() == "<svg/>"


def test_stepper_lists_only_files_a_cell_changed(synthetic):
    out = synthetic.parent / "out"
    out.mkdir()
    (out / "old.txt").write_text("here before")
    _, shown = step(1, out_dir="out")
    assert "pic.svg" in shown and "old.txt" not in shown


def test_stepper_default_output_folder(synthetic):
    code, shown = step(1)
    assert code == 0
    assert (synthetic.parent / "tinygrad_edu_out" / "lesson_01" / "pic.svg").is_file()


def test_failing_cell_without_pause_shows_the_traceback_and_stops(synthetic):
    code, shown = step(2, out_dir="out")
    assert code == 1
    assert "first ran" in shown
    assert "ZeroDivisionError: division by zero" in shown
    path = str(synthetic / "02_failing.py")
    assert f'File "{path}", line 9' in shown           # the lesson file's own line number
    assert "after the failure" not in shown
    assert "Stopped: cell 3 failed." in shown


def test_failing_cell_with_pause_can_continue_or_stop(synthetic):
    # Enter after cells 1 and 2, then Enter at the failure: cell 4 runs, exit code says failure.
    code, shown = step(2, stdin="\n\n\n", pause=True, out_dir="out")
    assert code == 1
    assert "ZeroDivisionError" in shown and "after the failure" in shown
    assert "cells that failed: 3" in shown
    # q at the failure: cell 4 does not run.
    code, shown = step(2, stdin="\n\nq\n", pause=True, out_dir="out")
    assert code == 1
    assert "ZeroDivisionError" in shown and "after the failure" not in shown
    assert "--from 4" in shown


def test_q_quits_and_says_how_to_resume(synthetic):
    code, shown = step(1, stdin="\nq\n", pause=True, out_dir="out")
    assert code == 0
    assert "x is 21" in shown                   # cell 2 ran, after the first Enter
    assert "[3/5]" not in shown                 # q after cell 2: nothing more
    assert "tinygrad-edu lesson 1 --from 3" in shown
    assert shown.count("q: quit") == 2          # one prompt after each of cells 1 and 2


def test_end_of_input_stops_like_q(synthetic):
    code, shown = step(1, stdin="", pause=True, out_dir="out")
    assert code == 0
    assert "[2/5]" not in shown and "--from 2" in shown


def test_from_runs_earlier_code_quietly(synthetic):
    code, shown = step(1, start=5, out_dir="out")
    assert code == 0
    assert "y is 22" in shown                   # x from cell 2 exists
    assert "x is 21" not in shown and "[2/5]" not in shown
    assert "Running cells 1–4 first" in shown


def test_from_stops_when_an_earlier_cell_fails(synthetic):
    code, shown = step(2, start=4, out_dir="out")
    assert code == 1
    assert "Cell 3 failed, so the lesson cannot start at cell 4" in shown
    assert "ZeroDivisionError" in shown and "after the failure" not in shown


@pytest.mark.parametrize("start", [0, 6, -1])
def test_from_out_of_range_exits_2(synthetic, start, capsys):
    assert cli.main(["lesson", "1", "--from", str(start), "--no-pause", "--out", "out"]) == 2
    assert "--from must be between 1 and 5" in capsys.readouterr().err


def test_syntax_error_and_keyboard_interrupt_in_a_cell(synthetic):
    write_lesson(synthetic, "03_syntax.py", "# %%\nok = 1\n\n# %%\nif ok\n    pass\n")
    code, shown = step(3, out_dir="out")
    assert code == 1 and "SyntaxError" in shown and "line 5" in shown
    write_lesson(synthetic, "04_interrupt.py", "# %%\nraise KeyboardInterrupt\n# %%\nprint(1)\n")
    code, shown = step(4, out_dir="out")
    assert code == 130 and "Interrupted." in shown


def test_colour_only_when_asked(synthetic):
    out = io.StringIO()
    lesson_command(1, pause=False, out_dir="out", color=True, stdout=out)
    assert "\033[" in out.getvalue()
    out = io.StringIO()
    lesson_command(1, pause=False, out_dir="out", stdout=out)   # a StringIO is not a terminal
    assert "\033[" not in out.getvalue()


def test_cells_share_one_namespace_with_out_predefined(tmp_path):
    path = write_lesson(tmp_path, "05_ns.py", "# %%\nfolder = OUT\n# %%\nprint(folder.name)\n")
    out = io.StringIO()
    stepper = Stepper(read_lesson(path, 5), tmp_path / "pics", pause=False, stdout=out)
    assert stepper.run() == 0
    assert "pics" in out.getvalue().splitlines()


def test_out_that_is_a_file_exits_2(synthetic, capsys):
    Path("a_file").write_text("")
    assert cli.main(["lesson", "1", "--no-pause", "--out", "a_file"]) == 2
    assert "cannot use 'a_file' as the output folder" in capsys.readouterr().err


# ============================================================================ notebooks

def check_notebook(path: Path, kinds: list[str]) -> dict:
    notebook = json.loads(path.read_text())
    assert notebook["nbformat"] == 4
    assert [cell["cell_type"] for cell in notebook["cells"]] == kinds
    try:
        import nbformat
    except ImportError:
        pass
    else:
        nbformat.validate(nbformat.reads(path.read_text(), as_version=4))
    return notebook


KINDS = ["markdown", "code", "code", "markdown", "code"]


def test_notebook_written_by_hand(synthetic, tmp_path):
    lesson = discover()[0]
    path = write_notebook(lesson, tmp_path / "tiny.ipynb", use_jupytext=False)
    notebook = check_notebook(path, KINDS)
    assert "".join(notebook["cells"][1]["source"]) == 'x = 21\nprint("x is", x)'
    assert notebook["cells"][0]["source"][0] == "# A tiny lesson\n"
    assert all(cell["outputs"] == [] for cell in notebook["cells"] if cell["cell_type"] == "code")


def test_notebook_through_jupytext(synthetic, tmp_path):
    pytest.importorskip("jupytext")
    path = write_notebook(discover()[0], tmp_path / "tiny.ipynb", use_jupytext=True)
    check_notebook(path, KINDS)


def test_notebook_command_defaults_and_refuses_to_overwrite(synthetic, capsys):
    assert cli.main(["lesson", "1", "--notebook"]) == 0
    target = synthetic.parent / "01_tiny.ipynb"
    check_notebook(target, KINDS)
    assert not Path("tinygrad_edu_out").exists()          # no stepping happened
    target.write_text("my own edits")
    assert cli.main(["lesson", "1", "--notebook"]) == 1
    assert "exists already" in capsys.readouterr().err
    assert target.read_text() == "my own edits"
    assert cli.main(["lesson", "1", "--notebook", "--force"]) == 0
    check_notebook(target, KINDS)
    Path("nbs").mkdir()
    assert cli.main(["lesson", "1", "--notebook", "nbs"]) == 0
    check_notebook(Path("nbs") / "01_tiny.ipynb", KINDS)
    assert cli.main(["lesson", "1", "--notebook", "bad.txt"]) == 1
    assert "must end in .ipynb" in capsys.readouterr().err


def test_real_lesson_as_notebook(tmp_path):
    lesson = discover()[0]
    path = write_notebook(lesson, tmp_path / "one.ipynb", use_jupytext=False)
    kinds = [cell.kind for cell in lesson.cells]
    notebook = check_notebook(path, kinds)
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    compile(code, "lesson 1 as a notebook", "exec")      # the code cells are valid Python


def test_listing_uses_the_synthetic_folder(synthetic, capsys):
    assert cli.main(["lessons"]) == 0
    shown = capsys.readouterr().out
    assert re.search(r"^\s*1\s+A tiny lesson$", shown, re.M)
    assert re.search(r"^\s*2\s+Failing lesson$", shown, re.M)
    assert "notes" not in shown
    assert cli.main(["lesson", "9", "--no-pause"]) == 2
    assert "A tiny lesson" in capsys.readouterr().err
