"""Every notebook in examples/ runs top to bottom (small settings: KETML_QUICK=1)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
ipykernel_kernelspec = pytest.importorskip("ipykernel.kernelspec")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
KERNEL = "ketml-tests"

# one output each notebook must show (a value it computes), keyed by file name
EXPECTED_OUTPUT = {
    "01_quickstart.ipynb": "Bell <ZZ> = 1.0000",
    "01_hybrid_image_classification.ipynb": "engine pennylane: max |logits - torch engine logits| = ",
    "02_quantum_sequence_models.ipynb": "max |p_fast - p_circuit| = ",
    "02_engines.ipynb": "circuits on the cluster, max |difference| from local",
    "04_ibm_quantum.ipynb": "Bell on fake_manila: P(00)+P(11) = ",
    "03_gqe_auger_water.ipynb": "FCI/OCA peaks (eV, relative height):",
}


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """A kernelspec that runs this interpreter, found before any user-installed 'python3'."""
    prefix = tmp_path_factory.mktemp("jupyter")
    ipykernel_kernelspec.install(kernel_name=KERNEL, prefix=str(prefix))
    spec = json.loads((prefix / "share" / "jupyter" / "kernels" / KERNEL / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    return str(prefix / "share" / "jupyter")


def _text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    return output.get("data", {}).get("text/plain", "")


def test_examples_exist():
    assert NOTEBOOKS, f"no notebooks in {EXAMPLES}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, kernel_env, monkeypatch, tmp_path):
    monkeypatch.setenv("JUPYTER_PATH", kernel_env)
    monkeypatch.setenv("KETML_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=KERNEL,
        timeout=300,
        allow_errors=False,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError if a cell fails

    errors = [
        o
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
    text = "\n".join(_text(o) for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []))
    expected = EXPECTED_OUTPUT.get(path.name)
    assert expected is not None, f"add the output {path.name} must show to EXPECTED_OUTPUT"
    assert expected in text
