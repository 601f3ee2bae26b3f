"""The PennyLane engine: agreement with Qiskit and the torch engine, wire order, gradients, devices."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit import ClassicalRegister, QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp, Statevector

import circuits
from circuits import engines
from circuits.errors import EngineUnavailableError, KetmlError, UnsupportedOperationError

from ..circuits.helpers import bound, random_circuit, random_pauli_sum, reference_state

pnl = pytest.importorskip("pennylane")

CASES = [(1, 0), (2, 1), (3, 2), (4, 3)]


@pytest.fixture(scope="module")
def engine():
    return engines.get("pennylane")


@pytest.fixture(scope="module")
def lightning():
    return engines.get("pennylane", pennylane_device="lightning.qubit", diff_method="adjoint")


def _case(n, seed, batch=3, dtype=torch.float64):
    rng = np.random.default_rng(seed)
    qc = random_circuit(n, 14, rng, max_gate_qubits=min(n, 3))
    obs = [random_pauli_sum(n, 4, rng), random_pauli_sum(n, 1, rng)]
    values = torch.tensor(rng.normal(size=(batch, qc.num_parameters)), dtype=dtype)
    return qc, obs, values


def _torch_expval(qc, obs, values):
    return circuits.expval(qc, obs, values, engine="torch", dtype="complex128")


def _grad(fn, values):
    v = values.clone().requires_grad_(True)
    out = fn(v)
    (g,) = torch.autograd.grad((out * torch.linspace(0.5, 1.5, out.shape[1], dtype=out.dtype)).sum(), v)
    return out.detach(), g


def test_availability():
    assert engines.available()["pennylane"] == "ok"


@pytest.mark.parametrize("n,seed", CASES)
def test_statevector_matches_qiskit_with_global_phase(engine, n, seed):
    qc, _, values = _case(n, seed)
    state = circuits.statevector(qc, values, engine=engine)
    ref = np.stack([reference_state(qc, v) for v in values.numpy()])
    assert state.dtype == torch.complex128 and state.shape == ref.shape
    np.testing.assert_allclose(state.numpy(), ref, rtol=0, atol=1e-10)


@pytest.mark.parametrize("n,seed", CASES)
def test_expval_matches_qiskit_and_torch(engine, n, seed):
    qc, obs, values = _case(n, seed)
    out = circuits.expval(qc, obs, values, engine=engine)
    assert out.dtype == torch.float64 and out.shape == (3, 2)
    ref = np.array(
        [[Statevector(bound(qc, v)).expectation_value(o).real for o in obs] for v in values.numpy()]
    )
    np.testing.assert_allclose(out.numpy(), ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(out.numpy(), _torch_expval(qc, obs, values).numpy(), rtol=0, atol=1e-10)


def test_single_precision_values_give_float32(engine):
    qc, obs, values = _case(3, 5, dtype=torch.float32)
    out = circuits.expval(qc, obs, values, engine=engine)
    state = circuits.statevector(qc, values, engine=engine)
    assert out.dtype == torch.float32 and state.dtype == torch.complex64
    np.testing.assert_allclose(
        out.double().numpy(), _torch_expval(qc, obs, values.double()).numpy(), atol=1e-4
    )


@pytest.mark.parametrize("n,seed", [(2, 11), (3, 12)])
def test_gradient_matches_torch_engine(engine, n, seed):
    qc, obs, values = _case(n, seed)
    out, grad = _grad(lambda v: circuits.expval(qc, obs, v, engine=engine), values)
    ref, ref_grad = _grad(lambda v: _torch_expval(qc, obs, v), values)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=0, atol=1e-10)
    assert grad.abs().max() > 1e-3
    np.testing.assert_allclose(grad.numpy(), ref_grad.numpy(), rtol=0, atol=1e-9)


def test_parameter_shift_diff_method_expands_the_broadcast(engine):
    """PennyLane's parameter-shift cannot differentiate broadcast tapes; the engine must still work."""
    qc, obs, values = _case(3, 13)
    shift = engines.get("pennylane", diff_method="parameter-shift")
    out, grad = _grad(lambda v: circuits.expval(qc, obs, v, engine=shift), values)
    ref, ref_grad = _grad(lambda v: _torch_expval(qc, obs, v), values)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(grad.numpy(), ref_grad.numpy(), rtol=0, atol=1e-9)


