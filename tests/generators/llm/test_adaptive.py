"""Adaptive VQE: the analytic pool gradients against autograd, growth towards the optimum, and its
record's QASM reproducing the record."""

from __future__ import annotations

import numpy as np
import torch
from qiskit.circuit import ParameterVector
from qiskit_qasm3_import import parse

from circuits import statevector
from qml.generators.llm.adaptive import adaptive_circuit, adaptive_vqe, pool, pool_gradients
from qml.generators.llm.dataset import Task, make_record
from qml.generators.llm.hamiltonians import diagonal
from qml.generators.llm.optimise import Method, Solution
from qml.generators.llm.problems import random_instance


def test_pool_gradients_match_autograd():
    inst = random_instance("vertex-cover", 3, 1)
    diag = torch.as_tensor(diagonal(inst.hamiltonian))
    gates = [("ry", (0,)), ("crx", (0, 1)), ("rz", (2,)), ("cry", (2, 0))]
    theta = [0.3, 0.7, -0.4, 1.1]
    psi = statevector(adaptive_circuit(3, gates, theta), dtype="complex128")[0].numpy()
    analytic = pool_gradients(psi, diag.numpy(), pool(3))
    for cand, grad in zip(pool(3), analytic, strict=True):
        t = torch.tensor([*theta, 0.0], dtype=torch.float64, requires_grad=True)
        qc = adaptive_circuit(3, [*gates, cand], ParameterVector("a", 5))
        energy = (statevector(qc, t[None], dtype="complex128").abs().square() * diag).sum()
        energy.backward()
        assert abs(float(t.grad[-1]) - grad) < 1e-10, cand
    assert np.abs(analytic).max() > 0.1
    assert len(pool(3)) == 3 * 3 + 3 * 6


def test_adaptive_vqe_approaches_the_optimum_and_records_parse():
    inst = random_instance("maxcut", 4, 0)
    gates, angles, energy = adaptive_vqe(inst.hamiltonian, max_gates=8, lr=0.1, inner_steps=20)
    assert len(gates) == len(set(gates)) == len(angles) <= 8  # each pool gate once
    mean = float(diagonal(inst.hamiltonian).mean())
    assert energy < mean + 0.8 * (inst.exact().energy - mean)
    sol = Solution(angles, energy, False, len(gates), 0, [[g, list(q)] for g, q in gates])
    rec = make_record(Task("maxcut", 4, 0, Method("adaptive", 1)), inst, sol)
    probs = statevector(parse(rec["qasm"]), dtype="complex128").abs().square()[0].numpy()
    np.testing.assert_allclose(probs, rec["probabilities"], atol=1e-8)
    assert rec["key"].endswith("adapt-vqe") and rec["gates"] == sol.gates
