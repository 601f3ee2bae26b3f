"""Quantum LSTM of Chen, Yoo and Fang, "Quantum Long Short-Term Memory" (2020, arXiv 2009.01783).

An LSTM cell whose gates are variational circuits. ``v_t = [h_{t-1}, x_t]`` (projected to
``n_qubits`` values if the sizes differ) is encoded by ``H, RY(arctan v), RZ(arctan v^2)`` on
every qubit; ``depth`` variational layers (CNOTs of range 1 and 2, then ``Rot(a, b, c)`` on every
qubit); ``<Z>`` on every qubit. ``f, i, o = sigmoid(VQC_1,2,4(v))``, ``g = tanh(VQC_3(v))``,
``c_t = f c + i g``; with 6 VQCs ``h_t = VQC_5(o tanh c_t)`` and ``y_t = VQC_6(o tanh c_t)``, with 4
VQCs ``h_t = o tanh c_t`` and ``y_t = Linear(h_t)``. The gate circuits run as one batched call.
"""

from __future__ import annotations

import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from torch import nn

from circuits import ParallelQuantumLayer
from circuits.errors import ConfigurationError, DataError
from qml.registry import Preset, register_model

from .presets import RL_PRESET, SERIES_TRAINING

__all__ = ["QLSTM", "qlstm_circuit"]


def qlstm_circuit(n_qubits: int, depth: int = 2) -> QuantumCircuit:
    """The QLSTM VQC. Inputs ``x`` (``2 n``: the arctan angles, computed in torch), weights ``theta``
    (``3 n depth``)."""
    x = ParameterVector("x", 2 * n_qubits)
    theta = ParameterVector("theta", 3 * n_qubits * depth)
    qc = QuantumCircuit(n_qubits, name="qlstm_vqc")
    for q in range(n_qubits):
        qc.h(q)
        qc.ry(x[q], q)
        qc.rz(x[n_qubits + q], q)
    for layer in range(depth):
        for r in (1, 2):
            if n_qubits > r:
                for q in range(n_qubits):
                    qc.cx(q, (q + r) % n_qubits)
        for q in range(n_qubits):
            a, b, c = theta[3 * (layer * n_qubits + q) : 3 * (layer * n_qubits + q) + 3]
            qc.rz(a, q)
            qc.ry(b, q)
            qc.rz(c, q)
    return qc


def _encode(v: torch.Tensor) -> torch.Tensor:
    return torch.cat([torch.atan(v), torch.atan(v * v)], dim=-1)


@register_model(
    "qlstm",
    tasks=("regression", "rl"),
    description="quantum LSTM: VQC gates (arXiv 2009.01783)",
    defaults=SERIES_TRAINING,
    presets={"rl": Preset(RL_PRESET.options | {"hidden_size": 4}, RL_PRESET.train)},
)
class QLSTM(nn.Module):
    """QLSTM over sequences ``(B, T, input_size)``; returns ``(B, T, output_size)`` outputs."""

    def __init__(
        self,
        input_size: int = 1,
        hidden_size: int = 3,
        output_size: int = 1,
        *,
        n_qubits: int | None = None,
        depth: int = 2,
        n_vqc: int = 6,
        engine: str = "torch",
        **engine_options,
    ):
        super().__init__()
        if n_vqc not in (4, 6):
            raise ConfigurationError(f"n_vqc must be 4 or 6; got {n_vqc}")
        n = input_size + hidden_size if n_qubits is None else n_qubits
        self.input_size, self.hidden_size, self.n_qubits, self.n_vqc = input_size, hidden_size, n, n_vqc
        self.project_in = (
            nn.Identity() if n == input_size + hidden_size else nn.Linear(input_size + hidden_size, n)
        )
        circuit = qlstm_circuit(n, depth)
        observables = ["I" * (n - 1 - q) + "Z" + "I" * q for q in range(n)]
        self.gates = ParallelQuantumLayer(circuit, observables, 4, engine=engine, **engine_options)
        self.project_gate = nn.Identity() if n == hidden_size else nn.Linear(n, hidden_size)
        if n_vqc == 6:
            self.project_state = nn.Identity() if n == hidden_size else nn.Linear(hidden_size, n)
            self.readout = ParallelQuantumLayer(circuit, observables, 2, engine=engine, **engine_options)
            self.to_hidden = nn.Identity() if n == hidden_size else nn.Linear(n, hidden_size)
            self.head = nn.Linear(n, output_size)
        else:
            self.head = nn.Linear(hidden_size, output_size)

    def initial_state(self, batch: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(h_0, c_0) = (0, 0)``, each ``(B, hidden_size)``."""
        zeros = like.new_zeros(batch, self.hidden_size)
        return zeros, zeros.clone()

    def step(self, x_t: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]):
        """One time step: ``x_t`` ``(B, input_size)``, ``(h, c)`` in and out; returns ``(y_t, (h, c))``."""
        h, c = state
        b, n = x_t.shape[0], self.n_qubits
        v = _encode(self.project_in(torch.cat([h, x_t], dim=1)))
        g = self.gates(v.repeat(1, 4)).reshape(b, 4, n)
        f, i, cand, o = (self.project_gate(g[:, k]) for k in range(4))
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(cand)
        hidden = torch.sigmoid(o) * torch.tanh(c)
        if self.n_vqc == 6:
            s = _encode(self.project_state(hidden))
            r = self.readout(s.repeat(1, 2)).reshape(b, 2, n)
            return self.head(r[:, 1]), (self.to_hidden(r[:, 0]), c)
        return self.head(hidden), (hidden, c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise DataError(f"x must have shape (B, T, {self.input_size}); got {tuple(x.shape)}")
        state = self.initial_state(x.shape[0], x)
        outs = []
        for t in range(x.shape[1]):
            y, state = self.step(x[:, t], state)
            outs.append(y)
        return torch.stack(outs, dim=1)