def test_lightning_adjoint_matches_torch_in_double(lightning):
    qc, obs, values = _case(3, 14)
    out, grad = _grad(lambda v: circuits.expval(qc, obs, v, engine=lightning), values)
    ref, ref_grad = _grad(lambda v: _torch_expval(qc, obs, v), values)
    # 1e-12 catches results rounded through float32 (PennyLane's torch interface does that to lightning's)
    assert out.dtype == torch.float64
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(grad.numpy(), ref_grad.numpy(), rtol=0, atol=1e-9)
    state = circuits.statevector(qc, values, engine=lightning)
    np.testing.assert_allclose(
        state.numpy(), np.stack([reference_state(qc, v) for v in values.numpy()]), rtol=0, atol=1e-10
    )


def test_default_qubit_runs_a_batch_as_one_broadcast_execution(engine):
    qc, obs, values = _case(3, 15, batch=6)
    circuits.expval(qc, obs, values, engine=engine)  # compile and cache the device
    dev = engine._devices[3]
    with pnl.Tracker(dev) as tracker:
        circuits.expval(qc, obs, values, engine=engine)
    assert tracker.totals["batches"] == 1 and tracker.totals["simulations"] == 1


def test_batch_of_one_and_circuits_without_parameters(engine):
    qc, obs, values = _case(2, 16, batch=1)
    out = circuits.expval(qc, obs, values, engine=engine)
    assert out.shape == (1, 2)
    np.testing.assert_allclose(out.numpy(), _torch_expval(qc, obs, values).numpy(), rtol=0, atol=1e-10)
    fixed = QuantumCircuit(2)
    fixed.h(0)
    fixed.cx(0, 1)
    fixed.rz(0.4, 1)
    fixed.sxdg(0)
    for vals in (None, torch.zeros(3, 0, dtype=torch.float64)):
        out = circuits.expval(fixed, ["ZZ", "XY", "II"], vals, engine=engine)
        ref = circuits.expval(fixed, ["ZZ", "XY", "II"], vals, engine="torch", dtype="complex128")
        assert out.shape == ref.shape
        np.testing.assert_allclose(out.double().numpy(), ref.double().numpy(), atol=1e-6)
        state = circuits.statevector(fixed, vals, engine=engine)
        assert state.shape == (ref.shape[0], 4)
        np.testing.assert_allclose(state[-1].numpy(), Statevector(fixed).data, atol=1e-6)


def test_identity_terms(engine, lightning):
    theta = Parameter("t")
    qc = QuantumCircuit(2)
    qc.ry(theta, 0)
    obs = [SparsePauliOp(["II"], [2.5]), SparsePauliOp(["IZ", "II", "XI"], [1.0, -0.5, 3.0])]
    values = torch.tensor([[0.3], [1.2]], dtype=torch.float64)
    want = np.array([[2.5, np.cos(t) - 0.5] for t in (0.3, 1.2)])
    for eng in (engine, lightning):
        out, grad = _grad(lambda v, eng=eng: circuits.expval(qc, obs, v, engine=eng), values)
        np.testing.assert_allclose(out.numpy(), want, rtol=0, atol=1e-12)
        np.testing.assert_allclose(grad.numpy()[:, 0], -1.5 * np.sin([0.3, 1.2]), rtol=0, atol=1e-10)


