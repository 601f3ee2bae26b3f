"""Random circuits on the torch engine against qiskit.quantum_info: states, expectation
values and sampled distributions, in both precisions, batched and with shared weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.quantum_info import SparsePauliOp, Statevector
from scipy.stats import chisquare

import circuits

from .helpers import random_circuit, random_pauli_sum, reference_state


@pytest.mark.parametrize("seed", range(12))
def test_random_circuit_states_match_qiskit(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    qc = random_circuit(n, depth=30, rng=rng)
    values = rng.uniform(-np.pi, np.pi, size=(3, qc.num_parameters))
    for fusion in (1, 3, None):
        states = circuits.statevector(qc, torch.tensor(values), dtype="complex128", fusion_qubits=fusion)
        for b in range(3):
            np.testing.assert_allclose(states[b].numpy(), reference_state(qc, values[b]), atol=1e-10)


@pytest.mark.parametrize("seed", range(8))
def test_random_expectation_values_match_qiskit(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(2, 8))
    qc = random_circuit(n, depth=25, rng=rng)
    observables = [random_pauli_sum(n, int(rng.integers(1, 6)), rng) for _ in range(3)]
    values = rng.uniform(-np.pi, np.pi, size=(4, qc.num_parameters))
    got = circuits.expval(qc, observables, torch.tensor(values), dtype="complex128")
    assert got.shape == (4, 3)
    for b in range(4):
        state = Statevector(reference_state(qc, values[b]))
        want = [state.expectation_value(o).real for o in observables]
        np.testing.assert_allclose(got[b].numpy(), want, atol=1e-9)


def test_single_precision_is_close_and_default():
    rng = np.random.default_rng(1)
    qc = random_circuit(5, depth=40, rng=rng)
    values = rng.uniform(-np.pi, np.pi, size=(2, qc.num_parameters))
    single = circuits.statevector(qc, torch.tensor(values))
    assert single.dtype == torch.complex64
    np.testing.assert_allclose(single[0].numpy(), reference_state(qc, values[0]), atol=1e-5)


def test_pauli_labels_follow_qiskit_order():
    qc = QuantumCircuit(3)
    qc.x(0)  # qubit 0 is the right-most character
    got = circuits.expval(qc, ["IIZ", "ZII", "IZI"])
    np.testing.assert_allclose(got[0].numpy(), [-1.0, 1.0, 1.0], atol=1e-7)
    state = circuits.statevector(qc)
    assert torch.argmax(state[0].abs()).item() == 1  # |001> has index 1


def test_dict_values_with_shared_weights_match_full_batch():
    rng = np.random.default_rng(4)
    x = ParameterVector("x", 3)
    th = ParameterVector("theta", 6)
    qc = QuantumCircuit(3)
    for q in range(3):
        qc.ry(x[q], q)
    for q in range(3):
        qc.rz(th[q], q)
        qc.rx(th[q + 3], q)
    qc.cx(0, 1)
    qc.cx(1, 2)
    xs = torch.tensor(rng.uniform(size=(5, 3)))
    w = torch.tensor(rng.uniform(size=6), requires_grad=True)
    shared = circuits.expval(qc, ["ZZI", "IXZ"], {"x": xs, "theta": w}, dtype="complex128")
    full_w = w.detach().clone().requires_grad_(True)
    full = circuits.expval(qc, ["ZZI", "IXZ"], {"x": xs, "theta": full_w.expand(5, -1)}, dtype="complex128")
    torch.testing.assert_close(shared, full)
    shared.sum().backward()
    full.sum().backward()
    torch.testing.assert_close(w.grad, full_w.grad)


@pytest.mark.parametrize("seed", range(3))
def test_sampling_matches_exact_distribution(seed):
    rng = np.random.default_rng(200 + seed)
    n = 4
    qc = random_circuit(n, depth=20, rng=rng)
    values = rng.uniform(-np.pi, np.pi, size=qc.num_parameters)
    probs = np.abs(reference_state(qc, values)) ** 2
    shots = 20000
    counts = circuits.sample(qc, torch.tensor(values), shots=shots, seed=seed)[0]
    assert sum(counts.values()) == shots
    observed = np.array([counts.get(format(i, "04b"), 0) for i in range(2**n)])
    keep = probs * shots > 5
    expected = probs[keep] * shots
    stat = chisquare(observed[keep], expected * observed[keep].sum() / expected.sum())
    assert stat.pvalue > 1e-4


def test_sampling_with_measurements_maps_clbits():
    qc = QuantumCircuit(3, 2)
    qc.x(2)
    qc.h(0)
    qc.measure(2, 0)  # clbit 0 <- qubit 2 (always 1)
    qc.measure(0, 1)  # clbit 1 <- qubit 0 (50/50)
    counts = circuits.sample(qc, shots=4000, seed=3)[0]
    assert set(counts) <= {"01", "11"}
    assert abs(counts["01"] - 2000) < 200
    again = circuits.sample(qc, shots=4000, seed=3)[0]
    assert again == counts  # seeded


def test_shot_based_expval_is_unbiased_and_seeded():
    qc = QuantumCircuit(2)
    qc.ry(0.7, 0)
    qc.cx(0, 1)
    obs = SparsePauliOp(["ZZ", "XI", "II"], [0.5, 1.0, 0.25])
    exact = circuits.expval(qc, obs, dtype="complex128")[0, 0].item()
    est = circuits.expval(qc, obs, shots=200000, seed=1)[0, 0].item()
    assert abs(est - exact) < 0.01
    assert est == circuits.expval(qc, obs, shots=200000, seed=1)[0, 0].item()


def test_compiled_program_is_cached():
    from circuits.engines.torch_engine import compile_circuit

    qc = random_circuit(3, depth=10, rng=np.random.default_rng(0))
    assert compile_circuit(qc) is compile_circuit(qc)
    assert compile_circuit(qc) is compile_circuit(qc.copy())  # same structure
    qc2 = qc.copy()
    qc2.h(0)
    assert compile_circuit(qc2) is not compile_circuit(qc)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():
    rng = np.random.default_rng(9)
    qc = random_circuit(6, depth=30, rng=rng)
    values = torch.tensor(rng.uniform(size=(4, qc.num_parameters)))
    cpu = circuits.statevector(qc, values, dtype="complex128")
    gpu = circuits.statevector(qc, values, dtype="complex128", device="cuda")
    torch.testing.assert_close(gpu.cpu(), cpu)
