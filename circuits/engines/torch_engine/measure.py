"""Expectation values of Pauli sums on batched state vectors or density matrices.

For a Pauli string with X-mask ``x``, Z-mask ``z`` (Y counts in both) and
``nY`` Ys, ``<P> = (-i)^nY * sum_c W_x(c) (-1)^popcount(c & z)`` with
``W_x(c) = conj(psi[c]) psi[c ^ x]`` (state) or ``rho[c ^ x, c]`` (density
matrix). Terms are grouped by ``x`` so each group costs one pass plus one
matrix product with a table of signs.
"""

from __future__ import annotations

import numpy as np
import torch
from qiskit.quantum_info import SparsePauliOp

from ...errors import ObservableError

SIGN_TABLE_BYTES = 64 << 20


class PauliPlan:
    """Precomputed grouping of the terms of several observables."""

    def __init__(self, observables: list[SparsePauliOp], n: int):
        self.n = n
        self.n_obs = len(observables)
        groups: dict[int, dict] = {}
        for k, obs in enumerate(observables):
            coeffs = obs.coeffs * (-1j) ** obs.paulis.phase
            scale = max(1.0, float(np.abs(coeffs).max(initial=0.0)))
            if np.abs(coeffs.imag).max(initial=0.0) > 1e-10 * scale:
                raise ObservableError(
                    f"observable {k} is not Hermitian (complex coefficients); "
                    "expectation values need Hermitian observables"
                )
            weights = 1 << np.arange(n, dtype=np.int64)
            xs = obs.paulis.x.astype(np.int64) @ weights
            zs = obs.paulis.z.astype(np.int64) @ weights
            ny = (obs.paulis.x & obs.paulis.z).sum(axis=1) % 4
            for x, z, y, c in zip(xs, zs, ny, coeffs.real, strict=True):
                g = groups.setdefault(int(x), {"z": [], "re": [], "im": []})
                g["z"].append(int(z))
                re_f, im_f = {0: (1, 0), 1: (0, 1), 2: (-1, 0), 3: (0, -1)}[int(y)]
                row_re = np.zeros(self.n_obs)
                row_im = np.zeros(self.n_obs)
                row_re[k] = c * re_f
                row_im[k] = c * im_f
                g["re"].append(row_re)
                g["im"].append(row_im)
        self.groups = [
            (x, np.array(g["z"], dtype=np.int64), np.array(g["re"]), np.array(g["im"]))
            for x, g in groups.items()
        ]
        self._cache: dict = {}

    def _tensors(self, gi: int, real: torch.dtype, device):
        key = (gi, real, str(device))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        x, zs, cre, cim = self.groups[gi]
        n = self.n
        table_bytes = (1 << n) * len(zs) * 8
        signs = _sign_table(n, zs, real, device) if table_bytes <= SIGN_TABLE_BYTES else None
        hit = (
            signs,
            torch.as_tensor(cre, dtype=real, device=device),
            torch.as_tensor(cim, dtype=real, device=device),
        )
        self._cache[key] = hit
        return hit

    def _signed_sums(self, w: torch.Tensor, zs: np.ndarray, signs) -> torch.Tensor:
        """``sum_c w[:, c] * (-1)^popcount(c & z)`` for every z: ``(B, T)``."""
        if signs is not None:
            if w.is_complex():
                return torch.complex(w.real @ signs, w.imag @ signs)
            return w @ signs
        n = self.n
        cols = []
        wt = w.reshape((w.shape[0],) + (2,) * n)
        for z in zs:
            qs = [q for q in range(n) if (z >> q) & 1]
            keep = [1 + (n - 1 - q) for q in qs]
            drop = [a for a in range(1, n + 1) if a not in keep]
            red = wt.sum(dim=drop) if drop else wt
            red = red.reshape(w.shape[0], -1)
            k = len(qs)
            sub = np.arange(1 << k)
            sgn = torch.as_tensor(
                1.0 - 2.0 * (np.bitwise_count(sub) & 1), dtype=w.real.dtype, device=w.device
            )
            cols.append((red * sgn).sum(dim=1))
        return torch.stack(cols, dim=1)

    def evaluate(self, flat: torch.Tensor, density: bool = False) -> torch.Tensor:
        """``(B, n_obs)`` real expectation values of a canonical flat state or density matrix."""
        n = self.n
        real = flat.real.dtype
        batch = flat.shape[0]
        out = torch.zeros(batch, self.n_obs, dtype=real, device=flat.device)
        if density:
            dim = 1 << n
            rho_t = flat.reshape(batch, dim, dim)  # [col][row] = rho[row, col]
        else:
            psi = flat
        for gi, (x, zs, _, _) in enumerate(self.groups):
            signs, cre, cim = self._tensors(gi, real, flat.device)
            axes = [1 + (n - 1 - q) for q in range(n) if (x >> q) & 1]
            if density:
                rt = rho_t.reshape((batch, 1 << n) + (2,) * n)
                if axes:
                    rt = torch.flip(rt, [a + 1 for a in axes])
                w = torch.diagonal(rt.reshape(batch, dim, dim), dim1=1, dim2=2)
                if not axes:
                    w = w.real
            elif axes:
                shaped = psi.reshape((batch,) + (2,) * n)
                w = psi.conj() * torch.flip(shaped, axes).reshape(batch, -1)
            elif psi.is_complex():
                w = psi.real**2 + psi.imag**2
            else:  # a real circuit's state (the small path's real mode)
                w = psi * psi
            s = self._signed_sums(w, zs, signs)
            if s.is_complex():
                out = out + s.real @ cre + s.imag @ cim
            else:
                out = out + s @ cre
        return out

    def apply(self, flat: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """``sum_k weights[:, k] O_k |psi>`` for a canonical flat state: used by the adjoint method."""
        n = self.n
        batch = flat.shape[0]
        out = torch.zeros_like(flat)
        for gi, (x, zs, _, _) in enumerate(self.groups):
            signs, cre, cim = self._tensors(gi, flat.real.dtype, flat.device)
            if signs is None:  # too large to keep: build for this call only
                signs = _sign_table(n, zs, flat.real.dtype, flat.device)
            # per-term coefficient times (-i)^nY: cre holds c*Re, cim holds -c*Im of (-i)^nY
            coef = torch.complex(weights @ cre.T, -(weights @ cim.T))  # (B, T)
            # (P psi)[c] = phase(c) psi[c ^ x], with phase(c) = (-i)^nY (-1)^popcount(c&z)
            axes = [1 + (n - 1 - q) for q in range(n) if (x >> q) & 1]
            shaped = flat.reshape((batch,) + (2,) * n)
            flipped = torch.flip(shaped, axes).reshape(batch, -1) if axes else flat
            # sum_t coef[b, t] * signs[c, t]
            factor = torch.complex(coef.real @ signs.T, coef.imag @ signs.T)
            out = out + factor * flipped
        return out


def _sign_table(n: int, zs: np.ndarray, real: torch.dtype, device) -> torch.Tensor:
    """``(2**n, T)`` table of ``(-1)^popcount(c & z)`` for every basis index ``c`` and Z-mask."""
    idx = np.arange(1 << n, dtype=np.int64)
    signs = 1.0 - 2.0 * (np.bitwise_count(idx[:, None] & zs[None, :]) & 1)
    return torch.as_tensor(signs, dtype=real, device=device)
