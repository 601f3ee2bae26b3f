"""chemistry.cli (``ketml chem``, run through the root ``ketml`` app and its entry point): molecule
summary, a short GQE run, an FCI Auger spectrum of HF, and one-line errors for bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qml.cli import app, load_commands

pytest.importorskip("pyscf")

HF_XYZ = "H 0 0 0; F 0 0 0.917"
runner = CliRunner()


def invoke(*args: str):
    """``ketml <args>`` on the real root app, with the ``ketml.commands`` entry points loaded."""
    load_commands()
    return runner.invoke(app, [str(a) for a in args])


def test_chem_is_registered_by_its_entry_point():
    from importlib.metadata import entry_points

    import chemistry.cli

    (ep,) = [ep for ep in entry_points(group="ketml.commands") if ep.name == "chem"]
    assert ep.value == "chemistry.cli:app" and ep.load() is chemistry.cli.app
    result = invoke("--help")
    assert result.exit_code == 0 and "chem" in result.stdout
    result = invoke("chem", "--help")
    assert result.exit_code == 0
    for verb in ("molecule", "gqe", "vqe", "auger"):
        assert verb in result.stdout


def test_molecule_prints_the_pyscf_energies():
    result = invoke("chem", "molecule", "-m", "H2")
    assert result.exit_code == 0, result.output
    assert "4 qubits" in result.stdout and "E_fci" in result.stdout and "-1.137270" in result.stdout


def test_gqe_writes_its_result_and_checkpoint(tmp_path):
    result = invoke(
        "chem",
        "gqe",
        "-m",
        "H2",
        "--iters",
        "3",
        "--samples",
        "5",
        "--ngates",
        "4",
        "--no-progress",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "result.json").read_text())
    assert data["energy"] <= data["energies"]["hf"] + 1e-9  # never worse than the start state
    assert data["gate_counts"]["total"] >= data["gate_counts"]["cx"]
    assert (tmp_path / "checkpoint.pt").exists()


def test_auger_fci_writes_spectrum_and_plot(tmp_path):
    result = invoke("chem", "auger", "-m", HF_XYZ, "--method", "fci", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "spectrum.json").read_text())
    assert data["peaks"] and all(600 < p["kinetic_energy_ev"] < 700 for p in data["peaks"])
    assert max(p["relative_height"] for p in data["peaks"]) == pytest.approx(1.0)
    # each line names its dication state by spatial holes and spin, not by a determinant
    names = [line["final_state"] for line in data["lines"]]
    assert names and all(name.startswith("holes ") and " S=" in name for name in names)
    assert (tmp_path / "spectrum.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "args,message",
    [
        (("molecule", "-m", "Xx2"), "unknown molecule"),
        (("molecule", "-m", "H2", "--active-space", "two"), "n_electrons,n_orbitals"),
        (("gqe", "-m", "H2", "--pool", "random"), "--pool"),
        (("gqe", "-m", "H2", "--loss", "ppo", "--iters", "1"), "--loss must be one of grpo, exp"),
        (("auger", "-m", "H2O", "--method", "vqe", "--ip-manifold", "5h"), "unknown IP manifold '5h'"),
        (("auger", "-m", "H2O", "--method", "ccsd"), "--method"),
    ],
)
def test_bad_input_is_one_line(args, message):
    result = invoke("chem", *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
