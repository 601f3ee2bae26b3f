"""Run a compiled program on a batch: state-vector mode, and density-matrix mode for
mid-circuit measurement and reset (the density matrix is a state on 2N qubits: row
qubits 0..N-1, column qubits N..2N-1, so the same kernels apply ``U rho U^dagger``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import kernels
from .program import Op

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


def run_statevector(ops: list[Op], n: int, values: torch.Tensor, dtype, device) -> Simulation:
    """Simulate ``ops`` on ``|0...0>`` for every row of ``values``."""
    psi = initial_state(n, dtype, device)
    order = kernels.canonical_order(n)
    phase = None
    success = None
    for op in ops:
        kind = op.kind
        if kind == "dense":
            psi, order = kernels.apply_dense(psi, order, op.qubits, op.tensor(values, dtype, device))
        elif kind == "diag":
            psi, order = kernels.apply_diag(psi, order, op.qubits, op.tensor(values, dtype, device))
        elif kind == "perm":
            psi, order = kernels.apply_perm(psi, order, op)
        elif kind == "phase":
            t = op.tensor(values, dtype, device).reshape(-1)
            phase = t if phase is None else phase * t
        elif kind == "postselect":
            keep = np.zeros(2, dtype=np.complex128)
            keep[op.value] = 1.0
            psi, order = kernels.apply_diag(psi, order, op.qubits, _const(keep, dtype, device))
            p = (psi.real**2 + psi.imag**2).reshape(psi.shape[0], -1).sum(dim=1)
            psi = psi / torch.sqrt(p.clamp_min(1e-30)).reshape((-1,) + (1,) * n)
            success = p if success is None else success * p
        else:  # pragma: no cover - guarded by the engine
            raise RuntimeError(f"op {kind!r} needs density-matrix mode")
    return Simulation(_finish(psi, order, values.shape[0], phase), False, success, n)


def run_density(
    ops: list[Op], n: int, values: torch.Tensor, dtype, device, record_clbits: int = 0
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

    for op in ops:
        kind = op.kind
        if kind in ("dense", "diag"):
            both(op.qubits, op.tensor(values, dtype, device), diag=kind == "diag")
        elif kind == "perm":  # pragma: no cover - density programs are compiled without perms
            raise RuntimeError("permutation ops are not used in density mode")
        elif kind == "phase":
            continue  # a global phase cancels in U rho U^dagger
        elif kind == "measure":
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
            pair(op.qubits[0], _RESET, diag=False)
        elif kind == "postselect":
            keep = np.zeros(4, dtype=np.complex128)
            keep[3 * op.value] = 1.0
            pair(op.qubits[0], keep, diag=True)
            flat = kernels.to_canonical(rho, order)
            dim = 1 << big_n
            p = torch.diagonal(flat.reshape(-1, dim, dim), dim1=1, dim2=2).real.sum(dim=1)
            rho = flat.reshape(rho.shape) / p.clamp_min(1e-30).reshape((-1,) + (1,) * (2 * big_n))
            order = kernels.canonical_order(2 * big_n)
            success = p if success is None else success * p
        else:  # pragma: no cover
            raise RuntimeError(f"unknown op {kind!r}")
    return Simulation(_finish(rho, order, values.shape[0], None), True, success, big_n)


def probabilities(sim: Simulation) -> torch.Tensor:
    """Basis-state probabilities ``(B, 2**N)`` of a finished simulation."""
    if sim.density:
        dim = 1 << sim.n_qubits
        rho_t = sim.state.reshape(-1, dim, dim)
        return torch.diagonal(rho_t, dim1=1, dim2=2).real
    return sim.state.real**2 + sim.state.imag**2
