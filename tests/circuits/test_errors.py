"""Bad input gets a clear exception that names the problem."""

from __future__ import annotations

import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import Instruction, Parameter, ParameterVector
from qiskit.quantum_info import SparsePauliOp

import circuits
from circuits.errors import (
    EngineUnavailableError,
    KetmlError,
    MemoryLimitError,
    ObservableError,
    ParameterError,
    UnsupportedOperationError,
)


@pytest.fixture
def param_circuit():
    x = ParameterVector("x", 2)
    qc = QuantumCircuit(2)
    qc.rx(x[0], 0)
    qc.ry(x[1], 1)
    return qc


def test_wrong_parameter_count(param_circuit):
    with pytest.raises(ParameterError, match="2 parameter\\(s\\) but 3"):
        circuits.expval(param_circuit, "ZZ", torch.zeros(4, 3))


def test_wrong_parameter_shape(param_circuit):
    with pytest.raises(ParameterError, match="shape"):
        circuits.expval(param_circuit, "ZZ", torch.zeros(2, 2, 2))


def test_unbound_parameters(param_circuit):
    with pytest.raises(ParameterError, match="unbound parameter.*x\\[0\\]"):
        circuits.statevector(param_circuit)


def test_unknown_and_missing_dict_keys(param_circuit):
    with pytest.raises(ParameterError, match="unknown parameter name"):
        circuits.expval(param_circuit, "ZZ", {"x": [0.1, 0.2], "y": [1.0]})
    with pytest.raises(ParameterError, match="vector 'x' must have shape"):
        circuits.expval(param_circuit, "ZZ", {"x": [0.1, 0.2, 0.3]})


def test_complex_parameter_values(param_circuit):
    with pytest.raises(ParameterError, match="complex"):
        circuits.expval(param_circuit, "ZZ", torch.zeros(1, 2, dtype=torch.complex64))


def test_batch_sizes_must_agree():
    a, b = Parameter("a"), Parameter("b")
    qc = QuantumCircuit(1)
    qc.rx(a, 0)
    qc.ry(b, 0)
    with pytest.raises(ParameterError, match="batch sizes disagree"):
        circuits.expval(qc, "Z", {"a": torch.zeros(3), "b": torch.zeros(2)})


def test_bad_observables(param_circuit):
    values = torch.zeros(1, 2)
    with pytest.raises(ObservableError, match="acts on 3 qubit"):
        circuits.expval(param_circuit, "ZZZ", values)
    with pytest.raises(ObservableError, match="bad Pauli label"):
        circuits.expval(param_circuit, "ZQ", values)
    with pytest.raises(ObservableError, match="not Hermitian"):
        circuits.expval(param_circuit, SparsePauliOp(["ZZ"], [1j]), values)
    with pytest.raises(ObservableError, match="no observables"):
        circuits.expval(param_circuit, [], values)


def test_unsupported_instruction():
    qc = QuantumCircuit(2)
    qc.append(Instruction("mystery_box", 2, 0, []), [0, 1])
    with pytest.raises(UnsupportedOperationError, match="mystery_box"):
        circuits.statevector(qc)


def test_classical_loops_are_rejected_with_a_pointer():
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    with qc.while_loop((qc.clbits[0], 1)):
        qc.x(0)
        qc.measure(0, 0)
    with pytest.raises(UnsupportedOperationError, match="engine='aer'"):
        circuits.expval(qc, "Z")


def test_too_many_qubits_for_memory():
    qc = QuantumCircuit(40)
    qc.h(0)
    with pytest.raises(MemoryLimitError, match="needs about .* GiB"):
        circuits.statevector(qc)


def test_memory_limit_option_and_adjoint_hint():
    x = ParameterVector("x", 10)
    qc = QuantumCircuit(10)
    for i in range(10):
        qc.rx(x[i], i)
        qc.cx(i, (i + 1) % 10)
    values = torch.zeros(64, 10, requires_grad=True)
    with pytest.raises(MemoryLimitError, match="adjoint"):
        circuits.expval(qc, "Z" * 10, values, max_memory=5 * 64 * 1024 * 8)


def test_bad_engine_options():
    qc = QuantumCircuit(1)
    with pytest.raises(EngineUnavailableError, match="unknown engine 'nope'"):
        circuits.statevector(qc, engine="nope")
    with pytest.raises(KetmlError, match="dtype"):
        circuits.statevector(qc, dtype="float16")
    with pytest.raises(KetmlError, match="diff_method"):
        circuits.statevector(qc, diff_method="magic")
    with pytest.raises(KetmlError, match="shots must be a positive integer"):
        circuits.sample(qc, shots=0)
    with pytest.raises(KetmlError, match="QuantumCircuit"):
        circuits.statevector("OPENQASM 2.0;")
    with pytest.raises(KetmlError, match=r"engine 'torch' takes no option 'shared'; its options: device"):
        circuits.expval(qc, "Z", shared=True)  # a misspelt or misplaced keyword, not a raw TypeError


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_cuda_without_gpu_says_so():
    with pytest.raises(EngineUnavailableError, match="no CUDA GPU"):
        circuits.statevector(QuantumCircuit(1), device="cuda")


def test_adjoint_refuses_non_unitary_circuits():
    t = Parameter("t")
    qc = QuantumCircuit(1, 1)
    qc.rx(t, 0)
    qc.measure(0, 0)
    qc.rx(t, 0)
    v = torch.tensor([[0.2]], requires_grad=True)
    with pytest.raises(UnsupportedOperationError, match="backprop"):
        circuits.expval(qc, "Z", v, diff_method="adjoint")


def test_engines_available_reports_torch_ok():
    status = circuits.engines.available()
    assert status["torch"] == "ok"
    assert all(isinstance(v, str) and v for v in status.values())


def test_errors_are_ketml_errors_and_builtin_types():
    assert issubclass(ParameterError, ValueError)
    assert issubclass(MemoryLimitError, MemoryError)
    assert issubclass(UnsupportedOperationError, KetmlError)


def test_errors_raised_on_purpose_are_ketml_errors_of_the_fitting_class():
    """Each is a KetmlError subclass that is still the built-in type callers catch."""
    from circuits import engines, library, qasm
    from circuits.errors import ConfigurationError, UnknownNameError

    cases = [
        (lambda: library.angle_encoding(0), ConfigurationError, ValueError),
        (lambda: library.angle_encoding(2, rotation="W"), ConfigurationError, ValueError),
        (
            lambda: library.strongly_entangling_layers(2, 1, weights=ParameterVector("w", 5)),
            ParameterError,
            ValueError,
        ),
        (lambda: library.amplitude_encoding(1, amplitudes=[0.0, 0.0]), ParameterError, ValueError),
        (lambda: library.sim_circuit(20, 2), ConfigurationError, ValueError),
        (lambda: circuits.Postselect(2), ConfigurationError, ValueError),
        (lambda: engines.get("nope"), UnknownNameError, KeyError),
        (lambda: engines.get("torch", dtype="float16"), ConfigurationError, ValueError),
        (lambda: circuits.sample(QuantumCircuit(1), shots=0), ConfigurationError, ValueError),
        (lambda: qasm.dumps(QuantumCircuit(1), 4), ConfigurationError, ValueError),
    ]
    for fn, cls, builtin in cases:
        with pytest.raises(cls) as info:
            fn()
        assert isinstance(info.value, KetmlError) and isinstance(info.value, builtin), info.value
    with pytest.raises(EngineUnavailableError):  # unknown engines stay "unavailable" too
        engines.get("nope")
