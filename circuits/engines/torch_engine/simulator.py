"""Run a bound plan on a batch: state-vector mode, and density-matrix mode for mid-circuit
measurement and reset (the density matrix is a state on 2N qubits: row qubits 0..N-1,
column qubits N..2N-1, so the same kernels apply ``U rho U^dagger``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import kernels
from .plan import Step

_DEPHASE = np.array([1, 0, 0, 1], dtype=np.complex128)
_RESET = np.zeros((4, 4), dtype=np.complex128)
_RESET[0, 0] = _RESET[0, 3] = 1.0
_CX = np.array([[1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0]], dtype=np.complex128)


@dataclass
class Simulation:
    """A finished run: the canonical flat state ``(B, 2**n)`` or vectorised density matrix
    ``(B, 4**N)`` and, when the circuit postselects, the success probability ``(B,)``."""

    state: torch.Tensor
    density: bool
    success_probability: torch.Tensor | None
    n_qubits: int


def _const(arr: np.ndarray, dtype, device) -> torch.Tensor:
    return torch.as_tensor(arr, dtype=dtype, device=device).unsqueeze(0)


def initial_state(n: int, dtype, device) -> torch.Tensor:
    psi = torch.zeros((1,) + (2,) * n, dtype=dtype, device=device)
    psi.view(-1)[0] = 1.0
    return psi


def _finish(psi, order, batch: int, phase):
    flat = kernels.to_canonical(psi, order)
    if phase is not None:
        flat = flat * phase.reshape(-1, 1)
    if flat.shape[0] != batch:
        flat = flat.expand(batch, -1)
    return flat


def product_state(steps: list[Step], mats, n: int, dtype, device) -> torch.Tensor:
    """The state after single-qubit ``steps`` on distinct qubits act on ``|0...0>``."""
    columns = {}
    for step, m in zip(steps, mats, strict=True):
        if step.kind == "diag":
            col = torch.stack([m[:, 0], torch.zeros_like(m[:, 0])], dim=1)
        else:
            col = m[:, :, 0]
        columns[step.qubits[0]] = col
    zero = torch.tensor([[1.0, 0.0]], dtype=dtype, device=device)
    psi = columns.get(n - 1, zero)
    for q in range(n - 2, -1, -1):
        col = columns.get(q, zero)
        psi = (psi.unsqueeze(2) * col.unsqueeze(1)).reshape(max(psi.shape[0], col.shape[0]), -1)
    return psi.reshape((psi.shape[0],) + (2,) * n)


def run_statevector(
    steps: list[Step], mats, phase, n: int, batch: int, dtype, device, prefix: int = 0
) -> Simulation:
    """Apply bound ``steps`` (tensors in ``mats``) to ``|0...0>``; result has batch ``batch``.
    The first ``prefix`` steps (single-qubit, distinct qubits) are built as a product state."""
    if prefix:
        psi = product_state(steps[:prefix], mats[:prefix], n, dtype, device)
        steps, mats = steps[prefix:], mats[prefix:]
    else:
        psi = initial_state(n, dtype, device)
    order = kernels.canonical_order(n)
    success = None
    for step, m in zip(steps, mats, strict=True):
        kind = step.kind
        if kind == "dense":
            psi, order = kernels.apply_dense(psi, order, step.qubits, m)
        elif kind == "diag":
            psi, order = kernels.apply_diag(psi, order, step.qubits, m)
        elif kind == "perm":
            psi, order = kernels.apply_perm(psi, order, step.op)
        elif kind == "postselect":
            keep = np.zeros(2, dtype=np.complex128)
            keep[step.op.value] = 1.0
            psi, order = kernels.apply_diag(psi, order, step.qubits, _const(keep, dtype, device))
            p = (psi.real**2 + psi.imag**2).reshape(psi.shape[0], -1).sum(dim=1)
            psi = psi / torch.sqrt(p.clamp_min(1e-30)).reshape((-1,) + (1,) * n)
            success = p if success is None else success * p
        else:  # pragma: no cover - guarded by the engine
            raise RuntimeError(f"step {kind!r} needs density-matrix mode")
    return Simulation(_finish(psi, order, batch, phase), False, success, n)


def run_density(
    steps: list[Step], mats, n: int, batch: int, dtype, device, record_clbits: int = 0
) -> Simulation:
    """Simulate with a density matrix; with ``record_clbits`` > 0 each measurement is also
    copied into a record qubit ``n + clbit`` so that outcomes can be sampled jointly."""
    big_n = n + record_clbits
    rho = initial_state(2 * big_n, dtype, device)
    order = kernels.canonical_order(2 * big_n)
    success = None
    used_records: set[int] = set()

    def both(qubits, m, diag=False):
        nonlocal rho, order
        shifted = tuple(q + big_n for q in qubits)
        apply = kernels.apply_diag if diag else kernels.apply_dense
        rho, order = apply(rho, order, qubits, m)
        rho, order = apply(rho, order, shifted, m.conj())

    def pair(q, m, diag):
        nonlocal rho, order
        apply = kernels.apply_diag if diag else kernels.apply_dense
        rho, order = apply(rho, order, (q, q + big_n), _const(m, dtype, device))

    for step, m in zip(steps, mats, strict=True):
        kind = step.kind
        if kind in ("dense", "diag"):
            both(step.qubits, m, diag=kind == "diag")
        elif kind == "measure":
            op = step.op
            if record_clbits and op.clbit is not None:
                r = n + op.clbit
                if r in used_records:
                    pair(r, _RESET, diag=False)
                used_records.add(r)
                both((op.qubits[0], r), _const(_CX, dtype, device))
                pair(r, _DEPHASE, diag=True)
            else:
                pair(op.qubits[0], _DEPHASE, diag=True)
        elif kind == "reset":
            pair(step.qubits[0], _RESET, diag=False)
        elif kind == "postselect":
            keep = np.zeros(4, dtype=np.complex128)
            keep[3 * step.op.value] = 1.0
            pair(step.qubits[0], keep, diag=True)
            flat = kernels.to_canonical(rho, order)
            dim = 1 << big_n
            p = torch.diagonal(flat.reshape(-1, dim, dim), dim1=1, dim2=2).real.sum(dim=1)
            rho = flat.reshape((-1,) + (2,) * (2 * big_n)) / p.clamp_min(1e-30).reshape(
                (-1,) + (1,) * (2 * big_n)
            )
            order = kernels.canonical_order(2 * big_n)
            success = p if success is None else success * p
        else:  # pragma: no cover
            raise RuntimeError(f"step {kind!r} cannot run in density mode")
    return Simulation(_finish(rho, order, batch, None), True, success, big_n)


def probabilities(sim: Simulation) -> torch.Tensor:
    """Basis-state probabilities ``(B, 2**N)`` of a finished simulation."""
    if sim.density:
        dim = 1 << sim.n_qubits
        rho_t = sim.state.reshape(-1, dim, dim)
        return torch.diagonal(rho_t, dim1=1, dim2=2).real
    return sim.state.real**2 + sim.state.imag**2
