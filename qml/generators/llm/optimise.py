"""QAOA (p layers) and VQE (Sim et al. ansaetze) optimised on the torch engine, many instances at once.

Instances of one qubit count share one circuit: VQE's ansatz is the same for all; QAOA's cost
layer holds a gate for every term any instance of the batch has, its angle ``2 * gamma_l * c_k``
(zero where an instance lacks the term). The loss is the sum of the instances' energies, so with
Adam (element-wise) each instance follows its own trajectory. As the paper (optax AdamW there,
torch Adam here): lr 0.01, checks every 10 steps, stops an instance once its most probable
state is optimal or after the step budget, and restarts (init ``0.01 pi * U[0, 1)``) the ones
that did not get there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector

from circuits import statevector
from circuits.errors import ConfigurationError
from circuits.library import SIM_CIRCUIT_NUMBERS, sim_circuit

from .adaptive import adaptive_circuit, adaptive_vqe
from .hamiltonians import diagonal, terms
from .problems import Instance

__all__ = ["VQE_ANSATZE", "Method", "Solution", "circuit_for", "optimise", "qaoa_circuit"]

#: the paper's Sim et al. circuit ids
VQE_ANSATZE: tuple[int, ...] = (1, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 18)


@dataclass(frozen=True)
class Method:
    """``kind`` "qaoa" (``layers`` = p), "vqe" (Sim circuit ``ansatz``, ``layers`` repeats) or
    "adaptive" (adaptive VQE, :mod:`.adaptive`; ``layers`` 1)."""

    kind: str
    layers: int
    ansatz: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("qaoa", "vqe", "adaptive"):
            raise ConfigurationError(f"unknown method {self.kind!r}; use 'qaoa', 'vqe' or 'adaptive'")
        if not 1 <= self.layers <= 4:
            raise ConfigurationError(f"layers must be 1..4 (the paper's range), got {self.layers}")
        if self.kind == "adaptive" and (self.layers != 1 or self.ansatz is not None):
            raise ConfigurationError("adaptive VQE grows its own circuit: use layers=1 and no ansatz")
        if self.kind == "vqe" and self.ansatz not in SIM_CIRCUIT_NUMBERS:
            raise ConfigurationError(
                f"VQE needs a Sim et al. ansatz id (paper: {VQE_ANSATZE}), got {self.ansatz}"
            )

    @property
    def label(self) -> str:
        if self.kind == "adaptive":
            return "adapt-vqe"
        return f"qaoa-p{self.layers}" if self.kind == "qaoa" else f"vqe-sim{self.ansatz}-l{self.layers}"


def qaoa_circuit(n_qubits: int, supports: Sequence[tuple[int, ...]], angles, betas) -> QuantumCircuit:
    """QAOA: H on every qubit, then per layer ``l`` one ``exp(-i angles[l][k] / 2 Z_S)`` per support
    ``S`` (CX ladder, RZ, ladder back) and the mixer ``RX(2 betas[l])``. Angles may be numbers or
    parameters; a support of one qubit is a plain RZ."""
    qc = QuantumCircuit(n_qubits)
    qc.h(range(n_qubits))
    for angle_row, beta in zip(angles, betas, strict=True):
        for support, angle in zip(supports, angle_row, strict=True):
            ladder = list(zip(support[:-1], support[1:], strict=True))
            for a, b in ladder:
                qc.cx(a, b)
            qc.rz(angle, support[-1])
            for a, b in reversed(ladder):
                qc.cx(a, b)
        qc.rx(2 * beta, range(n_qubits))
    return qc


def _supports(instance: Instance) -> list[tuple[tuple[int, ...], float]]:
    return [(q, c) for q, c in terms(instance.hamiltonian) if q]


def circuit_for(
    instance: Instance, method: Method, parameters: Sequence[float], gates: Sequence | None = None
) -> QuantumCircuit:
    """The instance's own circuit with numeric ``parameters`` (QAOA: gammas then betas; adaptive
    VQE: one per gate of ``gates``)."""
    if method.kind == "adaptive":
        gates = [(name, tuple(q)) for name, q in gates or []]
        return adaptive_circuit(instance.n_qubits, gates, [float(v) for v in parameters])
    if method.kind == "vqe":
        qc = sim_circuit(method.ansatz, instance.n_qubits, method.layers)
        return qc.assign_parameters([float(v) for v in parameters])
    p = method.layers
    gammas, betas = parameters[:p], parameters[p:]
    sup = _supports(instance)
    angles = [[2 * float(g) * c for _, c in sup] for g in gammas]
    return qaoa_circuit(instance.n_qubits, [s for s, _ in sup], angles, [float(b) for b in betas])


def round_angles(qc: QuantumCircuit, decimals: int) -> QuantumCircuit:
    """A copy of a numeric circuit with every gate angle rounded to ``decimals`` (the paper: 4)."""
    out = qc.copy_empty_like()
    for inst in qc.data:
        op = inst.operation
        if op.params:
            op = op.copy()
            op.params = [round(float(v), decimals) for v in op.params]
        out.append(op, inst.qubits, inst.clbits)
    return out


def num_parameters(instance: Instance, method: Method) -> int:
    if method.kind == "qaoa":
        return 2 * method.layers
    return len(sim_circuit(method.ansatz, instance.n_qubits, method.layers).parameters)


@dataclass
class Solution:
    """An optimised instance: its parameters, energy, and whether its likeliest state is optimal."""

    parameters: list[float]
    energy: float
    optimal: bool
    steps: int
    restarts: int
    gates: list | None = None


def _adaptive(instance: Instance, lr: float) -> Solution:
    gates, angles, energy = adaptive_vqe(instance.hamiltonian, lr=lr)
    probs = (
        statevector(adaptive_circuit(instance.n_qubits, gates, angles), dtype="complex128").abs().square()[0]
    )
    top = int(probs.argmax())
    optimal = top in instance.exact().indices
    return Solution(angles, energy, optimal, len(gates), 0, [[name, list(q)] for name, q in gates])


class _Batch:
    """The shared circuit of a batch and the map from each instance's parameters to its values."""

    def __init__(self, instances: Sequence[Instance], method: Method):
        n = instances[0].n_qubits
        self.method = method
        if method.kind == "vqe":
            self.circuit = sim_circuit(method.ansatz, n, method.layers)
            return
        union = sorted({q for inst in instances for q, _ in _supports(inst)}, key=lambda s: (len(s), s))
        coeff = np.zeros((len(instances), len(union)))
        pos = {s: k for k, s in enumerate(union)}
        for i, inst in enumerate(instances):
            for q, c in _supports(inst):
                coeff[i, pos[q]] = c
        self.coeff = torch.as_tensor(coeff)
        p = method.layers
        t, b = ParameterVector("t", p * len(union)), ParameterVector("b", p)
        angles = [[t[l * len(union) + k] for k in range(len(union))] for l in range(p)]
        self.circuit = qaoa_circuit(n, union, angles, [b[l] / 2 for l in range(p)])

    def values(self, theta: torch.Tensor):
        if self.method.kind == "vqe":
            return theta
        p = self.method.layers
        gammas, betas = theta[:, :p], theta[:, p:]
        angles = 2 * gammas[:, :, None] * self.coeff[:, None, :]  # (B, p, K)
        return {"t": angles.reshape(len(theta), -1), "b": 2 * betas}


