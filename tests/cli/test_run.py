"""``ketml run`` and the root app: help, counts, expectation values, parameters, errors."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qml.cli import app

try:  # click < 8.2 mixes stderr into output unless told not to
    runner = CliRunner(mix_stderr=False)
except TypeError:
    runner = CliRunner()

BELL = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q -> c;
"""

X_ON_Q0 = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
x q[0];
"""

# qubit 0: RY(pi/3) |0>  -> <Z> = cos(pi/3) = 0.5, <X> = sin(pi/3)
# qubit 1: H |0>         -> <X> = 1, <Z> = 0
PRODUCT = """OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
ry(pi/3) q[0];
h q[1];
"""

PARAMETRISED = """OPENQASM 3.0;
include "stdgates.inc";
input float[64] a;
qubit[1] q;
rx(a) q[0];
"""

MALFORMED = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
cx q[0] q[1];
"""


def _write(tmp_path: Path, text: str, name: str = "circuit.qasm") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_help_lists_commands_and_options():
    result = invoke("--help")
    assert result.exit_code == 0, result.output
    for command in ("engines", "run", "demo"):
        assert command in result.stdout
    result = invoke("run", "--help")
    assert result.exit_code == 0
    for option in ("--shots", "--observable", "--param", "--engine", "--seed", "--json"):
        assert option in result.stdout
    result = invoke("demo", "--help")
    assert result.exit_code == 0
    for option in ("--epochs", "--qubits", "--seed", "--out", "--engine", "--quick"):
        assert option in result.stdout


def test_run_bell_counts(tmp_path):
    path = _write(tmp_path, BELL)
    result = invoke("run", path, "--shots", "500", "--seed", "7", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    counts = data["counts"]
    assert sum(counts.values()) == 500 == data["shots"]
    assert set(counts) == {"00", "11"}
    assert 150 < counts["00"] < 350

    again = json.loads(invoke("run", path, "--shots", "500", "--seed", "7", "--json").stdout)
    assert again["counts"] == counts  # the seed makes sampling reproducible


def test_run_default_shots_and_qiskit_bit_order(tmp_path):
    path = _write(tmp_path, X_ON_Q0)
    result = invoke("run", path)
    assert result.exit_code == 0, result.output
    assert "01" in result.stdout and "1024" in result.stdout
    data = json.loads(invoke("run", path, "--json").stdout)
    assert data["counts"] == {"01": 1024}  # qubit 0 is the right-most character


def test_run_observables_match_hand_computation(tmp_path):
    path = _write(tmp_path, PRODUCT, "product.qasm")
    args = ["-o", "IZ", "-o", "IX", "-o", "XI", "-o", "ZI", "-o", "XZ"]
    result = invoke("run", path, *args, "--json")
    assert result.exit_code == 0, result.output
    values = json.loads(result.stdout)["expectation_values"]
    expected = {
        "IZ": 0.5,
        "IX": math.sin(math.pi / 3),
        "XI": 1.0,
        "ZI": 0.0,
        "XZ": 0.5,
    }
    assert values.keys() == expected.keys()
    for label, value in expected.items():
        assert values[label] == pytest.approx(value, abs=1e-9), label

    text = invoke("run", path, "--observable", "IZ")
    assert text.exit_code == 0
    assert "<IZ>" in text.stdout and "0.5000000000" in text.stdout


def test_run_parameters(tmp_path):
    path = _write(tmp_path, PARAMETRISED, "param.qasm")
    result = invoke("run", path)
    assert result.exit_code == 2
    assert "unbound" in result.stderr and "a" in result.stderr and "--param" in result.stderr

    data = json.loads(invoke("run", path, "--param", "a=pi", "--json").stdout)
    assert data["counts"] == {"1": 1024}
    data = json.loads(invoke("run", path, "-p", "a=pi/2", "-o", "Z", "-o", "Y", "--json").stdout)
    assert data["expectation_values"]["Z"] == pytest.approx(0.0, abs=1e-9)
    assert data["expectation_values"]["Y"] == pytest.approx(-1.0, abs=1e-9)

    bad = invoke("run", path, "--param", "b=1")
    assert bad.exit_code == 2 and "no parameter 'b'" in bad.stderr
    bad = invoke("run", path, "--param", "a=one")
    assert bad.exit_code == 2 and "not a number" in bad.stderr


def test_run_parameter_vector(tmp_path):
    from circuits import qasm
    from circuits.library import angle_encoding

    path = _write(tmp_path, qasm.dumps(angle_encoding(2, "X")), "vector.qasm")
    data = json.loads(invoke("run", path, "--param", "x=pi,0", "--json").stdout)
    assert data["counts"] == {"01": 1024}
    bad = invoke("run", path, "--param", "x=1,2,3")
    assert bad.exit_code == 2 and "2 entries" in bad.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-o", "ZQ"], "bad observable"),
        (["-o", "ZZZ"], "3 letter(s)"),
        (["--shots", "0"], "--shots"),
        (["--engine", "nonsense"], "nonsense"),
        (["--device", "gpu0"], "not a torch device"),
        (["--engine", "aer", "--device", "cuda"], "torch engine only"),
        (["--seed", "-1"], "--seed must be an integer from 0"),
        (["--seed", str(2**64 - 1)], "--seed must be an integer from 0"),
    ],
)
def test_run_bad_options_exit_2(tmp_path, args, needle):
    path = _write(tmp_path, BELL)
    result = invoke("run", path, *args)
    assert result.exit_code == 2, result.output
    assert needle in result.stderr
    assert "Traceback" not in result.output


def test_run_missing_file(tmp_path):
    result = invoke("run", tmp_path / "nope.qasm")
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_run_malformed_qasm_subprocess(tmp_path):
    """The real entry point: one line on stderr with the line number, exit 2, no traceback."""
    path = _write(tmp_path, MALFORMED, "broken.qasm")
    proc = subprocess.run(
        [sys.executable, "-m", "qml.cli", "run", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("ketml: error:")
    assert "broken.qasm" in lines[0] and "line 4" in lines[0]
    assert proc.stdout == ""
