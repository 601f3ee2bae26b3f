"""The cudaq engine against Qiskit's Statevector and the torch engine: states (with global phase),
expectation values, parameter-shift gradients, qubit order of samples, seeds, targets, training."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.quantum_info import SparsePauliOp, Statevector

import circuits
from circuits import engines
from circuits.errors import EngineUnavailableError, UnsupportedOperationError

from ..circuits.helpers import bound, random_circuit, random_pauli_sum, reference_state

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    cudaq = pytest.importorskip("cudaq")

TOL = 1e-6
NO_GPU = cudaq.num_available_gpus() == 0


@pytest.fixture(scope="module")
def engine():
    return engines.get("cudaq")


@pytest.fixture(scope="module")
def torch_engine():
    return engines.get("torch", dtype="complex128")


def _values(qc: QuantumCircuit, batch: int, rng: np.random.Generator) -> torch.Tensor:
    return torch.tensor(rng.normal(size=(batch, qc.num_parameters)), dtype=torch.float64)


def _every_basis_gate() -> QuantumCircuit:
    """Every gate of the lowering basis, so each mapping (and sx's phase) is checked directly."""
    x = ParameterVector("x", 3)
    qc = QuantumCircuit(3)
    qc.h(0)
    qc.rx(x[0], 1)
    qc.ry(0.7 * x[1] - 0.2, 2)
    qc.sx(0)
    qc.sxdg(1)
    qc.sx(2)
    qc.ccx(0, 1, 2)
    qc.rz(x[2] + x[0], 0)
    for gate in ("s", "t", "y"):
        getattr(qc, gate)(1)
    for gate in ("sdg", "tdg", "z"):
        getattr(qc, gate)(2)
    qc.id(0)
    qc.cx(2, 0)
    qc.cz(0, 1)
    qc.swap(1, 2)
    qc.rx(0.4, 2)
    qc.global_phase = 0.3
    return qc


@pytest.mark.parametrize("n,seed", [(1, 0), (2, 1), (3, 2), (4, 3), (5, 4)])
def test_statevector_matches_qiskit_with_phase(engine, n, seed):
    rng = np.random.default_rng(10 * n + seed)
    qc = random_circuit(n, 16, rng, max_gate_qubits=min(n, 3))
    values = _values(qc, 3, rng)
    state = circuits.statevector(qc, values, engine=engine)
    assert state.dtype == torch.complex128
    ref = np.stack([reference_state(qc, v) for v in values.numpy()])
    np.testing.assert_allclose(state.numpy(), ref, atol=TOL)


def test_every_basis_gate_exactly(engine):
    qc = _every_basis_gate()
    values = torch.tensor([[0.3, -1.2, 2.0], [1.1, 0.4, -0.5]], dtype=torch.float64)
    state = circuits.statevector(qc, values, engine=engine).numpy()
    ref = np.stack([reference_state(qc, v) for v in values.numpy()])
    np.testing.assert_allclose(state, ref, atol=1e-12)  # no global-phase slack at all


def test_statevector_little_endian(engine):
    qc = QuantumCircuit(3)
    qc.x(0)
    qc.h(2)
    state = circuits.statevector(qc, engine=engine).numpy()[0]
    expected = np.zeros(8, dtype=complex)
    expected[[0b001, 0b101]] = 2**-0.5
    np.testing.assert_allclose(state, expected, atol=1e-12)


@pytest.mark.parametrize("n,seed", [(1, 0), (2, 1), (3, 2), (5, 3)])
def test_expval_matches_qiskit_and_torch(engine, torch_engine, n, seed):
    rng = np.random.default_rng(100 + 10 * n + seed)
    qc = random_circuit(n, 16, rng, max_gate_qubits=min(n, 3))
    with_identity = random_pauli_sum(n, 3, rng) + SparsePauliOp("I" * n, 0.75)
    obs = [random_pauli_sum(n, 5, rng), with_identity, SparsePauliOp("I" * n, -2.0)]
    values = _values(qc, 4, rng)
    out = circuits.expval(qc, obs, values, engine=engine)
    assert out.shape == (4, 3) and out.dtype == torch.float64
    ref = np.array(
        [[Statevector(bound(qc, v)).expectation_value(o).real for o in obs] for v in values.numpy()]
    )
    np.testing.assert_allclose(out.numpy(), ref, atol=TOL)
    np.testing.assert_allclose(
        out.numpy(), circuits.expval(qc, obs, values, engine=torch_engine).numpy(), atol=TOL
    )


@pytest.mark.parametrize("n,seed", [(2, 0), (3, 2)])
def test_gradients_match_torch(engine, torch_engine, n, seed):
    rng = np.random.default_rng(200 + n + seed)
    qc = random_circuit(n, 12, rng, n_params=4, max_gate_qubits=min(n, 3))
    obs = [random_pauli_sum(n, 4, rng), random_pauli_sum(n, 2, rng)]
    values = _values(qc, 3, rng)
    weights = torch.tensor(rng.normal(size=(3, 2)), dtype=torch.float64)
    grads = []
    for eng in (engine, torch_engine):
        v = values.clone().requires_grad_(True)
        out = circuits.expval(qc, obs, v, engine=eng)
        (out * weights).sum().backward()
        grads.append(v.grad.numpy())
    assert np.abs(grads[1]).max() > 1e-3
    np.testing.assert_allclose(grads[0], grads[1], atol=TOL)


def test_circuit_without_parameters(engine):
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.sx(1)
    qc.cx(0, 1)
    np.testing.assert_allclose(
        circuits.statevector(qc, engine=engine).numpy()[0], Statevector(qc).data, atol=1e-12
    )
    out = circuits.expval(qc, ["ZZ", "YI"], engine=engine)
    ref = [Statevector(qc).expectation_value(SparsePauliOp(p)).real for p in ("ZZ", "YI")]
    np.testing.assert_allclose(out.numpy()[0], ref, atol=1e-12)


def test_sample_keys_in_qiskit_order(engine):
    qc = QuantumCircuit(3)
    qc.x(0)
    assert circuits.sample(qc, shots=50, engine=engine) == [{"001": 50}]
    measured = QuantumCircuit(3, 4)
    measured.x(0)
    measured.measure(0, 2)  # clbit 2 <- qubit 0; clbits 0, 1 and 3 stay 0
    measured.measure(1, 1)
    assert circuits.sample(measured, shots=50, engine=engine) == [{"0100": 50}]


def test_sample_batch_follows_parameters(engine):
    theta = ParameterVector("theta", 1)
    qc = QuantumCircuit(2)
    qc.rx(theta[0], 1)
    out = circuits.sample(qc, torch.tensor([[0.0], [np.pi]]), shots=40, engine=engine)
    assert out == [{"00": 40}, {"10": 40}]


def test_seeded_sampling_reproducible(engine):
    qc = QuantumCircuit(4)
    qc.h(range(4))
    first = circuits.sample(qc, shots=300, engine=engine, seed=7)
    assert first == circuits.sample(qc, shots=300, engine=engine, seed=7)
    assert first != circuits.sample(qc, shots=300, engine=engine, seed=8)
    assert sum(first[0].values()) == 300 and len(first[0]) > 8


def test_shot_expval_seeded_and_close(engine):
    rng = np.random.default_rng(5)
    qc = random_circuit(3, 10, rng, max_gate_qubits=2)
    obs = [SparsePauliOp(["ZZI", "XIY", "III"], [0.5, -1.0, 0.25])]
    values = _values(qc, 2, rng)
    a = circuits.expval(qc, obs, values, engine=engine, shots=4000, seed=3)
    b = circuits.expval(qc, obs, values, engine=engine, shots=4000, seed=3)
    exact = circuits.expval(qc, obs, values, engine=engine)
    assert torch.equal(a, b)
    assert not torch.allclose(a, exact, atol=1e-9)  # really sampled
    np.testing.assert_allclose(a.numpy(), exact.numpy(), atol=0.1)


def test_mid_circuit_refused(engine):
    qc = QuantumCircuit(1, 1)
    qc.h(0)
    qc.measure(0, 0)
    qc.x(0)
    with pytest.raises(UnsupportedOperationError, match="mid-circuit"):
        circuits.expval(qc, "Z", engine=engine)


def test_density_matrix_target_and_switching_back(engine):
    rng = np.random.default_rng(9)
    qc = random_circuit(3, 10, rng, max_gate_qubits=3)
    obs = [random_pauli_sum(3, 4, rng)]
    values = _values(qc, 2, rng)
    dm = engines.get("cudaq", target="density-matrix-cpu")
    np.testing.assert_allclose(
        circuits.expval(qc, obs, values, engine=dm).numpy(),
        circuits.expval(qc, obs, values, engine=engine).numpy(),
        atol=TOL,
    )
    with pytest.raises(UnsupportedOperationError, match="density matrices"):
        circuits.statevector(qc, values, engine=dm)
    # the state-vector engine puts its own target back before running
    state = circuits.statevector(qc, values, engine=engine).numpy()
    np.testing.assert_allclose(state[0], reference_state(qc, values.numpy()[0]), atol=TOL)


def test_unknown_target():
    with pytest.raises(EngineUnavailableError, match="qpp-cpu.*nvidia"):
        engines.get("cudaq", target="no-such-target")


@pytest.mark.skipif(not NO_GPU, reason="a GPU is present, so GPU targets are available")
@pytest.mark.parametrize("target", ["nvidia", "nvidia-fp64", "tensornet", "nvidia-mgpu"])
def test_gpu_target_without_gpu(target):
    with pytest.raises(EngineUnavailableError, match=f"'{target}' needs a CUDA GPU") as info:
        engines.get("cudaq", target=target)
    if target == "nvidia-mgpu":
        assert "mpiexec -np N" in str(info.value)


def test_availability():
    assert engines.available()["cudaq"] == "ok"


def test_no_cudaq_warnings_reach_users():
    code = (
        "import warnings; warnings.simplefilter('error', UserWarning); "
        "warnings.simplefilter('error', FutureWarning); import circuits; "
        "print(circuits.expval(__import__('qiskit').QuantumCircuit(1), 'Z', engine='cudaq').item())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1.0"


@pytest.mark.gpu
@pytest.mark.skipif(NO_GPU, reason="CUDA-Q sees no GPU")
@pytest.mark.parametrize("target,options,tol", [("nvidia", {"option": "fp64"}, TOL), ("nvidia", {}, 1e-4)])
def test_gpu_target_agrees_with_cpu(engine, target, options, tol):
    rng = np.random.default_rng(11)
    qc = random_circuit(5, 20, rng, max_gate_qubits=3)
    obs = [random_pauli_sum(5, 5, rng)]
    values = _values(qc, 3, rng)
    gpu = engines.get("cudaq", target=target, **options)
    np.testing.assert_allclose(
        circuits.statevector(qc, values, engine=gpu).numpy(),
        circuits.statevector(qc, values, engine=engine).numpy(),
        atol=tol,
    )
    np.testing.assert_allclose(
        circuits.expval(qc, obs, values, engine=gpu).numpy(),
        circuits.expval(qc, obs, values, engine=engine).numpy(),
        atol=tol,
    )
    flipped = QuantumCircuit(3)
    flipped.x(0)
    assert circuits.sample(flipped, shots=10, engine=gpu) == [{"001": 10}]
