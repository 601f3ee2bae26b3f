"""``circuits`` stays light: its public API (and the IBM helpers) import none of the packages
above it (qml, chemistry, data) or the heavy optional ones; ``circuits.errors`` alone, which
every ``ketml`` command needs, does not even import torch. (Cycles: ``tests/test_imports.py``.)"""

from __future__ import annotations

import subprocess
import sys


def _loaded(imports: str, watch: tuple[str, ...]) -> list[str]:
    code = f"import sys\n{imports}\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & set({watch!r})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return eval(out.stdout.strip())  # a printed list of strings


def test_public_api_imports_nothing_above_circuits():
    imports = (
        "import circuits, circuits.ibm_backends, circuits.ibm_results\n"
        "from circuits import QuantumLayer, engines, expval, qasm, sample, statevector"
    )
    heavy = ("transformers", "pyscf", "lambeq", "qml", "chemistry", "data", "matplotlib")
    assert _loaded(imports, heavy) == []
    assert _loaded(imports, ("torch", "qiskit")) == ["qiskit", "torch"]  # the watch list works


def test_errors_alone_import_neither_torch_nor_qiskit():
    assert _loaded("import circuits.errors", ("torch", "qiskit")) == []
