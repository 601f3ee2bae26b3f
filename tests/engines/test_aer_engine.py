"""The Aer engine's own options: simulation methods, noise models, precision, devices, shots."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.circuit.library import efficient_su2

import circuits
from circuits.errors import EngineUnavailableError, KetmlError, UnsupportedOperationError

pytest.importorskip("qiskit_aer")


def _circuit():
    qc = efficient_su2(4, reps=2)
    v = torch.tensor(np.random.default_rng(0).normal(size=(3, qc.num_parameters)))
    return qc, v


@pytest.mark.parametrize("method", ["statevector", "density_matrix", "matrix_product_state"])
def test_methods_agree_with_torch(method):
    qc, v = _circuit()
    out = circuits.expval(qc, ["ZZII", "XIYI"], v, engine="aer", method=method)
    ref = circuits.expval(qc, ["ZZII", "XIYI"], v, dtype="complex128")
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-9)


def test_depolarizing_noise_matches_the_channel_formula():
    from qiskit_aer.noise import NoiseModel, depolarizing_error

    p = 0.1
    noise = NoiseModel()
    noise.add_all_qubit_quantum_error(depolarizing_error(p, 1), ["rx"])
    theta = Parameter("t")
    qc = QuantumCircuit(1)
    qc.rx(theta, 0)
    t = torch.tensor([[0.3], [1.2]], dtype=torch.float64)
    out = circuits.expval(qc, "Z", t, engine="aer", noise_model=noise)
    # rho -> (1-p) rho + p I/2 after the rotation: <Z> = (1-p) cos(t)
    np.testing.assert_allclose(out.numpy()[:, 0], (1 - p) * np.cos(t.numpy()[:, 0]), atol=1e-12)
    with pytest.raises(UnsupportedOperationError, match="density_matrix"):
        circuits.expval(qc, "Z", t, engine="aer", noise_model=noise, method="statevector")
    # parameter-shift gradients see the noise too: d/dt (1-p) cos t
    tg = t.clone().requires_grad_(True)
    circuits.expval(qc, "Z", tg, engine="aer", noise_model=noise).sum().backward()
    np.testing.assert_allclose(tg.grad.numpy()[:, 0], -(1 - p) * np.sin(t.numpy()[:, 0]), atol=1e-12)


def test_fake_backend_noise_moves_the_value_a_little():
    pytest.importorskip("qiskit_ibm_runtime")
    qc, v = _circuit()
    noisy = circuits.expval(qc, "ZZII", v, engine="aer", noise_model="fake_manila")
    ideal = circuits.expval(qc, "ZZII", v, dtype="complex128")
    diff = (noisy - ideal).abs().max().item()
    assert 1e-4 < diff < 0.3


def test_single_precision_is_close_but_not_exact():
    qc, v = _circuit()
    single = circuits.expval(qc, "ZZII", v, engine="aer", precision="single")
    double = circuits.expval(qc, "ZZII", v, engine="aer")
    np.testing.assert_allclose(single.numpy(), double.numpy(), atol=1e-4)


def test_shots_estimate_within_statistical_error():
    qc, v = _circuit()
    obs = ["ZZII", "XXYY", "IIIZ"]
    shots = 4000
    est = circuits.expval(qc, obs, v, engine="aer", shots=shots, seed=3)
    exact = circuits.expval(qc, obs, v, dtype="complex128")
    # each term has standard error <= 1/sqrt(shots); 5 sigma
    assert (est - exact).abs().max().item() < 5 / np.sqrt(shots)
    assert (est - exact).abs().max().item() > 0  # it is an estimate
    again = circuits.expval(qc, obs, v, engine="aer", shots=shots, seed=3)
    assert torch.equal(est, again)


def test_bad_options_and_missing_gpu():
    with pytest.raises(KetmlError, match="unknown Aer method"):
        circuits.engines.get("aer", method="stabiliser-ish")
    from qiskit_aer import AerSimulator

    if "GPU" not in AerSimulator().available_devices():
        with pytest.raises(EngineUnavailableError, match="qiskit-aer-gpu"):
            circuits.engines.get("aer", aer_device="GPU")


def test_mid_circuit_statevector_is_refused():
    qc = QuantumCircuit(1, 1)
    qc.h(0)
    qc.measure(0, 0)
    qc.h(0)
    with pytest.raises(UnsupportedOperationError, match="mid-circuit"):
        circuits.statevector(qc, engine="aer")
    out = circuits.expval(qc, "X", engine="aer")  # measurement dephases: <X> = 0
    assert abs(out.item()) < 1e-12


def test_shots_with_identity_terms_and_only_identity():
    qc, v = _circuit()
    from qiskit.quantum_info import SparsePauliOp

    obs = [SparsePauliOp(["IIII", "ZIII"], [2.0, 0.5]), SparsePauliOp("IIII", 3.0)]
    est = circuits.expval(qc, obs, v, engine="aer", shots=2000, seed=1)
    exact = circuits.expval(qc, obs, v, dtype="complex128")
    assert torch.all(est[:, 1] == 3.0)
    assert (est - exact).abs().max().item() < 5 * 0.5 / np.sqrt(2000)
    only = circuits.expval(qc, "IIII", v, engine="aer", shots=10)
    assert torch.all(only == 1.0)
