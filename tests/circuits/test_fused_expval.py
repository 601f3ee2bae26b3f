"""The real-arithmetic expectation node (``torch_engine/fused_expval.py``): an RX / RY angle
encoding, a shared tail and Z-type observables as one node, checked against the generic path
(``fusion_qubits=4``), against finite differences and against Qiskit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.quantum_info import SparsePauliOp, Statevector

import circuits
from circuits import QuantumLayer
from circuits.engines.torch_engine import fused_expval as fe
from circuits.engines.torch_engine.engine import compile_circuit

from .helpers import check_layer_finite_differences


def encoded_circuit(n: int, gates: str, layers: int = 2) -> QuantumCircuit:
    """``gates[q]`` encodes input q on qubit q ('x' RX, 'y' RY, 'c' a constant RX, '-' none),
    then ``layers`` of RZ-RY-RZ weights and a ring of CNOTs and CZs."""
    x = iter(ParameterVector("x", sum(g in "xy" for g in gates)))
    t = ParameterVector("t", 3 * n * layers)
    qc = QuantumCircuit(n)
    for q, g in enumerate(gates):
        if g == "x":
            qc.rx(next(x), q)
        elif g == "y":
            qc.ry(next(x), q)
        elif g == "c":
            qc.rx(0.7 + q, q)
    k = 0
    for layer in range(layers):
        for q in range(n):
            qc.rz(t[k], q)
            qc.ry(t[k + 1], q)
            qc.rz(t[k + 2], q)
            k += 3
        for q in range(n - 1 if n > 1 else 0):
            tgt = (q + 1 + layer % 2) % n
            (qc.cx if layer % 2 == 0 else qc.cz)(q, tgt if tgt != q else (q + 1) % n)
    return qc


def observables(n: int) -> list[SparsePauliOp]:
    """<Z_q>, a weighted Z string with an identity offset, and a two-term sum."""
    obs = [SparsePauliOp("I" * (n - 1 - q) + "Z" + "I" * q) for q in range(n)]
    obs.append(SparsePauliOp.from_list([("Z" * n, 0.7), ("I" * n, -0.3)]))
    if n > 1:
        obs.append(SparsePauliOp.from_list([("Z" + "I" * (n - 1), 1.5), ("I" * (n - 2) + "ZZ", -0.4)]))
    return obs


def _run(qc, obs, n, fusion, x, coef, w0, dtype="complex128"):
    layer = QuantumLayer(qc, obs, weights="t", dtype=dtype, fusion_qubits=fusion, initial_weights=w0)
    layer = layer.double()
    xr = x.clone().requires_grad_(True)
    out = layer(xr)
    (out * coef).sum().backward()
    return out.detach(), layer.weights.grad.clone(), xr.grad.clone()


def _spy(monkeypatch) -> list:
    calls = []
    real = fe._ExpvalFunction.apply

    def spy(*args):
        calls.append(args[1])
        return real(*args)

    monkeypatch.setattr(fe._ExpvalFunction, "apply", spy)
    return calls


@pytest.mark.parametrize(
    ("n", "gates"), [(1, "x"), (2, "y-"), (3, "xyc"), (4, "xxxx"), (4, "y-cx"), (5, "xyxyx")]
)
def test_matches_generic_path(monkeypatch, n, gates):
    """Outputs and the gradients of weights and inputs agree with the generic path, and the
    fused node is what ran."""
    qc = encoded_circuit(n, gates)
    obs = observables(n)
    rng = np.random.default_rng(n)
    x = torch.tensor(rng.uniform(-3, 3, (5, sum(g in "xy" for g in gates))))
    coef = torch.tensor(rng.normal(size=(5, len(obs))))
    w0 = torch.tensor(rng.uniform(0, 6, 6 * n))
    calls = _spy(monkeypatch)
    fused = _run(qc, obs, n, None, x, coef, w0)
    assert calls, "the fused node did not run"
    generic = _run(qc, obs, n, 4, x, coef, w0)
    assert fused[0].abs().max() > 1e-2 and fused[1].abs().max() > 1e-3
    for a, b in zip(fused, generic, strict=True):
        torch.testing.assert_close(a, b, atol=1e-11, rtol=0)


def test_complex64_matches_complex128():
    """The engine's default precision: float32 arithmetic within single-precision error."""
    qc = encoded_circuit(4, "xyxy")
    obs = observables(4)
    rng = np.random.default_rng(9)
    x = torch.tensor(rng.uniform(-3, 3, (64, 4)))
    coef = torch.tensor(rng.normal(size=(64, len(obs))))
    w0 = torch.tensor(rng.uniform(0, 6, 24))
    lo = _run(qc, obs, 4, None, x, coef, w0, "complex64")
    hi = _run(qc, obs, 4, None, x, coef, w0, "complex128")
    for a, b in zip(lo, hi, strict=True):
        torch.testing.assert_close(a, b, atol=2e-4, rtol=0)


