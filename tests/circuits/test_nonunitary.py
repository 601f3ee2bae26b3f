"""Mid-circuit measurement, reset and postselection on the torch engine, checked against
qiskit-aer's density-matrix simulator and hand computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit, transpile
from qiskit.quantum_info import DensityMatrix, Kraus
from qiskit_aer import AerSimulator
from scipy.stats import chi2_contingency

import circuits
from circuits import postselect

from .helpers import bound, random_circuit, random_pauli_sum


def _with_midcircuit_ops(rng, n=4):
    qc = random_circuit(n, depth=10, rng=rng, n_params=3).decompose(reps=0)
    out = QuantumCircuit(n, n)
    out.global_phase = qc.global_phase
    for i, inst in enumerate(qc.data):
        out.append(inst.operation, inst.qubits)
        if i % 3 == 1:
            q = int(rng.integers(n))
            out.measure(q, q)
        elif i % 4 == 2:
            out.reset(int(rng.integers(n)))
    return out


_MEASURE_CHANNEL = Kraus([np.diag([1.0, 0.0]), np.diag([0.0, 1.0])]).to_instruction()


def _aer_density(circuit):
    """Aer's exact density matrix, with each mid-circuit measurement replaced by the
    non-selective measurement channel (Aer itself would sample one outcome per shot).
    Final measurements are readout, not part of the state: they are removed first."""
    sim = AerSimulator(method="density_matrix")
    circuit = circuit.remove_final_measurements(inplace=False)
    qc = QuantumCircuit(circuit.num_qubits)
    qc.global_phase = circuit.global_phase
    for inst in circuit.data:
        if inst.operation.name == "measure":
            qc.append(_MEASURE_CHANNEL, [circuit.find_bit(inst.qubits[0]).index])
        else:
            qc.append(inst.operation, [circuit.find_bit(q).index for q in inst.qubits])
    qc.save_density_matrix()
    return DensityMatrix(sim.run(transpile(qc, sim, optimization_level=0)).result().data()["density_matrix"])


@pytest.mark.parametrize("seed", range(6))
def test_expectations_after_midcircuit_measure_and_reset_match_aer(seed):
    rng = np.random.default_rng(400 + seed)
    qc = _with_midcircuit_ops(rng)
    assert any(i.operation.name in ("measure", "reset") for i in qc.data)
    values = rng.uniform(-np.pi, np.pi, size=qc.num_parameters)
    obs = [random_pauli_sum(4, 4, rng) for _ in range(3)]
    got = circuits.expval(qc, obs, torch.tensor(values), dtype="complex128")[0].numpy()
    rho = _aer_density(bound(qc, values))
    want = [rho.expectation_value(o).real for o in obs]
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_reset_returns_qubit_to_zero():
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.reset(0)
    got = circuits.expval(qc, ["IZ", "ZI", "XI"], dtype="complex128")[0].numpy()
    np.testing.assert_allclose(got, [1.0, 0.0, 0.0], atol=1e-12)


def test_sampling_joint_midcircuit_outcomes_matches_aer():
    qc = QuantumCircuit(2, 3)
    qc.ry(1.1, 0)
    qc.measure(0, 0)
    qc.cx(0, 1)
    qc.h(0)
    qc.measure(0, 1)
    qc.measure(1, 2)
    shots = 20000
    ours = circuits.sample(qc, shots=shots, seed=5)[0]
    sim = AerSimulator(seed_simulator=5)
    theirs = sim.run(transpile(qc, sim), shots=shots).result().get_counts()
    keys = sorted(set(ours) | set(theirs))
    # clbit 2 (qubit 1 after the CX) always equals clbit 0 (the first measurement)
    assert all(k[0] == k[2] for k in ours)
    table = np.array([[ours.get(k, 0) for k in keys], [theirs.get(k, 0) for k in keys]])
    assert chi2_contingency(table).pvalue > 1e-4


def test_statevector_refuses_mixed_states():
    qc = QuantumCircuit(1, 1)
    qc.h(0)
    qc.measure(0, 0)
    qc.h(0)
    with pytest.raises(circuits.errors.UnsupportedOperationError, match="mid-circuit"):
        circuits.statevector(qc)


def test_terminal_measurements_keep_statevector_mode():
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    state = circuits.statevector(qc, dtype="complex128")[0].numpy()
    np.testing.assert_allclose(state, [2**-0.5, 0, 0, 2**-0.5], atol=1e-12)


@pytest.mark.parametrize("value", [0, 1])
def test_postselection_renormalises_and_reports_probability(value):
    from circuits.engines.torch_engine import TorchEngine

    qc = QuantumCircuit(2)
    qc.ry(1.0, 0)
    qc.cx(0, 1)
    qc.ry(0.4, 1)
    postselect(qc, 0, value)
    engine = TorchEngine(dtype="complex128")
    sim = engine.simulate(qc, torch.zeros(1, 0))
    p1 = np.sin(0.5) ** 2
    assert abs(sim.success_probability.item() - (p1 if value else 1 - p1)) < 1e-12
    # after postselection qubit 1 is ry(0.4)|value>: <Z1> = (+-)cos(0.4)
    z1 = circuits.expval(qc, "ZI", dtype="complex128")[0, 0].item()
    assert abs(z1 - (-1) ** value * np.cos(0.4)) < 1e-12


def test_postselection_in_density_mode_matches_statevector_mode():
    from circuits.engines.torch_engine import TorchEngine

    qc = QuantumCircuit(3, 1)
    qc.h([0, 1, 2])
    qc.cz(0, 1)
    qc.measure(2, 0)  # forces density-matrix mode
    qc.rx(0.3, 2)
    qc.ry(0.9, 1)
    qc.cx(1, 0)
    postselect(qc, 0, 1)
    engine = TorchEngine(dtype="complex128")
    sim = engine.simulate(qc, torch.zeros(1, 0))
    assert sim.density
    pure = QuantumCircuit(3)  # the same without qubit 2's measured branch
    pure.h([0, 1])
    pure.cz(0, 1)
    pure.ry(0.9, 1)
    pure.cx(1, 0)
    postselect(pure, 0, 1)
    psim = engine.simulate(pure, torch.zeros(1, 0))
    assert abs(sim.success_probability.item() - psim.success_probability.item()) < 1e-12
    for label in ("IZI", "IXI", "IYZ"):
        torch.testing.assert_close(
            circuits.expval(qc, label, dtype="complex128"), circuits.expval(pure, label, dtype="complex128")
        )


def test_teleportation_with_classical_feed_forward():
    """Bell measurement plus conditioned X/Z corrections moves qubit 0's state to qubit 2."""
    theta, phi = 1.1, 0.4
    qc = QuantumCircuit(3, 2)
    qc.ry(theta, 0)
    qc.rz(phi, 0)
    qc.h(1)
    qc.cx(1, 2)
    qc.cx(0, 1)
    qc.h(0)
    qc.measure(0, 0)
    qc.measure(1, 1)
    with qc.if_test((qc.clbits[1], 1)):
        qc.x(2)
    with qc.if_test((qc.clbits[0], 1)):
        qc.z(2)
    got = circuits.expval(qc, ["XII", "YII", "ZII"], dtype="complex128")[0].numpy()
    want = [np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)]
    np.testing.assert_allclose(got, want, atol=1e-12)
    counts = circuits.sample(qc, shots=4000, seed=0)[0]
    assert set(counts) == {"00", "01", "10", "11"}  # Bell outcomes are uniform
    assert all(abs(c - 1000) < 150 for c in counts.values())
