"""The parsing every command shares: numbers, parameters, observables, circuit files."""

from __future__ import annotations

import json
import math

import pytest

from qml.cli.common import CliError, check_observable, load_circuit, number, parameter_values

from .test_run import PARAMETRISED, invoke

PY_CIRCUIT = """
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

t = Parameter("t")
circuit = QuantumCircuit(2)
circuit.rx(t, 0)
circuit.cx(0, 1)
observables = ["ZZ", "IZ"]
parameters = {"t": 3.141592653589793}
"""


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.5", 0.5),
        (" -1e-3 ", -1e-3),
        ("pi/2", math.pi / 2),
        ("2*PI/3", 2 * math.pi / 3),
        ("tau", math.tau),
        ("2**-1", 0.5),
        ("-e", -math.e),
    ],
)
def test_number(text, value):
    assert number(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize(
    "text", ["one", "1/0", "(-8)**(1/3)", "pi(", "__import__('os')", "True", "10.0**400"]
)
def test_number_rejects(text):
    with pytest.raises(CliError, match="is not a"):
        number(text)


def test_parameter_values_checks_names_and_lengths(tmp_path):
    from qiskit.circuit import Parameter, ParameterVector, QuantumCircuit

    circuit = QuantumCircuit(2)
    circuit.rx(Parameter("a"), 0)
    for i, p in enumerate(ParameterVector("w", 2)):
        circuit.ry(p, i)
    assert parameter_values(circuit, ["a=pi", "w=1,2"]) == {"a": math.pi, "w": [1.0, 2.0]}
    cases = [
        (["a=1"], "unbound"),
        (["a=1", "w=1"], "2 entries"),
        (["b=1", "w=1,2"], "no parameter"),
        (["a=1", "a=2", "w=1,2"], "twice"),
        (["a", "w=1,2"], "name=value"),
    ]
    for specs, needle in cases:
        with pytest.raises(CliError, match=needle):
            parameter_values(circuit, specs)


def test_check_observable():
    assert check_observable(" zzi ", 3) == "ZZI"
    with pytest.raises(CliError, match="bad observable"):
        check_observable("ZA", 2)
    with pytest.raises(CliError, match="1 letter"):
        check_observable("Z", 2)


def test_load_circuit_from_python_file(tmp_path):
    path = tmp_path / "circ.py"
    path.write_text(PY_CIRCUIT)
    loaded = load_circuit(path)
    assert loaded.circuit.num_qubits == 2
    assert loaded.labels == ["ZZ", "IZ"]
    assert loaded.parameter_values == {"t": math.pi}
    # --observable and --param replace the file's
    loaded = load_circuit(path, ["xx"], ["t=0"])
    assert loaded.labels == ["XX"] and len(loaded.observables) == 1
    assert loaded.parameter_values == {"t": 0.0}


def test_load_circuit_errors(tmp_path):
    with pytest.raises(CliError, match="no such file"):
        load_circuit(tmp_path / "missing.py")
    with pytest.raises(CliError, match="no such file"):
        load_circuit(tmp_path / "missing.qasm")
    (tmp_path / "bad.py").write_text("raise RuntimeError('oops')\n")
    with pytest.raises(CliError, match="bad.py failed: RuntimeError: oops"):
        load_circuit(tmp_path / "bad.py")
    (tmp_path / "none.py").write_text("x = 1\n")
    with pytest.raises(CliError, match="module-level 'circuit'"):
        load_circuit(tmp_path / "none.py")
    with pytest.raises(CliError, match="is a folder"):
        load_circuit(tmp_path)


def test_run_takes_a_python_circuit_file(tmp_path):
    path = tmp_path / "circ.py"
    path.write_text(PY_CIRCUIT)
    result = invoke("run", path, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # RX(pi) on qubit 0 then CX: |11>, so <ZZ> = 1 and <IZ> = -1
    assert data["expectation_values"] == pytest.approx({"ZZ": 1.0, "IZ": -1.0}, abs=1e-9)
    assert data["parameters"] == {"t": math.pi}
    counts = json.loads(invoke("run", path, "-p", "t=0", "-o", "ZI", "--json").stdout)
    assert counts["expectation_values"]["ZI"] == pytest.approx(1.0, abs=1e-9)


def test_run_qasm_still_parameterised(tmp_path):
    path = tmp_path / "p.qasm"
    path.write_text(PARAMETRISED)
    data = json.loads(invoke("run", path, "-p", "a=pi", "--json").stdout)
    assert data["counts"] == {"1": 1024}
