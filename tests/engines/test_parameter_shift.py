"""The parameter-shift rule: exact for every gate (after lowering), all shifts in one engine call."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector

import circuits
from circuits.engines.lowering import lower
from circuits.engines.shift import ParameterShift

from ..circuits.helpers import random_circuit, random_pauli_sum


def test_lowering_gives_one_rotation_per_angle():
    x = ParameterVector("x", 3)
    qc = QuantumCircuit(3)
    qc.crx(x[0] * x[1], 0, 1)  # generator with three eigenvalues: lowered first
    qc.rzz(x[2], 1, 2)
    qc.cp(np.sin(x[0]), 2, 0)
    qc.u(x[0], x[1], x[2], 1)
    prog = lower(qc)
    names = {}
    for inst in prog.circuit.data:
        for p in inst.operation.params:
            if hasattr(p, "parameters"):
                assert inst.operation.name in ("rx", "ry", "rz")
                (g,) = p.parameters
                names[g.name] = names.get(g.name, 0) + 1
                assert p == g  # the angle *is* the parameter, slope 1
    assert len(names) == prog.n_angles and set(names.values()) == {1}


def test_shift_rule_matches_finite_differences_on_random_circuits():
    rng = np.random.default_rng(4)
    for n in (2, 3):
        qc = random_circuit(n, 12, rng, n_params=3, max_gate_qubits=3)
        obs = random_pauli_sum(n, 3, rng)
        v = torch.tensor(rng.normal(size=(2, qc.num_parameters)), requires_grad=True)
        circuits.expval(qc, obs, v, engine="aer").sum().backward()
        eps = 1e-6
        fd = np.zeros(v.shape)
        for idx in np.ndindex(*v.shape):
            d = torch.zeros(v.shape, dtype=torch.float64)
            d[idx] = eps
            with torch.no_grad():
                up = circuits.expval(qc, obs, v + d, dtype="complex128").sum()
                down = circuits.expval(qc, obs, v - d, dtype="complex128").sum()
            fd[idx] = (up - down).item() / (2 * eps)
        np.testing.assert_allclose(v.grad.numpy(), fd, atol=1e-6)


def test_all_shifted_rows_go_in_one_call():
    calls = []

    def evaluate(rows, seed):
        calls.append(rows.shape)
        return np.stack([np.cos(rows).sum(1), np.sin(rows[:, 0])], axis=1)

    angles = torch.tensor(np.random.default_rng(0).normal(size=(5, 7)), requires_grad=True)
    out = ParameterShift.apply(angles, evaluate, None)
    w = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    (out * w).sum().backward()
    assert calls == [(5, 7), (5 * 2 * 7, 7)]
    expected = -np.sin(angles.detach().numpy())
    expected[:, 0] += -2 * np.cos(angles.detach().numpy()[:, 0])
    np.testing.assert_allclose(angles.grad.numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("engine", ["aer"])
def test_per_sample_weights_gradients(engine):
    from circuits.library import strongly_entangling_layers

    layer = circuits.QuantumLayer(
        strongly_entangling_layers(3, 1), ["ZII", "IIZ"], inputs=None, engine=engine
    )
    ref = circuits.QuantumLayer(
        strongly_entangling_layers(3, 1), ["ZII", "IIZ"], inputs=None, dtype="complex128"
    )
    w = torch.tensor(np.random.default_rng(1).normal(size=(4, layer.n_weights)), requires_grad=True)
    w2 = w.detach().clone().requires_grad_(True)
    layer(weights=w).pow(2).sum().backward()
    ref(weights=w2).pow(2).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), w2.grad.numpy(), atol=1e-9)
