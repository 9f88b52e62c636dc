"""The dependency rule of docs/architecture.md: imports point down the layers only.

import-linter checks the layer contracts written in pyproject.toml; grimp (the import graph
it is built on) shows that no two modules import each other, directly or round a loop. Both
count imports inside functions too: a lazy import is still an arrow.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

grimp = pytest.importorskip("grimp")
pytest.importorskip("importlinter")

ROOT = Path(__file__).resolve().parents[1]


def _fresh_python(code: str) -> subprocess.CompletedProcess:
    """Run code in a new interpreter: the graph is read from the files as a user would import
    them, not from this test session's sys.modules (which other tests rearrange)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def test_the_layer_contracts_hold():
    run = _fresh_python(
        "import sys\n"
        "from importlinter.cli import lint_imports\n"
        f"sys.exit(lint_imports(config_filename={str(ROOT / 'pyproject.toml')!r}, "
        "no_cache=True, no_logo=True))")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def _cycles(graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(
                        child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    component.append(m)
                    if m == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


class _Graph:
    """An import graph given as {module: [modules it imports]} (what _cycles reads)."""

    def __init__(self, edges: dict):
        self.modules, self._edges = set(edges), edges

    def find_modules_directly_imported_by(self, module: str) -> list:
        return self._edges[module]


def test_no_module_imports_itself_round_a_loop():
    run = _fresh_python(
        "import grimp, json\n"
        "g = grimp.build_graph('tinygrad_edu', cache_dir=None)\n"
        "print(json.dumps({m: sorted(g.find_modules_directly_imported_by(m)) "
        "for m in g.modules}))")
    assert run.returncode == 0, run.stderr
    edges = json.loads(run.stdout)
    assert "tinygrad_edu.ops.inplace" in edges  # the graph is the package's
    assert _cycles(_Graph(edges)) == []


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    """The check above can fail: two modules that import each other are reported."""
    pkg = tmp_path / "loopy"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from loopy import b\n")
    (pkg / "b.py").write_text("def f():\n    from loopy import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _cycles(grimp.build_graph("loopy", cache_dir=None)) == [["loopy.a", "loopy.b"]]
