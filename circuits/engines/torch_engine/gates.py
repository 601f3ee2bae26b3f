"""Gate matrices as torch functions of their (possibly batched) parameters.

Every function takes a list of parameter values, each a ``(B,)`` tensor or a
float, plus ``dtype``/``device``, and returns either a dense matrix
``(B, d, d)`` or the diagonal ``(B, d)`` of a diagonal gate. Matrices follow
Qiskit's little-endian convention: index bit ``j`` belongs to ``qargs[j]``.
Gates without free parameters never come here: their constant matrix comes
from Qiskit itself.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def _t(x, dtype: torch.dtype, device) -> torch.Tensor:
    """A parameter as a real tensor (any leading shape; a float becomes shape (1,))."""
    real = dtype if not dtype.is_complex else torch.float64 if dtype == torch.complex128 else torch.float32
    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=real)
    return torch.tensor([float(x)], dtype=real, device=device)


def _expi(a: torch.Tensor, dtype) -> torch.Tensor:
    return torch.polar(torch.ones_like(a), a).to(dtype)


def phase(value, dtype, device) -> torch.Tensor:
    """``exp(i value)`` as a complex tensor: a global phase, possibly per sample."""
    return _expi(_t(value, dtype, device), dtype)


def _mat(rows: list[list], dtype) -> torch.Tensor:
    """Stack a nested list of tensors (common leading shape) / scalars into ``(..., d, d)``."""
    flat = [e for row in rows for e in row]
    tensors = [e for e in flat if isinstance(e, torch.Tensor)]
    shape = torch.broadcast_shapes(*(e.shape for e in tensors))
    ref = tensors[0]
    cols = [
        e.to(dtype).expand(shape)
        if isinstance(e, torch.Tensor)
        else torch.full(shape, e, dtype=dtype, device=ref.device)
        for e in flat
    ]
    d = len(rows)
    return torch.stack(cols, dim=-1).reshape(shape + (d, d))


def _cs(theta: torch.Tensor, dtype):
    half = theta / 2
    return torch.cos(half).to(dtype), torch.sin(half).to(dtype)


# --- dense single-qubit -----------------------------------------------------------------------
def rx(p, dtype, device):
    c, s = _cs(_t(p[0], dtype, device), dtype)
    return _mat([[c, -1j * s], [-1j * s, c]], dtype)


def ry(p, dtype, device):
    c, s = _cs(_t(p[0], dtype, device), dtype)
    return _mat([[c, -s], [s, c]], dtype)


def u3(p, dtype, device):
    theta, phi, lam = (_t(v, dtype, device) for v in p[:3])
    c, s = _cs(theta, dtype)
    return _mat(
        [[c, -_expi(lam, dtype) * s], [_expi(phi, dtype) * s, _expi(phi + lam, dtype) * c]],
        dtype,
    )


def u2(p, dtype, device):
    half_pi = torch.full_like(_t(p[0], dtype, device), torch.pi / 2)
    return u3([half_pi, p[0], p[1]], dtype, device)


def r(p, dtype, device):
    theta, phi = (_t(v, dtype, device) for v in p[:2])
    c, s = _cs(theta, dtype)
    return _mat([[c, -1j * _expi(-phi, dtype) * s], [-1j * _expi(phi, dtype) * s, c]], dtype)


# --- dense two-qubit --------------------------------------------------------------------------
def rxx(p, dtype, device):
    c, s = _cs(_t(p[0], dtype, device), dtype)
    m = -1j * s
    return _mat([[c, 0, 0, m], [0, c, m, 0], [0, m, c, 0], [m, 0, 0, c]], dtype)


def ryy(p, dtype, device):
    c, s = _cs(_t(p[0], dtype, device), dtype)
    m, q = -1j * s, 1j * s
    return _mat([[c, 0, 0, q], [0, c, m, 0], [0, m, c, 0], [q, 0, 0, c]], dtype)


def rzx(p, dtype, device):
    c, s = _cs(_t(p[0], dtype, device), dtype)
    m, q = -1j * s, 1j * s
    return _mat([[c, 0, m, 0], [0, c, 0, q], [m, 0, c, 0], [0, q, 0, c]], dtype)


def xx_minus_yy(p, dtype, device):
    theta, beta = (_t(v, dtype, device) for v in p[:2])
    c, s = _cs(theta, dtype)
    a = -1j * s * _expi(-beta, dtype)
    b = -1j * s * _expi(beta, dtype)
    return _mat([[c, 0, 0, a], [0, 1, 0, 0], [0, 0, 1, 0], [b, 0, 0, c]], dtype)


def xx_plus_yy(p, dtype, device):
    theta, beta = (_t(v, dtype, device) for v in p[:2])
    c, s = _cs(theta, dtype)
    a = -1j * s * _expi(-beta, dtype)
    b = -1j * s * _expi(beta, dtype)
    return _mat([[1, 0, 0, 0], [0, c, a, 0], [0, b, c, 0], [0, 0, 0, 1]], dtype)


# --- diagonal gates (return the diagonal) ------------------------------------------------------
def rz_diag(p, dtype, device):
    half = _t(p[0], dtype, device) / 2
    return torch.stack([_expi(-half, dtype), _expi(half, dtype)], dim=-1)


def phase_diag(p, dtype, device):
    lam = _t(p[0], dtype, device)
    return torch.stack([torch.ones_like(lam).to(dtype), _expi(lam, dtype)], dim=-1)


def rzz_diag(p, dtype, device):
    half = _t(p[0], dtype, device) / 2
    a, b = _expi(-half, dtype), _expi(half, dtype)
    return torch.stack([a, b, b, a], dim=-1)


# name -> (is_diagonal, function)
PARAMETRIC: dict[str, tuple[bool, Callable]] = {
    "rx": (False, rx),
    "ry": (False, ry),
    "rz": (True, rz_diag),
    "p": (True, phase_diag),
    "u1": (True, phase_diag),
    "u2": (False, u2),
    "u3": (False, u3),
    "u": (False, u3),
    "r": (False, r),
    "rxx": (False, rxx),
    "ryy": (False, ryy),
    "rzz": (True, rzz_diag),
    "rzx": (False, rzx),
    "xx_minus_yy": (False, xx_minus_yy),
    "xx_plus_yy": (False, xx_plus_yy),
}

# controlled gate name -> name of the base gate in PARAMETRIC
CONTROLLED_BASE = {
    "crx": "rx",
    "cry": "ry",
    "crz": "rz",
    "cp": "p",
    "cu1": "u1",
    "cu3": "u3",
    "mcphase": "p",
    "mcu1": "u1",
}


def cu_block(p, dtype, device):
    """The target block of ``CUGate(theta, phi, lam, gamma)``: ``e^{i gamma} U(theta, phi, lam)``."""
    gamma = _t(p[3], dtype, device)
    return _expi(gamma, dtype)[..., None, None] * u3(p[:3], dtype, device)


def controlled(block: torch.Tensor, n_ctrl: int, ctrl_state: int, diagonal: bool) -> torch.Tensor:
    """Embed a target block (dense ``(..., k, k)`` or diagonal ``(..., k)``) under ``n_ctrl``
    controls (the low index bits, as in Qiskit) that must equal ``ctrl_state``."""
    k = block.shape[-1]
    d = k << n_ctrl
    sel = torch.arange(k, device=block.device) * (1 << n_ctrl) + ctrl_state
    lead = block.shape[:-1] if diagonal else block.shape[:-2]
    if diagonal:
        out = torch.ones(lead + (d,), dtype=block.dtype, device=block.device)
        out[..., sel] = block
        return out
    eye = torch.eye(d, dtype=block.dtype, device=block.device)
    out = eye.expand(lead + (d, d)).clone()
    out[..., sel[:, None], sel[None, :]] = block
    return out