def test_wire_order_is_qiskit_order(engine):
    qc = QuantumCircuit(3)
    qc.x(0)
    state = circuits.statevector(qc, engine=engine)[0].numpy()
    assert abs(state[1]) == pytest.approx(1.0)
    out = circuits.expval(qc, ["IIZ", "ZII", "IZI"], engine=engine)[0].tolist()
    assert out == pytest.approx([-1.0, 1.0, 1.0])
    assert circuits.sample(qc, shots=20, engine=engine, seed=1) == [{"001": 20}]


def test_sample_keys_cover_classical_bits(engine):
    qc = QuantumCircuit(3)
    qc.add_register(ClassicalRegister(4, "c"))
    qc.x(2)
    qc.h(0)
    qc.measure(2, 0)  # c0 <- q2 (always 1)
    qc.measure(0, 2)  # c2 <- q0 (random); c1, c3 never written
    counts = circuits.sample(qc, shots=400, engine=engine, seed=3)[0]
    assert set(counts) == {"0001", "0101"}
    assert sum(counts.values()) == 400 and 150 < counts["0101"] < 250


def test_sample_is_seeded_and_matches_probabilities(engine):
    qc, _, values = _case(3, 17, batch=2)
    first = circuits.sample(qc, values, shots=4000, engine=engine, seed=7)
    assert first == circuits.sample(qc, values, shots=4000, engine=engine, seed=7)
    assert first != circuits.sample(qc, values, shots=4000, engine=engine, seed=8)
    for counts, v in zip(first, values.numpy(), strict=True):
        probs = np.abs(reference_state(qc, v)) ** 2
        freq = np.zeros(8)
        for key, hits in counts.items():
            assert len(key) == 3
            freq[int(key, 2)] = hits / 4000
        np.testing.assert_allclose(freq, probs, atol=0.04)


def test_shot_expval_is_seeded_and_differentiable(engine):
    qc, obs, values = _case(2, 18)
    exact = _torch_expval(qc, obs, values)
    v = values.clone().requires_grad_(True)
    est = circuits.expval(qc, obs, v, engine=engine, shots=20000, seed=5)
    scale = np.array([np.abs(o.coeffs).sum() for o in obs])
    assert np.all(np.abs(est.detach().numpy() - exact.numpy()) < 5 * scale / np.sqrt(20000))
    again = circuits.expval(qc, obs, values, engine=engine, shots=20000, seed=5)
    assert torch.equal(est.detach(), again)
    assert not torch.equal(again, exact)
    (grad,) = torch.autograd.grad(est.sum(), v)
    w = values.clone().requires_grad_(True)
    (plain,) = torch.autograd.grad(_torch_expval(qc, obs, w).sum(), w)
    assert np.abs(grad.numpy() - plain.numpy()).max() < 0.3
    with pytest.raises(KetmlError, match="shots"):
        circuits.expval(qc, obs, values, engine=engine, shots=0)


def test_mid_circuit_measurement_is_refused(engine):
    qc = QuantumCircuit(2, 1)
    qc.h(0)
    qc.measure(0, 0)
    qc.cx(0, 1)
    with pytest.raises(UnsupportedOperationError, match="engine='torch' or 'aer'"):
        circuits.expval(qc, "ZZ", engine=engine)


def test_missing_devices_and_bad_options_fail_at_construction():
    with pytest.raises(EngineUnavailableError, match="pip install pennylane-lightning-gpu"):
        engines.get("pennylane", pennylane_device="lightning.gpu")
    with pytest.raises(EngineUnavailableError, match="pennylane-lightning-kokkos"):
        engines.get("pennylane", pennylane_device="lightning.kokkos")
    with pytest.raises(EngineUnavailableError, match="default.qubit"):
        engines.get("pennylane", pennylane_device="no.such.device")
    with pytest.raises(KetmlError, match="diff_method"):
        engines.get("pennylane", diff_method="guesswork")
    with pytest.raises(KetmlError, match="bogus"):
        engines.get("pennylane", bogus=1)
