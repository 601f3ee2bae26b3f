"""Every supported gate's matrix, symbolic and bound, against qiskit.quantum_info.Operator."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter, ParameterVector
from qiskit.circuit.library import (
    CXGate,
    HGate,
    PauliEvolutionGate,
    RXGate,
    RYGate,
    RZZGate,
    UnitaryGate,
    XXMinusYYGate,
)
from qiskit.quantum_info import Operator, SparsePauliOp, random_unitary

import circuits

from .helpers import GATES, STANDARD


def engine_unitary(circuit: QuantumCircuit, values=None) -> np.ndarray:
    """The circuit's unitary computed by the torch engine, column by column."""
    n = circuit.num_qubits
    cols = []
    for j in range(2**n):
        prep = QuantumCircuit(n)
        for q in range(n):
            if (j >> q) & 1:
                prep.x(q)
        full = prep.compose(circuit)
        sv = circuits.statevector(full, values, dtype="complex128")
        cols.append(sv[0].numpy())
    return np.array(cols).T


def _random_params(gate, rng):
    return [float(v) for v in rng.uniform(-np.pi, np.pi, len(gate.params))]


@pytest.mark.parametrize("name", GATES)
def test_bound_gate_matrix(name):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    template = STANDARD[name]
    gate = template.base_class(*_random_params(template, rng))
    qc = QuantumCircuit(gate.num_qubits)
    qc.append(gate, range(gate.num_qubits))
    np.testing.assert_allclose(engine_unitary(qc), Operator(qc).data, atol=1e-10)


@pytest.mark.parametrize("name", [g for g in GATES if STANDARD[g].params])
def test_symbolic_gate_matrix(name):
    rng = np.random.default_rng(7)
    template = STANDARD[name]
    theta = ParameterVector("t", len(template.params))
    gate = template.base_class(*theta)
    # reversed qubit order exercises the little-endian bookkeeping
    qc = QuantumCircuit(gate.num_qubits)
    qc.append(gate, list(reversed(range(gate.num_qubits))))
    values = rng.uniform(-np.pi, np.pi, len(theta))
    expected = Operator(qc.assign_parameters(values)).data
    np.testing.assert_allclose(engine_unitary(qc, torch.tensor(values)), expected, atol=1e-10)


@pytest.mark.parametrize("ctrl_state", [0, 1, 2, 3])
def test_multi_controlled_parametric_gate(ctrl_state):
    t = Parameter("t")
    qc = QuantumCircuit(4)
    qc.append(RYGate(t).control(2, ctrl_state=ctrl_state), [2, 0, 3])
    qc.append(RZZGate(t * 0.7).control(1, ctrl_state=ctrl_state % 2), [1, 3, 0])
    value = torch.tensor([0.83])
    expected = Operator(qc.assign_parameters([0.83])).data
    np.testing.assert_allclose(engine_unitary(qc, value), expected, atol=1e-10)


def test_parameter_expressions_are_evaluated_in_torch():
    x = ParameterVector("x", 3)
    qc = QuantumCircuit(2)
    qc.rx(2 * x[0], 0)
    qc.ry(x[0] * x[1], 1)
    qc.rz(np.pi - x[1], 0)
    qc.rx(x[2].sin() ** 2 + x[0].exp() - x[1].arctan(), 1)
    qc.append(XXMinusYYGate(x[2] / 3, x[1] + 0.5), [0, 1])
    qc.global_phase = x[2] * 1.3
    values = np.array([0.4, -1.1, 2.2])
    expected = Operator(qc.assign_parameters(values)).data
    np.testing.assert_allclose(engine_unitary(qc, torch.tensor(values)), expected, atol=1e-10)


def test_unitary_gate_and_pauli_evolution():
    rng = np.random.default_rng(3)
    t = Parameter("t")
    qc = QuantumCircuit(3)
    qc.append(UnitaryGate(random_unitary(4, seed=11)), [2, 0])
    qc.append(PauliEvolutionGate(SparsePauliOp(["XYZ", "ZZI", "IXX"], [0.3, -0.7, 1.1]), t), [0, 1, 2])
    qc.append(UnitaryGate(random_unitary(8, seed=12)), [1, 2, 0])
    value = rng.uniform()
    expected = Operator(qc.assign_parameters([value])).data  # scipy's sparse expm: ~1e-9
    np.testing.assert_allclose(engine_unitary(qc, torch.tensor([value])), expected, atol=1e-7)


def test_composite_gate_from_subcircuit_and_barriers():
    inner = QuantumCircuit(2, name="block")
    a = Parameter("a")
    inner.h(0)
    inner.cx(0, 1)
    inner.rz(a, 1)
    qc = QuantumCircuit(3)
    qc.append(inner.to_gate(), [2, 1])
    qc.barrier()
    qc.append(inner.to_instruction(), [0, 2])
    qc.id(1)
    expected = Operator(qc.assign_parameters([0.3])).data
    np.testing.assert_allclose(engine_unitary(qc, torch.tensor([0.3])), expected, atol=1e-10)


def test_large_multi_controlled_x_through_definition():
    from qiskit.circuit.library import MCXGate

    qc = QuantumCircuit(12)
    qc.h(range(11))
    qc.append(MCXGate(11), range(12))
    from qiskit.quantum_info import Statevector

    np.testing.assert_allclose(
        circuits.statevector(qc, dtype="complex128")[0].numpy(), Statevector(qc).data, atol=1e-10
    )


def test_fusion_sizes_agree():
    rng = np.random.default_rng(5)
    x = ParameterVector("x", 4)
    qc = QuantumCircuit(6)
    for layer in range(3):
        for q in range(6):
            qc.append(RXGate(x[(q + layer) % 4]), [q])
            qc.append(HGate(), [q])
        for q in range(5):
            qc.append(CXGate(), [q, (q + layer + 1) % 6])
    values = torch.tensor(rng.uniform(size=(3, 4)))
    states = [circuits.statevector(qc, values, dtype="complex128", fusion_qubits=k) for k in (1, 2, 3, 5, 6)]
    for s in states[1:]:
        torch.testing.assert_close(s, states[0], atol=1e-12, rtol=0)
