"""The circuits package imports in one direction: no module imports, at any level (function-level
imports included), a module that imports it back, and circuits never imports the packages above
it or the heavy optional ones."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import circuits

ROOT = Path(circuits.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for t in targets:
                while t and t not in modules:  # `import circuits.x.y` names module circuits.x.y
                    t = t.rpartition(".")[0]
                if t and t != name:
                    graph[name].add(t)
    return graph


def test_graph_sees_the_imports():
    g = _graph()
    assert "circuits.evaluate" in g["circuits.api"] and "circuits.scaleout" in g["circuits.api"]
    assert "circuits.qasm.source" in g["circuits.qasm.qasm2"]
    assert "circuits.engines" in g["circuits.engines.shift"]


def test_no_import_cycles_in_circuits():
    g = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(g[m]):
            if state.get(n) == 1:
                cycle = stack[stack.index(n):] + [n]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m)


def test_importing_circuits_stays_light():
    code = (
        "import sys, circuits, circuits.ibm_backends, circuits.ibm_results\n"
        "heavy = ('transformers', 'pyscf', 'lambeq', 'qml', 'chemistry', 'data', 'matplotlib')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT.parent)
    assert out.stdout.strip() == "[]"