def test_gradient_matches_finite_differences():
    """An independent check of the hand-written backward (both the tail's and the encoding's
    derivatives): central differences of every weight and every input."""
    qc = encoded_circuit(3, "xyc")
    obs = observables(3)
    layer = QuantumLayer(qc, obs, weights="t", dtype="complex128", initial_weights=torch.linspace(0.1, 5, 18))
    layer = layer.double()
    x = torch.tensor([[0.4, -1.1], [1.7, 0.2]], dtype=torch.float64)
    coef = torch.tensor(np.random.default_rng(2).normal(size=(2, len(obs))))
    xr = x.clone().requires_grad_(True)
    (layer(xr) * coef).sum().backward()
    check_layer_finite_differences(layer, x, coef, layer.weights.grad, xr.grad)


def test_values_match_qiskit():
    """Without gradients the node's expectation values equal Qiskit's exact ones."""
    qc = encoded_circuit(3, "yxy")
    obs = observables(3)
    values = torch.tensor(np.random.default_rng(4).uniform(-3, 3, (2, len(qc.parameters))))
    out = circuits.expval(qc, obs, values, dtype="complex128")
    for b in range(2):
        state = Statevector(qc.assign_parameters(values[b].tolist()))
        ref = [state.expectation_value(o).real for o in obs]
        np.testing.assert_allclose(out[b].numpy(), ref, atol=1e-12)


@pytest.mark.parametrize("case", ["x-observable", "hadamard-encoding", "two-gates-per-qubit"])
def test_other_circuits_keep_the_general_path(monkeypatch, case):
    """An X term, a complex encoding (H then RZ) or two encoding gates on a qubit do not take
    the node, and results still agree with the generic path."""
    n = 3
    qc = encoded_circuit(n, "xyx")
    obs = observables(n)
    if case == "x-observable":
        obs = [*obs, SparsePauliOp("IXZ")]
    else:
        x0 = next(p for p in qc.parameters if p.name == "x[0]")
        pre = QuantumCircuit(n)
        if case == "hadamard-encoding":
            pre.h(0)
            pre.rz(x0, 0)
        else:
            pre.ry(x0, 0)
        qc = pre.compose(qc)
    rng = np.random.default_rng(6)
    x = torch.tensor(rng.uniform(-3, 3, (4, n)))
    coef = torch.tensor(rng.normal(size=(4, len(obs))))
    w0 = torch.tensor(rng.uniform(0, 6, 6 * n))
    calls = _spy(monkeypatch)
    fused = _run(qc, obs, n, None, x, coef, w0)
    assert not calls
    generic = _run(qc, obs, n, 4, x, coef, w0)
    for a, b in zip(fused, generic, strict=True):
        torch.testing.assert_close(a, b, atol=1e-11, rtol=0)


def test_second_derivatives_match_generic_path():
    """A backward that builds a graph recomputes through torch ops and agrees with the generic
    path (gradient penalties, gradient-inversion attacks)."""
    qc = encoded_circuit(3, "xyx")
    obs = observables(3)
    rng = np.random.default_rng(5)
    x = torch.tensor(rng.uniform(-3, 3, (3, 3)))
    w0 = torch.tensor(rng.uniform(0, 6, 18))
    results = []
    for fusion in (None, 4):
        layer = QuantumLayer(
            qc, obs, weights="t", dtype="complex128", fusion_qubits=fusion, initial_weights=w0
        ).double()
        xr = x.clone().requires_grad_(True)
        loss = layer(xr).pow(2).sum()
        (gw,) = torch.autograd.grad(loss, layer.weights, create_graph=True)
        (gx,) = torch.autograd.grad(gw.pow(2).sum(), xr)
        results.append((gw.detach(), gx))
    assert results[0][1].abs().max() > 1e-3
    for a, b in zip(results[0], results[1], strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


def test_node_is_cached_per_observable_plan():
    """One node per (program, observables, width): a second call reuses it."""
    qc = encoded_circuit(2, "xy")
    layer = QuantumLayer(qc, observables(2), weights="t", dtype="complex128")
    layer(torch.rand(3, 2, dtype=torch.float64))
    layer(torch.rand(3, 2, dtype=torch.float64))
    progs = [p for k, p in compile_circuit(qc).plans.items() if k[0] == "small"]
    nodes = [v[1] for p in progs for k, v in p._cache.items() if k[0] == "fused_expval"]
    assert len(nodes) == 1 and isinstance(nodes[0], fe.FusedExpval)