def _init(seed: int, restart: int, size: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(int(seed) * 1009 + restart)
    return 0.01 * math.pi * torch.rand(size, generator=g, dtype=torch.float64)


def optimise(
    instances: Sequence[Instance],
    method: Method,
    *,
    seeds: Sequence[int] | None = None,
    steps: int = 500,
    check_every: int = 10,
    lr: float = 0.01,
    restarts: int = 3,
    adaptive_lr: float = 0.1,
) -> list[Solution]:
    """Optimise every instance (all of one qubit count) with ``method``, batched on the torch engine.

    Each instance's starts come from its own ``seeds`` entry, so its result does not depend on the
    batch it is in. Returns, per instance, the first parameters whose likeliest state is optimal,
    else the lowest-energy end point over all starts.
    """
    if not instances:
        return []
    n = instances[0].n_qubits
    if any(inst.n_qubits != n for inst in instances):
        raise ConfigurationError("optimise() batches instances of one qubit count; group them first")
    seeds = list(range(len(instances))) if seeds is None else list(seeds)
    if method.kind == "adaptive":
        return [_adaptive(inst, adaptive_lr) for inst in instances]
    batch = _Batch(instances, method)
    diag = torch.as_tensor(np.stack([diagonal(inst.hamiltonian) for inst in instances]))
    optimal = diag <= diag.min(1, keepdim=True).values + 1e-9
    n_par = num_parameters(instances[0], method)
    best: list[Solution | None] = [None] * len(instances)
    for restart in range(restarts + 1):
        todo = [i for i, s in enumerate(best) if s is None or not s.optimal]
        if not todo:
            break
        theta = torch.stack([_init(seeds[i], restart, n_par) for i in todo]).requires_grad_(True)
        sub = _Batch([instances[i] for i in todo], method) if len(todo) < len(instances) else batch
        d, opt_mask = diag[todo], optimal[todo]
        adam = torch.optim.Adam([theta], lr=lr)
        done = torch.zeros(len(todo), dtype=torch.bool)
        for step in range(steps + 1):
            probs = statevector(sub.circuit, sub.values(theta), dtype="complex128").abs().square()
            energy = (probs * d).sum(1)
            e_now = energy.detach()
            if step % check_every == 0 or step == steps:
                hit = opt_mask.gather(1, probs.argmax(1, keepdim=True)).squeeze(1) & ~done
                for j in torch.nonzero(hit).flatten().tolist():
                    best[todo[j]] = Solution(theta[j].detach().tolist(), float(e_now[j]), True, step, restart)
                done |= hit
                if bool(done.all()) or step == steps:
                    break
            adam.zero_grad()
            energy[~done].sum().backward()
            adam.step()
        for j in torch.nonzero(~done).flatten().tolist():
            i = todo[j]
            if best[i] is None or float(e_now[j]) < best[i].energy:
                best[i] = Solution(theta[j].detach().tolist(), float(e_now[j]), False, step, restart)
    return best  # type: ignore[return-value]
