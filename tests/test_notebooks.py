"""Every notebook in examples/ runs top to bottom (small settings: KETML_QUICK=1), and is
committed with its outputs so that a reader browsing the repository sees results and plots."""

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
    "10_vision_hybrid_image_classification.ipynb": "engine pennylane: max |logits - torch engine logits| = ",
    "20_sequence_models.ipynb": "max |p_fast - p_circuit| = ",
    "02_engines.ipynb": "circuits on the cluster, max |difference| from local",
    "03_ibm_quantum.ipynb": "Bell on fake_manila: P(00)+P(11) = ",
    "30_chemistry_gqe_auger_water.ipynb": "FCI/OCA peaks (eV, relative height):",
    "40_reservoir_onion_qrc.ipynb": "exact channel vs Aer density matrix: max |Δ| = ",
    "60_generators_ketgpt.ipynb": "verify: held-out real called real = ",
    "61_llm_circuit_generator.ipynb": "grammar-constrained: valid = 100.0 %",
    "70_federated_privacy.ipynb": "shallow angle encoding: attacker's MSE = ",
    "50_qnlp_sentences_to_circuits.ipynb": "functor vs lambeq Diagram.eval: max |diff| = ",
}


#: datasets a notebook reads (it is skipped, saying why, where they are neither in the data folder
#: nor in the shared verified copy: tests download nothing)
NEEDS_DATA = {"50_qnlp_sentences_to_circuits.ipynb": ("lambeq-mc",)}


def _missing_data(name: str) -> list[str]:
    from data.registry import shared_copy, status

    return [d for d in NEEDS_DATA.get(name, ()) if not status(d).present and shared_copy(d) is None]


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
    if missing := _missing_data(path.name):
        pytest.skip(f"{path.name} reads {', '.join(missing)}, absent here (see `ketml datasets`)")
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


def test_notebook_names_are_unique_and_numbered_by_family():
    """``NN_name.ipynb``: 0x the circuit core, 1x vision, 2x sequence/RL, 3x chemistry, ..."""
    numbers = [p.name.split("_", 1)[0] for p in NOTEBOOKS]
    assert all(n.isdigit() and len(n) == 2 for n in numbers), numbers
    assert len(set(numbers)) == len(numbers), f"two notebooks share a number: {sorted(numbers)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_with_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code" and c.source.strip()]
    assert any(c.get("outputs") for c in code), f"{path.name} is stored without any output"
    text = "\n".join(_text(o) for c in code for o in c.get("outputs", []))
    assert EXPECTED_OUTPUT[path.name] in text, f"{path.name}'s stored outputs lack its headline"
    plots = [c for c in code if "plt." in c.source or ".plot(" in c.source]
    images = [o for c in plots for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert not plots or images, f"{path.name} draws plots but is stored without any image"
