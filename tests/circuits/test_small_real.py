"""The small path's real mode (``SmallProgram.real``): circuits of real gates only (H, RY,
CNOT, CZ, SWAP, X, Z, ...) run in real arithmetic. Checked against the generic complex path
(``fusion_qubits=4``), against Qiskit and on the mode's selection."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.quantum_info import SparsePauliOp, Statevector

import circuits
from circuits import QuantumLayer
from circuits.engines.torch_engine.engine import compile_circuit


def real_circuit(n: int, extra: str | None = None) -> QuantumCircuit:
    """H everywhere, per-sample RY encodings mixed with constant gates, RY weights and a real
    entangler of every kind; ``extra`` adds one gate that makes the circuit complex."""
    x = ParameterVector("x", n)
    t = ParameterVector("t", 2 * n)
    qc = QuantumCircuit(n)
    for q in range(n):
        qc.h(q)
        qc.ry(x[q], q)
    qc.x(0)
    if extra == "rx":
        qc.rx(x[0], 1 % n)
    elif extra == "s":
        qc.s(0)
    for q in range(n - 1):
        qc.cx(q, q + 1)
    for q in range(n):
        qc.ry(t[q], q)
    if n > 2:
        qc.cz(0, 2)
        qc.swap(1, 2)
    qc.z(n - 1)
    for q in range(n):
        qc.ry(t[n + q], q)
    if n > 1:
        qc.cx(n - 1, 0)
    return qc


def observables(n: int) -> list[SparsePauliOp]:
    """Z terms and, since the state is real but the observables need not be diagonal, X and Y
    strings (a single Y has zero expectation on a real state; YY does not)."""
    obs = [SparsePauliOp("I" * (n - 1 - q) + "Z" + "I" * q) for q in range(n)]
    obs.append(SparsePauliOp("X" * n))
    if n > 1:
        obs.append(SparsePauliOp.from_list([("Y" * 2 + "I" * (n - 2), 0.8), ("I" * (n - 1) + "Y", 0.5)]))
    return obs


def _programs(qc):
    return [p for k, p in compile_circuit(qc).plans.items() if k[0] == "small"]


def _grads(qc, obs, fusion, x, w, coef):
    layer = QuantumLayer(qc, obs, weights="t", dtype="complex128", fusion_qubits=fusion).double()
    xr = x.clone().requires_grad_(True)
    wr = w.clone().requires_grad_(True)
    out = layer(xr, wr)
    (out * coef).sum().backward()
    return out.detach(), wr.grad, xr.grad


@pytest.mark.parametrize("n", [1, 3, 6])
@pytest.mark.parametrize("per_sample", [False, True])
def test_real_mode_matches_generic_path(n, per_sample):
    """Values and gradients (weights and inputs) equal the generic complex path's; with
    per-sample weights the real mode is what ran (shared weights mostly go to the unitary tail)."""
    qc = real_circuit(n)
    obs = observables(n)
    rng = np.random.default_rng(n)
    x = torch.tensor(rng.uniform(-3, 3, (5, n)))
    w = torch.tensor(rng.uniform(0, 6, (5, 2 * n) if per_sample else (2 * n,)))
    coef = torch.tensor(rng.normal(size=(5, len(obs))))
    compile_circuit(qc).plans.clear()
    ours = _grads(qc, obs, None, x, w, coef)
    progs = _programs(qc)
    assert progs and (all(p.real for p in progs) or not per_sample)
    ref = _grads(qc, obs, 4, x, w, coef)
    assert ours[1].abs().max() > 1e-3
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-11, rtol=0)


def test_real_mode_statevector_matches_qiskit():
    """The state (returned complex, as every engine's) equals Qiskit's, and expectation values
    of X, Y and Z strings equal Qiskit's on it."""
    qc = real_circuit(3)
    obs = observables(3)
    values = torch.tensor(np.random.default_rng(1).uniform(-3, 3, (2, 9)))
    states = circuits.statevector(qc, values, dtype="complex128")
    assert states.is_complex()
    out = circuits.expval(qc, obs, values, dtype="complex128")
    for b in range(2):
        ref = Statevector(qc.assign_parameters(values[b].tolist()))
        np.testing.assert_allclose(states[b].numpy(), ref.data, atol=1e-12)
        np.testing.assert_allclose(out[b].numpy(), [ref.expectation_value(o).real for o in obs], atol=1e-12)


@pytest.mark.parametrize("extra", ["rx", "s"])
def test_complex_gates_keep_complex_arithmetic(extra):
    """One RX or one S gate among the moments makes the state complex: the real mode is off,
    results agree."""
    qc = real_circuit(3, extra)
    obs = observables(3)
    rng = np.random.default_rng(7)
    x = torch.tensor(rng.uniform(-3, 3, (4, 3)))
    w = torch.tensor(rng.uniform(0, 6, (4, 6)))
    coef = torch.tensor(rng.normal(size=(4, len(obs))))
    compile_circuit(qc).plans.clear()
    ours = _grads(qc, obs, None, x, w, coef)
    assert _programs(qc) and not any(p.real for p in _programs(qc))
    ref = _grads(qc, obs, 4, x, w, coef)
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-11, rtol=0)
