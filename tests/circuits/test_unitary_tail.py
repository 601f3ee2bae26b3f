"""The small path's fused node (``torch_engine/unitary_tail.py``): a product-state head and a
shared tail as one autograd node with a hand-written backward, checked against the generic
path (``fusion_qubits=4``) and against finite differences."""

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

from .helpers import check_layer_finite_differences


def mixed_circuit() -> QuantumCircuit:
    """A head of per-sample chains (constant gates mixed in) and a tail with a parameter used
    twice, constant angles, constant gates and phased permutations."""
    x = ParameterVector("x", 3)
    t = ParameterVector("t", 4)
    qc = QuantumCircuit(3)
    qc.h(0)
    qc.rz(x[0], 0)
    qc.ry(x[1], 1)
    qc.s(1)
    qc.rx(x[2], 2)
    qc.rx(t[0], 0)  # the tail starts here: weights only
    qc.rz(0.3, 1)
    qc.cz(0, 1)
    qc.swap(1, 2)
    qc.ry(t[1], 2)
    qc.ry(t[0], 1)  # t[0] again
    qc.cx(2, 0)
    qc.t(0)
    qc.rx(t[2], 1)
    qc.rz(t[3], 0)
    qc.sdg(2)
    qc.cy(0, 2)
    return qc


def _layer(qc, fusion, dtype="complex128"):
    obs = ["ZII", "IXI", "YZX"]
    torch.manual_seed(0)
    return QuantumLayer(
        qc, obs, weights="t", dtype=dtype, fusion_qubits=fusion, initial_weights=torch.rand(4) * 6
    ).double()


def _grads(layer, x, coef):
    x = x.clone().requires_grad_(True)
    out = layer(x)
    (out * coef).sum().backward()
    return out.detach(), layer.weights.grad.clone(), x.grad.clone()


def test_fused_node_is_used():
    """The mixed circuit takes the fused node: a product-state head and a unitary tail."""
    qc = mixed_circuit()
    _layer(qc, None)(torch.rand(4, 3, dtype=torch.float64))
    progs = [p for k, p in compile_circuit(qc).plans.items() if k[0] == "small"]
    assert progs and all(p.head is not None and p.tail is not None for p in progs)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_fused_matches_generic_path(dtype):
    """Outputs and the gradients of weights and inputs agree with the generic path."""
    qc = mixed_circuit()
    rng = np.random.default_rng(3)
    x = torch.tensor(rng.uniform(-3, 3, (6, 3)))
    coef = torch.tensor(rng.normal(size=(6, 3)))
    fused, generic = (_grads(_layer(qc, f, dtype), x, coef) for f in (None, 4))
    tol = 1e-11 if dtype == "complex128" else 5e-5
    assert fused[0].abs().max() > 1e-2
    for a, b in zip(fused, generic, strict=True):
        torch.testing.assert_close(a, b, atol=tol, rtol=0)


def test_fused_gradient_matches_finite_differences():
    """An independent check of the hand-written backward: central differences."""
    qc = mixed_circuit()
    layer = _layer(qc, None)
    x = torch.tensor([[0.4, -1.1, 2.3], [1.7, 0.2, -0.6]], dtype=torch.float64)
    coef = torch.tensor([[0.3, -1.0, 0.5], [1.2, 0.7, -0.4]], dtype=torch.float64)
    _, gw, gx = _grads(layer, x, coef)
    check_layer_finite_differences(layer, x, coef, gw, gx)


def test_statevector_and_one_sample_match_qiskit():
    """Without gradients (and for a batch of one) the fused state equals Qiskit's."""
    from qiskit.quantum_info import Statevector

    qc = mixed_circuit()
    values = torch.tensor([[0.2, -0.7, 1.9, 0.5, 1.1, -2.0, 0.8]], dtype=torch.float64)
    state = circuits.statevector(qc, values, dtype="complex128")[0]
    ref = Statevector(qc.assign_parameters(values[0].tolist())).data
    np.testing.assert_allclose(state.numpy(), ref, atol=1e-12)


@pytest.mark.parametrize("stop", ["crx", "expression"])
def test_unsupported_gates_stop_the_tail(stop):
    """A controlled rotation or a parameter expression ends the tail: what follows it is the
    tail, what precedes it runs on the moment path, and results still agree."""
    t = ParameterVector("t", 3)
    qc = QuantumCircuit(2)
    qc.ry(t[0], 0)
    if stop == "crx":
        qc.crx(t[1], 0, 1)
    else:
        qc.rx(2 * t[1] + 0.5, 1)
    qc.rx(t[2], 1)
    qc.cx(1, 0)
    body = compile_circuit(qc).body
    prog = small.SmallProgram(body, 2, set(), True)
    assert prog.tail is not None and prog.head is None and prog.moments
    values = torch.tensor([[0.3, 1.4, -0.8]], dtype=torch.float64)
    grads = []
    for f in (None, 4):
        v = values.detach().clone().requires_grad_(True)
        circuits.expval(qc, ["ZX", "YI"], v, dtype="complex128", fusion_qubits=f).sum().backward()
        grads.append(v.grad)
    torch.testing.assert_close(grads[0], grads[1], atol=1e-12, rtol=0)


@pytest.mark.parametrize("stop", [False, True])
def test_second_derivatives_match_generic_path(stop):
    """A backward that builds a graph (a gradient differentiated again, as gradient-inversion
    attacks and gradient penalties do) recomputes through torch ops and agrees with the generic
    path; ``stop`` puts an expression in the middle so the tail node runs on its own."""
    qc = mixed_circuit()
    if stop:  # an expression first: the head is no longer a product state, the tail runs alone
        pre = QuantumCircuit(3)
        pre.rx(2 * qc.parameters[1], 2)
        qc = pre.compose(qc)
    rng = np.random.default_rng(5)
    x = torch.tensor(rng.uniform(-3, 3, (3, 3)))
    results = []
    for fusion in (None, 4):
        layer = _layer(qc, fusion)
        xr = x.clone().requires_grad_(True)
        loss = layer(xr).pow(2).sum()
        (gw,) = torch.autograd.grad(loss, layer.weights, create_graph=True)
        (gx,) = torch.autograd.grad(gw.pow(2).sum(), xr)
        results.append((gw.detach(), gx))
        if fusion is None:
            progs = [p for k, p in compile_circuit(qc).plans.items() if k[0] == "small"]
            assert progs and all(p.tail is not None and (p.head is None) == stop for p in progs)
    assert results[0][1].abs().max() > 1e-3
    for a, b in zip(results[0], results[1], strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)
