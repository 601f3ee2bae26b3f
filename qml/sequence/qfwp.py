"""Quantum fast-weight programmer (QFWP) of Chen, "Learning to Program Variational Quantum
Circuits with Fast Weights" (WCCI 2024, arXiv 2402.17760), as in the paper's public code.

At every time step a classical *slow programmer* (``Linear(s_dim -> 8)`` and two heads) emits an
additive update ``dTheta_t = L(h) (outer) Q(h)`` (``q_depth x n_qubits``) to the *fast programmer*'s
circuit weights, ``Theta_t = Theta_{t-1} + dTheta_t`` with ``Theta_0 = 0``; the fast programmer is
a VQC (H on every qubit, ``RY(x_t)`` on the first ``s_dim`` qubits, then per layer a brick of
CNOTs and ``RY(Theta_t)`` on every qubit) read out as ``<Z>`` on the first ``a_dim`` qubits, then
``Linear(a_dim -> out_dim)``. Memory lives in ``Theta_t``; the weights differ per sample, so every
step is one engine call with per-sample weights (no loop over the batch).
"""

from __future__ import annotations

import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from torch import nn

from circuits import QuantumLayer
from circuits.errors import ConfigurationError, DataError
from qml.registry import register_model

from .presets import RL_PRESET, SERIES_TRAINING

__all__ = ["QFWP", "fast_programmer_circuit"]


def fast_programmer_circuit(n_qubits: int = 8, depth: int = 2, s_dim: int = 1) -> QuantumCircuit:
    """The fast programmer: H layer, ``RY(x_i)`` on qubit ``i < s_dim``, then ``depth`` x [CNOTs on
    (0,1), (2,3), ... then (1,2), (3,4), ...; ``RY(theta[l * n + q])`` on every qubit ``q``]."""
    if not 1 <= s_dim <= n_qubits:
        raise ConfigurationError(f"s_dim must be in 1..n_qubits={n_qubits}; got {s_dim}")
    x = ParameterVector("x", s_dim)
    theta = ParameterVector("theta", depth * n_qubits)
    qc = QuantumCircuit(n_qubits, name="fast_programmer")
    qc.h(range(n_qubits))
    for i in range(s_dim):
        qc.ry(x[i], i)
    for layer in range(depth):
        for start in (0, 1):
            for q in range(start, n_qubits - 1, 2):
                qc.cx(q, q + 1)
        for q in range(n_qubits):
            qc.ry(theta[layer * n_qubits + q], q)
    return qc


class QFWP(nn.Module):
    """QFWP over sequences ``(B, T, s_dim)``: returns the per-step outputs ``(B, T, out_dim)``
    (the paper's loss uses the last step). Defaults are the paper's: 8 qubits, depth 2,
    latent 8, 4 read-out qubits."""

    def __init__(
        self,
        s_dim: int = 1,
        out_dim: int = 1,
        *,
        n_qubits: int = 8,
        depth: int = 2,
        a_dim: int = 4,
        latent: int = 8,
        engine: str = "torch",
        **engine_options,
    ):
        super().__init__()
        if not 1 <= a_dim <= n_qubits:
            raise ConfigurationError(f"a_dim must be in 1..n_qubits={n_qubits}; got {a_dim}")
        self.s_dim, self.n_qubits, self.depth = s_dim, n_qubits, depth
        self.encoder = nn.Linear(s_dim, latent)
        self.layer_head = nn.Linear(latent, depth)
        self.qubit_head = nn.Linear(latent, n_qubits)
        observables = ["I" * (n_qubits - 1 - q) + "Z" + "I" * q for q in range(a_dim)]
        self.fast = QuantumLayer(
            fast_programmer_circuit(n_qubits, depth, s_dim), observables, engine=engine, **engine_options
        )
        self.fast.weights.requires_grad_(False)  # the fast weights come from the slow programmer
        self.post = nn.Linear(a_dim, out_dim)

    def initial_state(self, batch: int, like: torch.Tensor) -> torch.Tensor:
        """``Theta_0 = 0``: fast weights ``(B, depth, n_qubits)``."""
        return like.new_zeros(batch, self.depth, self.n_qubits)

    def step(self, x_t: torch.Tensor, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One time step: ``x_t`` ``(B, s_dim)``, fast weights in and out; returns ``(y_t, Theta_t)``."""
        b = x_t.shape[0]
        h = self.encoder(x_t)
        theta = theta + self.layer_head(h).unsqueeze(2) * self.qubit_head(h).unsqueeze(1)
        q = self.fast(x_t, theta.reshape(b, -1))  # per-sample weights: one batched call
        return self.post(q), theta

    def forward(self, x: torch.Tensor, fast_weights: torch.Tensor | None = None) -> torch.Tensor:
        if x.ndim != 3 or x.shape[2] != self.s_dim:
            raise DataError(f"x must have shape (B, T, {self.s_dim}); got {tuple(x.shape)}")
        b, t_len, _ = x.shape
        theta = self.initial_state(b, x) if fast_weights is None else fast_weights
        outs = []
        for t in range(t_len):
            y, theta = self.step(x[:, t], theta)
            outs.append(y)
        self.last_fast_weights = theta
        return torch.stack(outs, dim=1)


def build_qfwp(dims: dict, *, engine: str = "torch", **options) -> QFWP:
    """QFWP for ``input_size`` values per step and ``output_size`` outputs."""
    return QFWP(dims["input_size"], dims["output_size"], engine=engine, **options)


register_model(
    "qfwp",
    tasks=("regression", "rl"),
    description="quantum fast-weight programmer (arXiv 2402.17760)",
    defaults=SERIES_TRAINING,
    presets={"rl": RL_PRESET},
    build=build_qfwp,
)
