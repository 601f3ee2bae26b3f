"""``OnionQRC``: K quantum reservoirs side by side, each with its own entangler angle so that the
spectra of their step maps occupy different annuli of the unit disc (the onion picture of
Tortorella & Micheli's onion ESN, carried to quantum reservoirs as in Tandon et al., arXiv
2505.22837: the pairing of angles with annuli is inferred, not taken from the paper).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from circuits.errors import ConfigurationError

from .reservoir import QuantumReservoir

__all__ = ["OnionQRC", "default_angles", "plot_spectra", "spectra"]


def default_angles(k: int, low: float = 0.4, high: float = 0.9) -> list[float]:
    """``k`` entangler angles spread geometrically over [low, high] (for the Ising entangler, the
    range where a 5-qubit reservoir remembers most; smaller angles move the spectrum towards 1)."""
    if k < 1:
        raise ConfigurationError(f"an onion needs at least one reservoir; got {k}")
    return [float(a) for a in np.geomspace(low, high, k)] if k > 1 else [float(np.sqrt(low * high))]


class OnionQRC:
    """K reservoirs of ``n_qubits`` with ``angles`` (default :func:`default_angles`), the same
    other settings, seeds ``seed + i``; features concatenated in reservoir order."""

    def __init__(
        self,
        reservoirs: int = 3,
        n_qubits: int = 4,
        *,
        angles: Sequence[float] | None = None,
        measurements: int | Sequence[int] = 1,
        seed: int = 0,
        **options,
    ):
        angles = list(angles) if angles is not None else default_angles(reservoirs)
        if len(angles) != reservoirs:
            raise ConfigurationError(f"{reservoirs} reservoirs need {reservoirs} angles; got {len(angles)}")
        meas = [measurements] * reservoirs if isinstance(measurements, int) else list(measurements)
        if len(meas) != reservoirs:
            raise ConfigurationError(
                f"{reservoirs} reservoirs need {reservoirs} measurement counts; got {len(meas)}"
            )
        self.reservoirs = [
            QuantumReservoir(n_qubits, a, measurements=m, seed=seed + i, **options)
            for i, (a, m) in enumerate(zip(angles, meas, strict=True))
        ]

    @property
    def n_features(self) -> int:
        return sum(r.n_features for r in self.reservoirs)

    def features(
        self, series, *, shots: int | None = None, seed: int = 0, device: str = "cpu"
    ) -> torch.Tensor:
        """The reservoirs' features concatenated on the last axis."""
        return torch.cat(
            [
                r.features(series, shots=shots, seed=seed + 101 * i, device=device)
                for i, r in enumerate(self.reservoirs)
            ],
            dim=-1,
        )


def spectra(model: OnionQRC | QuantumReservoir, x: float = 0.5) -> list[np.ndarray]:
    """Each reservoir's step-map eigenvalues for the constant input ``x``."""
    res = model.reservoirs if isinstance(model, OnionQRC) else [model]
    return [r.spectrum(x) for r in res]


def plot_spectra(model: OnionQRC | QuantumReservoir, x: float = 0.5, ax=None):
    """The onion picture: every reservoir's eigenvalues in the complex plane, the unit circle
    drawn; returns the matplotlib axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    t = np.linspace(0, 2 * np.pi, 300)
    ax.plot(np.cos(t), np.sin(t), color="0.6", lw=0.8)
    res = model.reservoirs if isinstance(model, OnionQRC) else [model]
    for r, ev in zip(res, spectra(model, x), strict=True):
        ax.scatter(ev.real, ev.imag, s=9, label=f"angle {r.angle:.2f}, m={r.measurements}")
    ax.set_aspect("equal")
    ax.set_xlabel("Re λ")
    ax.set_ylabel("Im λ")
    ax.set_title("step-map spectra (onion)")
    ax.legend(fontsize=7, loc="lower left")
    return ax
