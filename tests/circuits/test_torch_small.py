"""The torch engine's small-register path (``torch_engine/small.py``) against its generic path.

``fusion_qubits=4`` forces the generic path (the small path runs only with the default fusion),
so each test computes the same quantity both ways: states, expectation values, and gradients for
shared and per-sample weights, in complex64 and complex128.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector

import circuits
from circuits import QuantumLayer
from circuits.engines.torch_engine import small
from circuits.engines.torch_engine.engine import compile_circuit
from circuits.library import angle_encoding, strongly_entangling_layers

from .helpers import random_circuit

TOL = {"complex64": (2e-5, 5e-5), "complex128": (1e-11, 1e-10)}  # (values, gradients)


def qnn(n: int, layers: int = 3) -> tuple[QuantumCircuit, list[str]]:
    qc = angle_encoding(n, "X", inputs="x").compose(strongly_entangling_layers(n, layers, weights="theta"))
    return qc, ["I" * (n - 1 - q) + "Z" + "I" * q for q in range(n)]


def _run(layer: QuantumLayer, x: torch.Tensor, w: torch.Tensor | None, coef: torch.Tensor):
    x = x.clone().requires_grad_(True)
    out = layer(x, w)
    (out * coef).sum().backward()
    grad_w = (w.grad if w is not None else layer.weights.grad).clone()
    return out.detach(), grad_w, x.grad.clone()


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("n", [1, 2, 4, 7])
@pytest.mark.parametrize("per_sample", [False, True])
def test_layer_matches_generic_path(n, dtype, per_sample):
    """Outputs and the gradients of weights and inputs agree with the generic path."""
    torch.manual_seed(n)
    qc, obs = qnn(n)
    w0 = torch.rand(9 * n, dtype=torch.float64) * 6
    x = torch.rand(5, n, dtype=torch.float64) * 3
    coef = torch.randn(5, n, dtype=torch.float64)
    w_rows = w0.unsqueeze(0).repeat(5, 1).add(torch.rand(5, 9 * n, dtype=torch.float64))
    results = []
    for fusion in (None, 4):
        layer = QuantumLayer(qc, obs, dtype=dtype, fusion_qubits=fusion, initial_weights=w0).double()
        w = w_rows.clone().requires_grad_(True) if per_sample else None
        results.append(_run(layer, x, w, coef))
    tol_v, tol_g = TOL[dtype]
    (out_s, gw_s, gx_s), (out_g, gw_g, gx_g) = results
    assert out_s.abs().max() > 1e-3  # not trivially zero
    torch.testing.assert_close(out_s, out_g, atol=tol_v, rtol=0)
    torch.testing.assert_close(gw_s, gw_g, atol=tol_g, rtol=0)
    torch.testing.assert_close(gx_s, gx_g, atol=tol_g, rtol=0)


@pytest.mark.parametrize("seed", range(6))
def test_random_circuits_match_generic_path(seed):
    """Every standard gate (expressions of parameters, controlled rotations, 3-4 qubit gates):
    the state and the gradient of a Pauli expectation agree with the generic path."""
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(2, 6))
    qc = random_circuit(n, 25, rng)
    values = torch.tensor(rng.uniform(-3, 3, (3, len(qc.parameters))), dtype=torch.float64)
    states = [circuits.statevector(qc, values, dtype="complex128", fusion_qubits=f) for f in (None, 4)]
    torch.testing.assert_close(states[0], states[1], atol=1e-11, rtol=0)
    obs = ["X" * n, "Z" + "Y" * (n - 1)]
    grads = []
    for f in (None, 4):
        v = values.clone().requires_grad_(True)
        circuits.expval(qc, obs, v, dtype="complex128", fusion_qubits=f).sum().backward()
        grads.append(v.grad)
    torch.testing.assert_close(grads[0], grads[1], atol=1e-10, rtol=0)


def test_global_phase_and_constant_gates():
    """A parametric global phase, constant single-qubit gates mixed into Kronecker moments and
    constant diagonals merged into the permutation moments are kept exactly."""
    a = ParameterVector("a", 2)
    qc = QuantumCircuit(3, global_phase=a[0] * 0.5)
    qc.h(0)
    qc.s(1)
    qc.ry(a[1], 2)
    qc.cz(0, 2)
    qc.swap(1, 2)
    qc.t(0)
    qc.rx(a[0], 1)
    qc.ccx(0, 1, 2)
    qc.p(a[1], 0)
    values = torch.tensor([[0.3, -1.2], [2.0, 0.4]], dtype=torch.float64)
    states = [circuits.statevector(qc, values, dtype="complex128", fusion_qubits=f) for f in (None, 4)]
    torch.testing.assert_close(states[0], states[1], atol=1e-12, rtol=0)
    from qiskit.quantum_info import Statevector

    ref = Statevector(qc.assign_parameters(values[1].tolist())).data
    np.testing.assert_allclose(states[0][1].numpy(), ref, atol=1e-12)


def test_qnn_is_few_moments():
    """The QNN circuit becomes: a product state, then per layer one permutation and one
    Kronecker moment (the register's qubit groups), whatever the number of gates."""
    n, layers = 8, 4
    qc, obs = qnn(n, layers)
    layer = QuantumLayer(qc, obs)
    layer(torch.rand(3, n))
    progs = [p for k, p in compile_circuit(qc).plans.items() if k[0] == "small"]
    assert len(progs) == 1
    kinds = [m.kind for m in progs[0].moments]
    assert kinds == ["kron"] + ["perm", "kron"] * (layers - 1) + ["perm"]
    assert small.groups_of(n) == [(0, 4), (4, 4)]
    assert small.groups_of(12) == [(0, 4), (4, 4), (8, 4)]
    assert small.groups_of(5) == [(0, 5)]


def test_path_selection():
    """The small path runs for unitary circuits up to MAX_QUBITS with the default fusion;
    mid-circuit measurement, explicit fusion_qubits and wider registers take the generic path."""
    qc, _ = qnn(3)
    body = compile_circuit(qc).body
    assert small.applies(body, 3)
    assert not small.applies(body, small.MAX_QUBITS + 1)
    m = QuantumCircuit(2, 1)
    m.h(0)
    m.measure(0, 0)
    m.reset(0)
    m.cx(0, 1)
    assert not small.applies(compile_circuit(m).body, 2)


def test_qfwp_per_sample_weights_match_generic_path():
    """QFWP's fast programmer (per-sample weights from the slow programmer) on both paths."""
    from qml.sequence.qfwp import fast_programmer_circuit

    qc = fast_programmer_circuit(8, 2, 1)
    obs = ["I" * (7 - q) + "Z" + "I" * q for q in range(4)]
    torch.manual_seed(3)
    x = torch.rand(6, 1, dtype=torch.float64)
    w = torch.randn(6, 16, dtype=torch.float64)
    coef = torch.randn(6, 4, dtype=torch.float64)
    res = []
    for f in (None, 4):
        layer = QuantumLayer(qc, obs, dtype="complex128", fusion_qubits=f).double()
        res.append(_run(layer, x, w.clone().requires_grad_(True), coef))
    for a, b in zip(res[0], res[1], strict=True):
        torch.testing.assert_close(a, b, atol=1e-11, rtol=0)
