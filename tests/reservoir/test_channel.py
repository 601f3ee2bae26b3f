"""The exact per-step channel: a CPTP map (trace preserving, Choi matrix PSD), spectrum in the
unit disc with a fixed point, and the same features as Aer's density-matrix simulation and the
torch engine's density-matrix mode of the dynamic circuit (measure + reset)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit.quantum_info import SparsePauliOp

import circuits
from circuits.errors import ConfigurationError, MemoryLimitError
from circuits.jobs import JobRegistry
from qml.reservoir import QuantumReservoir

CASES = [
    dict(n_qubits=3, angle=0.7, measurements=1),
    dict(n_qubits=4, angle=0.4, measurements=2, entangler="ring"),
    dict(n_qubits=4, angle=1.1, measurements=2, data_qubits=2, n_inputs=2, paulis="XZ"),
]


@pytest.mark.parametrize("case", CASES)
def test_step_is_trace_preserving_and_completely_positive(case):
    res = QuantumReservoir(**case)
    for x in (0.0, 0.31, 0.9):
        xin = np.full(res.data_qubits, x)
        T = res.channel.transfer(xin)
        e0 = np.eye(len(T))[0]
        assert np.allclose(T[0], e0, atol=1e-12)  # Tr(Phi(P_b)) = Tr(P_b)
        J = res.channel.choi(xin)
        d = 2**res.channel.memory_qubits
        assert np.allclose(J, J.conj().T, atol=1e-12)
        assert np.linalg.eigvalsh(J).min() > -1e-12
        out_trace = np.einsum("iaja->ij", J.reshape(d, d, d, d))  # Tr_out J = I
        assert np.allclose(out_trace, np.eye(d), atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_spectrum_in_unit_disc_with_a_fixed_point(case):
    res = QuantumReservoir(**case)
    xin = np.full(res.data_qubits, 0.4)
    ev = res.channel.spectrum(xin)
    assert np.abs(ev).max() < 1 + 1e-10 and np.isclose(np.abs(ev).max(), 1.0)
    rho = res.channel.fixed_point(xin)
    assert np.isclose(np.trace(rho).real, 1.0) and np.linalg.eigvalsh((rho + rho.conj().T) / 2).min() > -1e-10
    # iterating the constant-input map from |0..0> converges to that fixed point
    T = res.channel.transfer(xin)
    r = res.channel.initial()
    for _ in range(3000):
        r = T @ r
    from qml.reservoir.channel import pauli_basis

    _, mats = pauli_basis(res.channel.memory_qubits)
    rho_iter = np.einsum("a,aij->ij", r, mats) / 2**res.channel.memory_qubits
    assert np.abs(rho_iter - rho).max() < 1e-6


@pytest.mark.parametrize("case", CASES)
def test_exact_features_equal_aer_and_torch_density_matrices_of_the_dynamic_circuit(case):
    res = QuantumReservoir(**case)
    rng = np.random.default_rng(3)
    series = rng.uniform(size=(3, res.n_inputs))
    feats = res.features(series).numpy()
    obs = [SparsePauliOp(label) for label in res.labels]
    for steps in (1, 3):
        qc = res.circuit(steps, final_measure=False)
        values = res.encode(series[:steps])[0].reshape(1, -1)
        aer = circuits.expval(qc, obs, values, engine="aer").numpy()[0]
        torch_dm = circuits.expval(qc, obs, values, engine="torch", dtype="complex128").numpy()[0]
        assert np.abs(aer - feats[steps - 1]).max() < 1e-10
        assert np.abs(torch_dm - feats[steps - 1]).max() < 1e-10
    # the features depend on the past: a different first input changes step 3
    other = series.copy()
    other[0] = 1 - other[0]
    assert np.abs(res.features(other).numpy()[2] - feats[2]).max() > 1e-3


def test_batched_run_equals_single_runs_and_a_long_series_stays_physical():
    res = QuantumReservoir(5, 0.5, measurements=1, paulis="XYZ")
    x = np.random.default_rng(0).uniform(size=(3, 400, 1))
    batch = res.features(x).numpy()
    for b in range(3):
        assert np.allclose(batch[b], res.features(x[b]).numpy(), atol=1e-12)
    assert np.abs(batch).max() <= 1 + 1e-9  # Pauli expectations of a valid state


def test_shot_records_of_the_dynamic_circuit_match_the_exact_measured_z():
    res = QuantumReservoir(3, 0.6, measurements=2)
    x = np.random.default_rng(1).uniform(size=6)
    shots = 4000
    rec = res.run_dynamic(x, shots=shots, engine="aer", seed=5)
    exact = res.features(x).numpy()[:, res.measured_z()]
    sigma = np.sqrt((1 - exact**2) / shots) + 1e-3
    assert rec.shape == (6, 2) and (np.abs(rec - exact) < 5 * sigma).all()


def test_the_dynamic_circuit_transpiles_for_an_ibm_backend_with_its_measurements():
    pytest.importorskip("qiskit_ibm_runtime")
    res = QuantumReservoir(3, 0.6, measurements=2)
    isa = res.isa_circuit(4, "fake_manila")
    ops = isa.count_ops()
    assert ops["measure"] == 8 and ops["reset"] >= 8  # 2 per step, mid-circuit
    assert set(ops) <= {"measure", "reset", "barrier", "rz", "sx", "x", "cx", "ecr", "id", "delay"}


def test_ibm_fake_backend_runs_the_dynamic_circuit_through_the_job_registry(tmp_path, monkeypatch):
    pytest.importorskip("qiskit_ibm_runtime")
    monkeypatch.setenv("KETML_HOME", str(tmp_path / "ketml"))
    res = QuantumReservoir(3, 0.6, measurements=1)
    x = np.array([0.2, 0.7, 0.4])
    rec = res.run_dynamic(x, shots=2000, engine="ibm", backend="fake_manila", noise=False, seed=3)
    exact = res.features(x).numpy()[:, res.measured_z()]
    assert rec.shape == (3, 1) and np.abs(rec - exact).max() < 0.1
    (job,) = JobRegistry(tmp_path / "ketml").list()  # one sampler job, recorded in the registry
    assert job.kind == "sampler" and job.backend == "fake_manila" and job.status == "done"


def test_shot_noise_has_the_binomial_spread():
    res = QuantumReservoir(3, 0.6)
    x = np.full(2000, 0.3)
    exact = res.features(x).numpy()[-1000:]
    noisy = res.features(x, shots=400, seed=2).numpy()[-1000:]
    z = (noisy - exact) / np.sqrt(np.clip(1 - exact**2, 1e-6, None) / 400)
    assert abs(z.mean()) < 0.1 and 0.85 < z.std() < 1.15
    with pytest.raises(ConfigurationError, match="shots"):
        res.features(x[:5], shots=0)


def test_too_large_reservoir_names_the_size_it_would_need():
    need = r"9-qubit reservoir with 8 memory qubits needs 4\^8 x 4\^9 .*256 GiB"
    with pytest.raises(MemoryLimitError, match=need):
        QuantumReservoir(9, 0.5).channel  # noqa: B018
    assert QuantumReservoir(7, 0.5, measurements=5).channel.dim == 4**2  # a short memory fits
    assert torch.get_default_dtype() == torch.float32  # nothing global was changed
