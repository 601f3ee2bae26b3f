"""The root ``ketml`` app: every command group is listed, ``--version``, ``python -m qml.cli``."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

from .test_run import invoke

COMMANDS = ("engines", "run", "train", "evaluate", "demo", "datasets", "ibm")


def test_help_lists_every_command_and_group(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    result = invoke("--help")
    assert result.exit_code == 0, result.output
    listed = {
        line.split()[1]
        for line in result.stdout.splitlines()
        if line.startswith("│ ") and len(line.split()) > 1 and not line.split()[1].startswith("-")
    }
    assert set(COMMANDS) <= listed
    for ep in entry_points(group="ketml.commands"):
        assert ep.name in listed
    assert "unavailable" not in result.stdout  # every registered group loaded
    assert invoke("-h").stdout == result.stdout


def test_chem_comes_from_its_entry_point():
    names = {ep.name: ep.value for ep in entry_points(group="ketml.commands")}
    assert names.get("chem") == "chemistry.cli:app"
    result = invoke("chem", "--help")
    assert result.exit_code == 0, result.output
    for verb in ("molecule", "vqe", "gqe", "auger"):
        assert verb in result.stdout


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("ketml ")


def test_python_dash_m():
    proc = subprocess.run(
        [sys.executable, "-m", "qml.cli", "--version"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ketml ")


def test_help_does_not_import_torch():
    code = (
        "import sys\nfrom qml.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'qiskit', 'pyscf') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
