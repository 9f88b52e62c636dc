"""The lessons: finding them, reading them as cells, and stepping through them in a terminal.

A lesson is a jupytext "percent" script, a plain Python file cut into cells by marker comments::

    # %% [markdown]
    # # The title
    # Text in Markdown, each line behind "# ".

    # %%
    print("a code cell")

so one file runs with ``python``, opens as a notebook (jupytext), and is stepped through by
``tinygrad-edu lesson N``: text, then the code, then what it printed, then a pause. Lessons are
named ``NN_topic.py``; NN is the lesson's number and its first Markdown heading is its title.

Where they live: ``lessons/`` at the top of the repository. A regular (non-editable) install
carries that folder inside the package as ``tinygrad_edu/_lessons`` (pyproject.toml maps it
there), so `lessons_dir` asks the import system for ``tinygrad_edu._lessons`` first and falls
back to ``lessons/`` next to the package in a source checkout. ``$TINYGRAD_EDU_LESSONS`` points
somewhere else (your own lessons, or a test's).

Code cells run in one shared namespace, as in a notebook, with ``OUT`` (a `pathlib.Path`)
predefined: the folder where a lesson writes its pictures. Files that appear in ``OUT`` while a
cell runs are listed after the cell's output.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import importlib.util
import io
import json
import os
import re
import shutil
import sys
import textwrap
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

__all__ = ["Cell", "Lesson", "LessonError", "lessons_dir", "discover", "parse_cells",
           "read_lesson", "output_folder", "render_markdown", "highlight",
           "notebook_json", "write_notebook", "Stepper", "list_command", "lesson_command"]

ENV_VAR = "TINYGRAD_EDU_LESSONS"
LESSON_NAME = re.compile(r"^(\d+)_\w+\.py$")       # 01_values.py -> lesson 1
MARKER = re.compile(r"^# %%(?:\s(?P<rest>.*))?$")  # "# %%", "# %% [markdown]", "# %% title"
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
QUIT_WORDS = ("q", "quit", "exit", "s", "stop")


class LessonError(Exception):
    """Something the user asked for does not exist or cannot be done; the message says what."""


@dataclass(frozen=True)
class Cell:
    """One cell of a lesson.

    ``kind`` is "code", "markdown" or "raw"; ``source`` is the cell's text (Markdown without
    its "# " prefixes); ``line`` is the file line (1-based) where ``source`` starts, so that a
    traceback can point into the lesson file.
    """

    kind: str
    source: str
    line: int


@dataclass(frozen=True)
class Lesson:
    number: int
    path: Path
    title: str
    cells: tuple[Cell, ...]


# ============================================================================ finding lessons

def lessons_dir() -> Path:
    """The folder that holds the lessons (see the module docstring for the search order)."""
    override = os.environ.get(ENV_VAR)
    if override:
        folder = Path(override).expanduser()
        if not folder.is_dir():
            raise LessonError(f"${ENV_VAR} is {override!r}, which is not a folder")
        return folder
    # An installed copy (or an editable install's mapping of lessons/) is a package to Python.
    spec = importlib.util.find_spec("tinygrad_edu._lessons")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    # A source checkout: lessons/ beside the package. The pyproject.toml test keeps us from
    # mistaking some other "lessons" folder in site-packages for ours.
    root = Path(__file__).resolve().parent.parent
    if (root / "lessons").is_dir() and (root / "pyproject.toml").is_file():
        return root / "lessons"
    raise LessonError("the lessons were not found: this install of tinygrad_edu has neither "
                      "tinygrad_edu/_lessons nor a lessons/ folder beside the package; "
                      f"reinstall it, or set ${ENV_VAR} to a folder of NN_name.py lessons")


def discover(folder: Path | None = None) -> list[Lesson]:
    """Every ``NN_name.py`` lesson in ``folder`` (default: `lessons_dir`), by number."""
    folder = lessons_dir() if folder is None else Path(folder)
    found: dict[int, Lesson] = {}
    for path in sorted(folder.glob("*.py")):
        match = LESSON_NAME.match(path.name)
        if not match:
            continue
        lesson = read_lesson(path, int(match.group(1)))
        if lesson.number in found:
            raise LessonError(f"two lessons are numbered {lesson.number}: "
                              f"{found[lesson.number].path.name} and {path.name}")
        found[lesson.number] = lesson
    return [found[n] for n in sorted(found)]


def read_lesson(path: Path, number: int) -> Lesson:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LessonError(f"cannot read lesson {path}: {e}") from None
    cells = tuple(parse_cells(text))
    return Lesson(number, Path(path), _title(cells, Path(path)), cells)


def output_folder(number: int) -> Path:
    """The default folder for lesson ``number``'s files: ./tinygrad_edu_out/lesson_NN (created).

    The stepper passes its own ``OUT``; a lesson run as a plain script or as a notebook calls
    this instead, so both put their pictures in the same place.
    """
    folder = output_folder_path(number)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def output_folder_path(number: int) -> Path:
    """Where lesson ``number`` writes by default (not created): ./tinygrad_edu_out/lesson_NN."""
    return Path("tinygrad_edu_out") / f"lesson_{number:02d}"


# ============================================================================ reading cells

def parse_cells(text: str) -> list[Cell]:
    """Cut a percent script into cells, as jupytext reads it.

    Lines before the first marker form a code cell (after an optional "# ---" YAML header,
    which jupytext writes and we skip). Blank lines around a cell's text belong to no cell, and
    cells left empty are dropped.
    """
    lines = text.splitlines()
    first = _after_header(lines)
    cells: list[Cell] = []
    kind, start, body = "code", first, []
    for i in range(first, len(lines)):
        marker = MARKER.match(lines[i])
        if marker:
            _add_cell(cells, kind, start, body)
            kind, start, body = _marker_kind(marker.group("rest") or ""), i + 1, []
        else:
            body.append(lines[i])
    _add_cell(cells, kind, start, body)
    return cells


def _after_header(lines: list[str]) -> int:
    """Index of the first line after a jupytext header ("# ---" ... "# ---"), else 0."""
    if lines and lines[0].rstrip() == "# ---":
        for i in range(1, len(lines)):
            if lines[i].rstrip() == "# ---":
                return i + 1
    return 0


def _marker_kind(rest: str) -> str:
    """The cell type written after "# %%": "[markdown]" or "[md]", "[raw]", else code."""
    if re.search(r"\[(markdown|md)\]", rest):
        return "markdown"
    if "[raw]" in rest:
        return "raw"
    return "code"


def _add_cell(cells: list[Cell], kind: str, start: int, body: list[str]) -> None:
    # start is the 0-based index of body[0] in the file; trim blank lines at both ends.
    while body and not body[0].strip():
        body, start = body[1:], start + 1
    while body and not body[-1].strip():
        body = body[:-1]
    if not body:
        return
    if kind != "code":
        body = [_uncomment(line) for line in body]
    cells.append(Cell(kind, "\n".join(body), start + 1))


def _uncomment(line: str) -> str:
    """A Markdown line as stored in a percent script: "# text" -> "text", "#" -> ""."""
    if line.startswith("# "):
        return line[2:]
    if line.rstrip() == "#":
        return ""
    return line


def _title(cells: tuple[Cell, ...], path: Path) -> str:
    """The first Markdown heading, else the file name made readable."""
    for cell in cells:
        if cell.kind == "markdown":
            for line in cell.source.splitlines():
                heading = HEADING.match(line)
                if heading:
                    return heading.group(2)
    return path.stem.split("_", 1)[-1].replace("_", " ")


# ============================================================================ terminal styling

class _Style:
    """ANSI escapes, or nothing when colour is off (a pipe, a file, NO_COLOR)."""

    CODES = {"bold": "1", "dim": "2", "italic": "3", "underline": "4", "cyan": "36",
             "yellow": "33", "green": "32", "red": "31", "magenta": "35"}

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *styles: str) -> str:
        if not self.color or not styles or not text:
            return text
        codes = ";".join(self.CODES[s] for s in styles)
        return f"\033[{codes}m{text}\033[0m"


def _width() -> int:
    # Wide enough to read, narrow enough for long lines to stay readable.
    return max(40, min(shutil.get_terminal_size((88, 24)).columns, 100) - 2)


def render_markdown(text: str, color: bool = False, width: int | None = None) -> str:
    """Markdown as terminal text: headings underlined, lists with bullets, paragraphs wrapped,
    `code` spans coloured (kept in backticks without colour), fenced code indented.

    Only what lessons use is understood; anything else is shown as it is.
    """
    width = width or _width()
    style = _Style(color)
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):                       # fenced code block
            block = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                block.append(lines[i])
                i += 1
            out.extend("    " + row for row in highlight("\n".join(block), color).splitlines())
            i += 1
            continue
        if line.startswith("    "):                          # an indented code block
            out.append(line)
            i += 1
            continue
        heading = HEADING.match(line)
        if heading:
            level, title = len(heading.group(1)), _inline(heading.group(2), color)
            if level == 1:
                out += [style(title, "bold", "underline"), "═" * len(_strip_ansi(title))]
            elif level == 2:
                out += [style(title, "bold"), "─" * len(_strip_ansi(title))]
            else:
                out.append(style(title, "bold"))
            i += 1
            continue
        item = re.match(r"^(\s*)([-*+]|\d+[.)])\s+(.*)$", line)
        if item:                                             # a list item and its continuation
            indent, mark, words = len(item.group(1)), item.group(2), [item.group(3)]
            i += 1
            while (i < len(lines) and lines[i].strip() and lines[i].startswith(" ")
                   and not re.match(r"^\s*([-*+]|\d+[.)])\s+", lines[i])):
                words.append(lines[i].strip())
                i += 1
            bullet = "•" if mark in "-*+" else mark
            lead = " " * (indent + 2) + bullet + " "
            out += _wrap(" ".join(words), width, lead, " " * len(lead), color)
            continue
        if stripped.startswith(">"):                         # a quote
            out += _wrap(stripped.lstrip("> "), width, "  │ ", "  │ ", color)
            i += 1
            continue
        if re.fullmatch(r"[-*_]{3,}", stripped):             # a horizontal rule
            out.append("─" * min(width, 40))
            i += 1
            continue
        if not stripped or stripped.startswith("|"):         # blank line, or a table row
            out.append(_inline(line, color))                 # (tables keep their layout)
            i += 1
            continue
        paragraph = [stripped]                               # a paragraph: join, then wrap
        i += 1
        while i < len(lines) and lines[i].strip() and not _starts_block(lines[i]):
            paragraph.append(lines[i].strip())
            i += 1
        out += _wrap(" ".join(paragraph), width, "", "", color)
    return "\n".join(out)


def _starts_block(line: str) -> bool:
    s = line.strip()
    return bool(HEADING.match(line) or re.match(r"^\s*([-*+]|\d+[.)])\s+", line)
                or s.startswith(("```", ">", "|")))


# Inline styles become marker characters before a paragraph is wrapped (so a styled phrase may
# run over a line break) and ANSI escapes afterwards, or plain text without colour.
_MARKS = {"\x01": ("\033[1m", ""), "\x02": ("\033[22m", ""),      # **bold**
          "\x03": ("\033[3m", ""), "\x04": ("\033[23m", ""),      # *emphasis*
          "\x05": ("\033[36m", "`"), "\x06": ("\033[39m", "`")}   # `code` keeps its backticks
_SPACE_IN_CODE = "\x00"   # a space inside `code`: wrapping must not split a code span


def _mark_inline(text: str) -> str:
    """`code`, **bold**, *emphasis* and [links](url) of a line as markers (see _MARKS)."""
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 (\2)", text)
    parts = re.split(r"(`[^`]*`)", text)     # the insides of code spans are not Markdown
    for k, part in enumerate(parts):
        if len(part) >= 2 and part[0] == part[-1] == "`":
            parts[k] = "\x05" + part[1:-1].replace(" ", _SPACE_IN_CODE) + "\x06"
        else:
            part = re.sub(r"\*\*([^*]+)\*\*", "\x01\\1\x02", part)
            parts[k] = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])", "\x03\\1\x04", part)
    return "".join(parts)


def _unmark(text: str, color: bool) -> str:
    text = text.replace(_SPACE_IN_CODE, " ")
    return re.sub("[\x01-\x06]", lambda m: _MARKS[m.group(0)][0 if color else 1], text)


def _inline(text: str, color: bool) -> str:
    return _unmark(_mark_inline(text), color)


def _wrap(text: str, width: int, first: str, rest: str, color: bool) -> list[str]:
    rows = textwrap.wrap(_mark_inline(text), width, initial_indent=first,
                         subsequent_indent=rest, break_on_hyphens=False) or [first.rstrip()]
    return [_unmark(row, color) for row in rows]


def _strip_ansi(text: str) -> str:
    return re.sub(r"\033\[[0-9;]*m", "", text)


def highlight(code: str, color: bool = False) -> str:
    """Python source with syntax colours (pygments, when installed and colour is on)."""
    if not color:
        return code
    try:
        from pygments import highlight as pygments_highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:      # pygments is optional: plain code is still readable
        return code
    lexer = PythonLexer(stripnl=False, ensurenl=False)
    return pygments_highlight(code, lexer, TerminalFormatter())


# ============================================================================ notebooks

def notebook_json(lesson: Lesson) -> dict:
    """The lesson as an nbformat 4.5 notebook (a dict ready for json.dump), no outputs."""
    cells = []
    for i, cell in enumerate(lesson.cells, start=1):
        lines = cell.source.splitlines(keepends=True)
        entry = {"cell_type": cell.kind, "id": f"{cell.kind}-{i:03d}", "metadata": {},
                 "source": lines}
        if cell.kind == "code":
            entry.update(execution_count=None, outputs=[])
        cells.append(entry)
    metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def write_notebook(lesson: Lesson, path: str | os.PathLike | None = None, *, force: bool = False,
                   use_jupytext: bool | None = None) -> Path:
    """Write the lesson as an .ipynb and return its path.

    ``path``: a file ending in .ipynb, or an existing folder (the notebook is named after the
    lesson file); default the current folder. An existing notebook is kept unless ``force``,
    since it may hold the learner's own edits. jupytext (the "notebooks" extra) writes it when
    installed (``use_jupytext=None``); otherwise `notebook_json` does.
    """
    target = Path.cwd() if path is None or str(path) == "" else Path(path).expanduser()
    if target.is_dir():
        target = target / (lesson.path.stem + ".ipynb")
    elif target.suffix != ".ipynb":
        raise LessonError(f"a notebook's name must end in .ipynb, got {str(target)!r}")
    if target.exists() and not force:
        raise LessonError(f"{target} exists already; pass --force to overwrite it")
    if use_jupytext is None:
        use_jupytext = importlib.util.find_spec("jupytext") is not None
    if use_jupytext:
        import jupytext
        try:
            text = jupytext.writes(jupytext.read(lesson.path, fmt="py:percent"), fmt="ipynb")
        except Exception as e:   # jupytext's own errors vary; the learner needs the reason
            raise LessonError(f"jupytext could not convert {lesson.path}: {e}") from None
    else:
        text = json.dumps(notebook_json(lesson), indent=1, ensure_ascii=False) + "\n"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(target, text)
    except OSError as e:
        raise LessonError(f"cannot write {target}: {e}") from None
    return target


def _write_atomic(path: Path, text: str) -> None:
    # Written whole or not at all: a half-written notebook would not open.
    from tinygrad_edu.serialization import atomic_write   # (it loads the tensor library)
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


# ============================================================================ the stepper

class _Quit(Exception):
    """The learner asked to stop (q, or the end of input)."""


class Stepper:
    """Runs a lesson cell by cell: shows each cell, runs code, lists new files, pauses.

    ``stdin``/``stdout`` are parameters so that tests can drive it with fake streams. Returns
    exit codes: 0 (done, or the learner quit), 1 (a cell failed), 130 (Ctrl-C).
    """

    def __init__(self, lesson: Lesson, out_dir: Path, *, pause: bool = True, color: bool = False,
                 stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.lesson = lesson
        self.out_dir = Path(out_dir)
        self.pause = pause
        self.style = _Style(color)
        self.color = color
        self.stdin = stdin if stdin is not None else sys.stdin
        self.out = stdout if stdout is not None else sys.stdout
        # One namespace for the whole lesson, as a notebook kernel has.
        self.namespace = {"__name__": "__main__", "__file__": str(lesson.path),
                          "__builtins__": builtins, "OUT": self.out_dir}
        self.failed: list[int] = []

    # ---- the loop ---------------------------------------------------------------------------

    def run(self, start: int = 1) -> int:
        cells = self.lesson.cells
        if not cells:
            self._say(f"Lesson {self.lesson.number} has no cells.")
            return 0
        if not 1 <= start <= len(cells):
            raise LessonError(f"--from must be between 1 and {len(cells)} (lesson "
                              f"{self.lesson.number} has {len(cells)} cells), got {start}")
        self._header()
        try:
            if start > 1 and not self._prepare(start):
                return 1
            for number in range(start, len(cells) + 1):
                ok = self._show(number, cells[number - 1])
                if not ok and not self.pause:
                    self._say(self.style(f"Stopped: cell {number} failed.", "red"))
                    return 1
                if self.pause and number < len(cells):
                    following = "run the next cell" if cells[number].kind == "code" else "go on"
                    self._ask(f"Enter: {following} · q: quit" if ok
                              else "Enter: continue with the next cell anyway · q: stop")
        except _Quit:
            self._say(f"Stopped before cell {number + 1}. To pick up there: "
                      f"tinygrad-edu lesson {self.lesson.number} --from {number + 1}")
            return 1 if self.failed else 0
        except KeyboardInterrupt:
            self._say("\nInterrupted.")
            return 130
        self._footer()
        return 1 if self.failed else 0

    def _prepare(self, start: int) -> bool:
        """Run the code cells before ``start`` without showing them, so their state exists."""
        self._say(self.style(f"Running cells 1–{start - 1} first (quietly) so that their "
                             "variables exist…", "dim"))
        for number, cell in enumerate(self.lesson.cells[:start - 1], start=1):
            if cell.kind != "code":
                continue
            sink = io.StringIO()
            with contextlib.redirect_stderr(sink):
                error = self._execute(cell, stdout=sink)
            if error is not None:
                self._say(sink.getvalue().rstrip("\n"))
                self._say(self.style(f"Cell {number} failed, so the lesson cannot start at "
                                     f"cell {start}:", "red"))
                self._say(error)
                return False
        return True

    def _show(self, number: int, cell: Cell) -> bool:
        """Show one cell (and run it if it is code); False if it failed."""
        total = len(self.lesson.cells)
        label = {"code": "code", "markdown": "text", "raw": "text"}[cell.kind]
        rule = f"── [{number}/{total}] {label} "
        self._say("\n" + self.style(rule + "─" * max(0, _width() - len(rule)), "dim"))
        if cell.kind == "markdown":
            self._say(render_markdown(cell.source, self.color))
            return True
        if cell.kind == "raw":
            self._say(cell.source)
            return True
        self._say(self._numbered(cell))
        before = _snapshot(self.out_dir)
        error = self._execute(cell, stdout=self.out)
        for path in _changed(before, _snapshot(self.out_dir)):
            self._say(self.style(f"  → wrote {_shown(path)}", "green"))
        if error is not None:
            self.failed.append(number)
            self._say(self.style(f"Cell {number} failed (the lesson file's line numbers are "
                                 "in the traceback):", "red"))
            self._say(error)
            return False
        return True

    def _numbered(self, cell: Cell) -> str:
        """The cell's code with the lesson file's line numbers in a gutter."""
        rows = highlight(cell.source, self.color).rstrip("\n").splitlines()
        digits = len(str(cell.line + len(rows)))
        return "\n".join(self.style(f"{cell.line + k:>{digits}} │ ", "dim") + row
                         for k, row in enumerate(rows))

    # ---- running code -----------------------------------------------------------------------

    def _execute(self, cell: Cell, stdout: TextIO) -> str | None:
        """Run a code cell in the lesson's namespace, its prints going to ``stdout``; return
        the formatted traceback if it failed.

        Like a notebook, a cell that ends in an expression shows that expression's value.
        """
        path = str(self.lesson.path)
        # Padding with newlines makes line numbers (of tracebacks and SyntaxErrors) match the
        # lesson file, so a learner can find the failing line there.
        try:
            tree = ast.parse("\n" * (cell.line - 1) + cell.source, filename=path)
        except SyntaxError as e:
            return "".join(traceback.format_exception_only(type(e), e)).rstrip("\n")
        shown = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        try:
            with contextlib.redirect_stdout(stdout):
                exec(compile(tree, path, "exec"), self.namespace)
                if shown is not None:
                    value = eval(compile(ast.Expression(shown.value), path, "eval"),
                                 self.namespace)
                    if value is not None:
                        print(repr(value))
        except (Exception, SystemExit) as e:
            # Leave out this frame: the learner's code starts one level down.
            tb = e.__traceback__.tb_next if e.__traceback__ else None
            return "".join(traceback.format_exception(type(e), e, tb)).rstrip("\n")
        return None

    # ---- talking to the learner -------------------------------------------------------------

    def _header(self) -> None:
        lesson = self.lesson
        self._say(self.style(f"Lesson {lesson.number} · {lesson.title}", "bold"))
        self._say(self.style(f"{_shown(lesson.path)} · {len(lesson.cells)} cells · files go to "
                             f"{_shown(self.out_dir)}", "dim"))
        if self.pause:
            self._say(self.style("Press Enter after each cell to go on; q and Enter quits.",
                                 "dim"))

    def _footer(self) -> None:
        if self.failed:
            cells = ", ".join(str(n) for n in self.failed)
            self._say(self.style(f"\nEnd of lesson {self.lesson.number}; "
                                 f"cells that failed: {cells}.", "red"))
        else:
            self._say(self.style(f"\nEnd of lesson {self.lesson.number}: all "
                                 f"{len(self.lesson.cells)} cells ran.", "green"))

    def _ask(self, prompt: str) -> None:
        self.out.write(self.style(f"[{prompt}] ", "yellow"))
        self.out.flush()
        answer = self.stdin.readline()
        if not answer or not _isatty(self.stdin):
            self._say("")                # a terminal echoes the learner's Enter; a pipe does not
        if not answer:                   # end of input: nobody is there to press Enter
            raise _Quit
        if answer.strip().lower() in QUIT_WORDS:
            raise _Quit

    def _say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):   # no isatty, or a closed stream
        return False


def _snapshot(folder: Path) -> dict[Path, tuple[int, int]]:
    """Every file under ``folder`` with its (modification time, size): what changed shows."""
    files = {}
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                stat = path.stat()
                files[path] = (stat.st_mtime_ns, stat.st_size)
        except OSError:                  # removed while we looked: it is not there
            pass
    return files


def _changed(before: dict, after: dict) -> list[Path]:
    return sorted(path for path, signature in after.items() if before.get(path) != signature)


def _shown(path: Path) -> str:
    """A path relative to the current folder when it is inside it (shorter to read)."""
    cwd = Path.cwd().resolve()
    try:
        return str(Path(path).resolve().relative_to(cwd)) if cwd.parent != cwd else str(path)
    except ValueError:
        return str(path)


# ============================================================================ commands

def list_command(stdout: TextIO | None = None) -> int:
    """``tinygrad-edu lessons``: the lessons with their numbers and titles."""
    out = stdout if stdout is not None else sys.stdout
    try:
        lessons = discover()
    except LessonError as e:
        print(f"tinygrad-edu lessons: {e}", file=sys.stderr)
        return 1
    try:
        _print_list(lessons, out)
        print("\nStep through one with `tinygrad-edu lesson N` (--no-pause to run it straight "
              "through, --notebook to get a Jupyter notebook).", file=out)
    except BrokenPipeError:
        _silence_stdout(out)
        return 1
    return 0


def _print_list(lessons: list[Lesson], out: TextIO) -> None:
    if not lessons:
        print("No lessons found.", file=out)
    for lesson in lessons:
        print(f"{lesson.number:3d}  {lesson.title}", file=out)


def lesson_command(number: int, *, start: int = 1, pause: bool = True,
                   notebook: str | None = None, force: bool = False, out_dir: str | None = None,
                   color: bool | None = None, stdin: TextIO | None = None,
                   stdout: TextIO | None = None) -> int:
    """``tinygrad-edu lesson N``: step through lesson N, or write it as a notebook.

    ``notebook`` None steps; "" writes the notebook to the default place; else to that path.
    ``color`` None means: when stdout is a terminal and $NO_COLOR is not set.
    """
    out = stdout if stdout is not None else sys.stdout

    def fail(message: str, code: int) -> int:
        print(f"tinygrad-edu lesson: {message}", file=sys.stderr)
        return code

    try:
        lessons = discover()
    except LessonError as e:
        return fail(str(e), 1)
    chosen = [lesson for lesson in lessons if lesson.number == number]
    if not chosen:
        print(f"tinygrad-edu lesson: there is no lesson {number}. The lessons are:",
              file=sys.stderr)
        _print_list(lessons, sys.stderr)
        return 2
    lesson = chosen[0]
    if notebook is not None:
        try:
            print(f"wrote {write_notebook(lesson, notebook or None, force=force)}", file=out)
        except LessonError as e:
            return fail(str(e), 1)
        return 0
    folder = Path(out_dir).expanduser() if out_dir else output_folder_path(number)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return fail(f"cannot use {str(folder)!r} as the output folder: {e}", 2)
    if color is None:
        color = _isatty(out) and not os.environ.get("NO_COLOR")
    stepper = Stepper(lesson, folder, pause=pause, color=color, stdin=stdin, stdout=out)
    try:
        return stepper.run(start)
    except LessonError as e:
        return fail(str(e), 2)
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, as command-line tools do.
        _silence_stdout(out)
        return 1


def _silence_stdout(out: TextIO) -> None:
    # Python would report the broken pipe again when it flushes stdout at exit.
    if out is not sys.stdout:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass

