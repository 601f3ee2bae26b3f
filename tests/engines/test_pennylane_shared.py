"""The pennylane engine's shared-weight path: angles that depend only on a layer's shared weights
go to PennyLane as scalars (RZ-RY-RZ runs as one native ``Rot``); outputs and gradients must
equal those of the fully broadcast path (per-sample weights) and Qiskit's exact values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp, Statevector

import circuits
from circuits.library import angle_encoding, strongly_entangling_layers

from ..circuits.helpers import bound

pytest.importorskip("pennylane")


def _mixed_circuit(n: int) -> QuantumCircuit:
    """RX encoding, strongly entangling layers (RZ RY RZ runs), and an angle that mixes an input
    with a weight (per-sample) next to a pure-weight angle (shared)."""
    qc = angle_encoding(n, "X", inputs="x").compose(strongly_entangling_layers(n, 2, weights="w"))
    x = [p for p in qc.parameters if p.vector.name == "x"]
    w = [p for p in qc.parameters if p.vector.name == "w"]
    qc.ry(x[0] * w[0], 1)
    qc.crz(w[1] - 0.3, 0, n - 1)
    return qc


def _values(qc: QuantumCircuit, x: torch.Tensor, w: torch.Tensor) -> np.ndarray:
    """Rows of values in circuit parameter order from inputs ``x`` and the layer weights ``w``."""
    return np.array(
        [
            [float((x[b] if p.vector.name == "x" else w)[p.index]) for p in qc.parameters]
            for b in range(x.shape[0])
        ]
    )


@pytest.mark.parametrize("diff_method", ["backprop", "best"])
def test_shared_weights_equal_the_broadcast_path_and_qiskit(diff_method):
    n, batch = 4, 5
    qc = _mixed_circuit(n)
    obs = [SparsePauliOp.from_sparse_list([("Z", [q], 1.0)], n) for q in range(n)]
    obs.append(SparsePauliOp(["XYII", "IIZZ"], coeffs=[0.4, -0.7]))
    gen = torch.Generator().manual_seed(1)
    layer = circuits.QuantumLayer(
        qc,
        obs,
        inputs="x",
        weights="w",
        engine="pennylane",
        pennylane_device="default.qubit",
        diff_method=diff_method,
    )
    x = torch.rand(batch, n, generator=gen, dtype=torch.float64) * np.pi
    probe = torch.randn(batch, len(obs), generator=gen, dtype=torch.float64)

    xs = x.clone().requires_grad_(True)
    shared_out = layer(xs)
    gx_shared, gw_shared = torch.autograd.grad((shared_out * probe).sum(), [xs, layer.weights])

    xb = x.clone().requires_grad_(True)
    wb = layer.weights.detach().clone().requires_grad_(True)
    broadcast_out = layer(xb, weights=wb.unsqueeze(0).expand(batch, -1))  # per-sample: no sharing
    gx_b, gw_b = torch.autograd.grad((broadcast_out * probe).sum(), [xb, wb])

    splits = [key[2] for key in layer._engine._qnodes]  # (per-sample, shared) angle indices
    assert any(sp is not None and sp[0] and sp[1] for sp in splits)  # both kinds of angle were used
    torch.testing.assert_close(shared_out.double(), broadcast_out.double(), atol=1e-6, rtol=0)
    torch.testing.assert_close(gx_shared.double(), gx_b.double(), atol=1e-6, rtol=0)
    torch.testing.assert_close(gw_shared.double(), gw_b.double(), atol=1e-6, rtol=0)
    values = _values(qc, x, layer.weights.detach())
    for b in range(batch):
        state = Statevector(bound(qc, values[b]))
        ref = [state.expectation_value(o).real for o in obs]
        np.testing.assert_allclose(shared_out[b].detach().double().numpy(), ref, atol=1e-5)


def test_all_shared_angles_give_one_row_per_sample():
    n, batch = 3, 4
    qc = strongly_entangling_layers(n, 2, weights="w")
    obs = [SparsePauliOp.from_sparse_list([("X", [q], 1.0)], n) for q in range(n)]
    layer = circuits.QuantumLayer(qc, obs, inputs=None, weights="w", engine="pennylane")
    out = layer(torch.zeros(batch, 0))
    assert out.shape == (batch, n)
    torch.testing.assert_close(out, out[:1].expand(batch, -1))
    out.sum().backward()
    assert layer.weights.grad is not None and torch.isfinite(layer.weights.grad).all()
    assert layer.weights.grad.abs().sum() > 0
