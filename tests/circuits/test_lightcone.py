"""Light cones: expectation values of few-qubit observables simulate only the gates in their
backward light cone, on only the qubits it covers; values and gradients must equal the full
simulation's (here: the torch engine's state vector, which never reduces, and a dense matrix)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.quantum_info import SparsePauliOp

import circuits
from circuits.engines.torch_engine import lightcone
from circuits.engines.torch_engine.engine import TorchEngine, compile_circuit

from .helpers import random_circuit


def _reference(qc, observables, values: torch.Tensor):
    """Values ``(B, n_obs)`` and the gradient of their weighted sum, from the full state."""
    v = values.detach().clone().requires_grad_(True)
    psi = TorchEngine(dtype="complex128").statevector(qc, v)
    mats = [torch.as_tensor(o.to_matrix()) for o in observables]
    out = torch.stack([torch.einsum("bi,ij,bj->b", psi.conj(), m, psi).real for m in mats], dim=1)
    weights = torch.arange(1.0, 1.0 + out.numel(), dtype=out.dtype).reshape(out.shape)
    (g,) = torch.autograd.grad((out * weights).sum(), v)
    return out.detach(), g, weights


def _local_observables(n: int, rng: np.random.Generator) -> list[SparsePauliOp]:
    """A one-qubit term, a sum of terms with different small supports (and an identity term),
    and a two-qubit term on distant qubits."""

    def term(qubits):
        return "".join(rng.choice(list("XYZ")) if q in qubits else "I" for q in range(n - 1, -1, -1))

    return [
        SparsePauliOp(term({0})),
        SparsePauliOp([term({1}), term({n - 1, n - 2}), "I" * n], coeffs=[0.7, -1.3, 0.25]),
        SparsePauliOp(term({0, n - 1}), coeffs=[-0.5]),
    ]


def _brick(n: int, layers: int, rng: np.random.Generator) -> QuantumCircuit:
    th = ParameterVector("t", 2 * n * layers)
    qc = QuantumCircuit(n)
    k = 0
    for layer in range(layers):
        for q in range(n):
            for _ in range(2):
                getattr(qc, str(rng.choice(["rx", "ry", "rz"])))(th[k], q)
                k += 1
        for q in range(layer % 2, n - 1, 2):
            qc.cx(q, q + 1)
    return qc


@pytest.mark.parametrize("diff_method", ["backprop", "adjoint"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_circuits_match_the_full_simulation(diff_method, seed):
    rng = np.random.default_rng(seed)
    n = 7
    qc = random_circuit(n, 14, rng, max_gate_qubits=2)
    observables = _local_observables(n, rng)
    values = torch.tensor(rng.uniform(-2, 2, size=(3, qc.num_parameters)))
    ref, ref_grad, weights = _reference(qc, observables, values)
    v = values.clone().requires_grad_(True)
    out = TorchEngine(dtype="complex128", diff_method=diff_method).expval(qc, observables, v)
    (grad,) = torch.autograd.grad((out * weights).sum(), v)
    torch.testing.assert_close(out, ref, atol=1e-10, rtol=0)
    torch.testing.assert_close(grad, ref_grad, atol=1e-9, rtol=0)


@pytest.mark.parametrize("diff_method", ["backprop", "adjoint"])
def test_brick_circuit_is_reduced_and_exact(diff_method):
    rng = np.random.default_rng(5)
    n = 10
    qc = _brick(n, 3, rng)
    observables = _local_observables(n, rng)
    values = torch.tensor(rng.uniform(-3, 3, size=(2, qc.num_parameters)))
    ref, ref_grad, weights = _reference(qc, observables, values)
    v = values.clone().requires_grad_(True)
    out = TorchEngine(dtype="complex128", diff_method=diff_method).expval(qc, observables, v)
    (grad,) = torch.autograd.grad((out * weights).sum(), v)
    torch.testing.assert_close(out, ref, atol=1e-10, rtol=0)
    torch.testing.assert_close(grad, ref_grad, atol=1e-9, rtol=0)
    reductions = [r for k, r in compile_circuit(qc).cones.items() if k != "last"]
    assert reductions and reductions[0] is not None
    assert all(len(p.qubits) < n for p in reductions[0].parts)  # qubits were dropped


def test_per_term_cones_when_cheaper_than_their_union():
    rng = np.random.default_rng(3)
    n = 16
    qc = _brick(n, 5, rng)
    ops = compile_circuit(qc).body
    far = [SparsePauliOp(["I" * (n - 1) + "Z", "Z" + "I" * (n - 1)])]  # Z_0 + Z_15: two small cones
    red = lightcone.reduce(ops, n, far)
    assert red is not None and len(red.parts) == 2
    assert sorted(len(p.qubits) for p in red.parts) == [6, 6]  # each brick layer widens a cone by one
    near = [SparsePauliOp(["I" * (n - 1) + "Z", "I" * (n - 2) + "ZI"])]  # Z_0 + Z_1 share one cone
    red = lightcone.reduce(ops, n, near)
    assert red is not None and len(red.parts) == 1


def test_no_reduction_when_the_cone_is_everything():
    rng = np.random.default_rng(4)
    n = 6
    qc = _brick(n, 8, rng)
    assert lightcone.reduce(compile_circuit(qc).body, n, [SparsePauliOp("Z" * n)]) is None


def test_shared_weights_of_a_layer_match_the_full_simulation():
    rng = np.random.default_rng(6)
    n = 9
    x = ParameterVector("x", n)
    qc = QuantumCircuit(n)
    for q in range(n):
        qc.rx(x[q], q)
    qc.compose(_brick(n, 2, rng), inplace=True)
    obs = [SparsePauliOp("I" * (n - 1) + "Z"), SparsePauliOp("X" + "I" * (n - 1))]
    layer = circuits.QuantumLayer(qc, obs, inputs="x", weights="t", dtype="complex128")
    inputs = torch.tensor(rng.uniform(0, np.pi, size=(4, n)))
    out = layer(inputs)
    (out * torch.tensor([1.0, -2.0])).sum().backward()
    w = layer.weights.detach().double()
    cols = []
    for p in qc.parameters:  # the values in circuit parameter order
        vec = inputs[:, p.index] if p.vector.name == "x" else w[p.index].expand(4)
        cols.append(vec)
    ref, ref_grad, _ = _reference(qc, obs, torch.stack(cols, dim=1))
    torch.testing.assert_close(out.double(), ref, atol=1e-10, rtol=0)
    v = torch.stack(cols, dim=1).requires_grad_(True)
    psi = TorchEngine(dtype="complex128").statevector(qc, v)
    full = torch.stack(
        [torch.einsum("bi,ij,bj->b", psi.conj(), torch.as_tensor(o.to_matrix()), psi).real for o in obs], 1
    )
    (g,) = torch.autograd.grad((full * torch.tensor([1.0, -2.0])).sum(), v)
    weight_cols = [j for j, p in enumerate(qc.parameters) if p.vector.name == "t"]
    torch.testing.assert_close(layer.weights.grad.double(), g[:, weight_cols].sum(0), atol=1e-6, rtol=0)


def test_mid_circuit_measurement_is_not_reduced():
    qc = QuantumCircuit(3, 1)
    qc.h(2)
    qc.measure(2, 0)
    qc.cx(2, 1)
    qc.h(0)
    obs = [SparsePauliOp("IIX"), SparsePauliOp("IZI")]
    out = circuits.expval(qc, obs, dtype="complex128")
    torch.testing.assert_close(out, torch.tensor([[1.0, 0.0]], dtype=out.dtype), atol=1e-12, rtol=0)
    assert not [k for k in compile_circuit(qc).cones if k != "last"]
