"""Names for ionised states that do not depend on how the eigensolver broke a tie.

A state is named by what is invariant: its spin ``S`` from ``<S^2>`` and its dominant *spatial*
configuration (orbital occupations summed over spin), as holes (and particles) relative to
Hartree-Fock, e.g. ``holes 2,4 S=0 (singlet)``. The largest single determinant is not used for the
name: in a singlet the two spin-flipped determinants carry equal weight, so which one is "largest"
is decided by rounding. Exactly degenerate states (an arbitrary basis of their eigenspace) are first
rotated to eigenvectors of ``S^2`` within the eigenspace and then named from the projector onto each
(energy, S) block, so any rotation of the input among degenerate states gives the same names.

Spin orbital ``2p + s`` (``s = 0`` alpha, ``1`` beta) is qubit ``2p + s``, as in
:mod:`chemistry.fermion_ops`; ``S_+ = sum_p a+_{p alpha} a_{p beta}`` acts on neighbouring qubits, so
it carries no Jordan-Wigner sign.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from circuits.errors import ChemistryError

__all__ = [
    "StateCharacter",
    "dominant_determinant",
    "spin_name",
    "spin_squared_matrix",
    "state_characters",
]

#: States whose energies differ by less than this (Hartree) are treated as one degenerate level.
DEGENERACY_TOL = 1e-8
#: Configuration weights closer than this count as tied; the tie goes to the lowest orbital indices.
_WEIGHT_TIE = 1e-6
_SPIN_NAMES = {0.0: "singlet", 0.5: "doublet", 1.0: "triplet", 1.5: "quartet", 2.0: "quintet"}


@dataclass(frozen=True)
class StateCharacter:
    """What an ionised state is: spin, dominant spatial holes/particles and their weight.

    ``holes``/``particles`` are spatial orbitals (a doubly emptied orbital appears twice);
    ``weight`` is the weight of that spatial configuration, summed over spin (and over the states
    of a degenerate block, divided by its size); ``hole_populations[p]`` is the HF occupation of
    spatial orbital p minus ``<n_p alpha + n_p beta>``. ``determinant`` is the single largest
    determinant, kept as detail only: it is not invariant.
    """

    spin: float
    spin_squared: float
    holes: tuple[int, ...]
    particles: tuple[int, ...]
    weight: float
    hole_populations: tuple[float, ...]
    determinant: str = ""

    @property
    def multiplicity(self) -> int:
        return int(round(2 * self.spin)) + 1

    @property
    def configuration(self) -> str:
        """``holes 2,4`` or ``holes 1,3,4 -> 5``."""
        text = "holes " + ",".join(map(str, self.holes)) if self.holes else "HF"
        if self.particles:
            text += " -> " + ",".join(map(str, self.particles))
        return text

    @property
    def label(self) -> str:
        """``holes 2,4 S=0 (singlet)``: invariant under spin flips and degenerate rotations."""
        return f"{self.configuration} S={_spin_text(self.spin)} ({spin_name(self.spin)})"


def _spin_text(spin: float) -> str:
    twice = int(round(2 * spin))
    return str(twice // 2) if twice % 2 == 0 else f"{twice}/2"


def spin_name(spin: float) -> str:
    """``singlet``, ``doublet``, ... for S = 0, 1/2, ...; ``2S+1=...`` beyond quintets."""
    key = round(2 * spin) / 2
    return _SPIN_NAMES.get(key, f"2S+1={int(round(2 * key)) + 1}")


def _hf_occupations(hf_bitstring: str) -> np.ndarray:
    n = len(hf_bitstring)
    if n % 2 or set(hf_bitstring) - {"0", "1"}:
        raise ChemistryError(
            f"hf_bitstring must be an even-length string of 0/1 (qubit 0 right-most), got {hf_bitstring!r}"
        )
    index = int(hf_bitstring, 2)
    return np.array([((index >> 2 * p) & 1) + ((index >> 2 * p + 1) & 1) for p in range(n // 2)])


def _spatial_occupations(indices: np.ndarray, n_spatial: int) -> np.ndarray:
    """``(len(indices), n_spatial)`` occupation 0/1/2 of each spatial orbital in each determinant."""
    idx = np.asarray(indices, dtype=np.int64)[:, None]
    p = np.arange(n_spatial, dtype=np.int64)[None, :]
    return ((idx >> (2 * p)) & 1) + ((idx >> (2 * p + 1)) & 1)


def _spin_raising(sub: np.ndarray, support: np.ndarray, n_spatial: int) -> np.ndarray:
    """``S_+ psi`` for states ``sub`` given on the basis indices ``support``; compact columns."""
    targets, sources = [], []
    for p in range(n_spatial):
        sel = np.flatnonzero(((support >> (2 * p + 1)) & 1 == 1) & ((support >> (2 * p)) & 1 == 0))
        sources.append(sel)
        targets.append(support[sel] ^ (np.int64(3) << (2 * p)))
    flat = np.concatenate(targets) if targets else np.zeros(0, dtype=np.int64)
    uniq, inverse = np.unique(flat, return_inverse=True)
    out = np.zeros((sub.shape[0], len(uniq)), dtype=complex)
    start = 0
    for sel in sources:  # for one p the map is injective: plain indexed add
        cols = inverse[start : start + len(sel)]
        out[:, cols] += sub[:, sel]
        start += len(sel)
    return out


def _support(states: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.any(states != 0, axis=0)).astype(np.int64)


def _spin_parts(states: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(support, states on it, S_+ states, S_z (S_z + 1) per support index)``."""
    n = int(states.shape[1]).bit_length() - 1
    if states.shape[1] != 2**n or n % 2:
        raise ChemistryError(
            f"states must have length 2**n with n even (spin orbitals), got {states.shape[1]}"
        )
    support = _support(states)
    sub = states[:, support]
    occ = np.stack([(support >> q) & 1 for q in range(n)], axis=1)
    sz = 0.5 * (occ[:, 0::2].sum(1) - occ[:, 1::2].sum(1))
    return support, sub, _spin_raising(sub, support, n // 2), sz * (sz + 1)


def _s2_block(sub: np.ndarray, raised: np.ndarray, szsz: np.ndarray) -> np.ndarray:
    # S^2 = S_- S_+ + S_z (S_z + 1)
    return raised.conj() @ raised.T + (sub.conj() * szsz[None, :]) @ sub.T


def spin_squared_matrix(states: np.ndarray) -> np.ndarray:
    """``<i|S^2|j>`` for states ``(K, 2**n)`` (spin orbital ``2p + s``), a ``(K, K)`` matrix."""
    states = np.atleast_2d(np.asarray(states, dtype=complex))
    _, sub, raised, szsz = _spin_parts(states)
    return _s2_block(sub, raised, szsz)


def _spin_of(s2: float, odd: bool) -> float:
    """S with ``S(S+1)`` nearest ``<S^2>`` among the values an ``odd``/even electron count allows
    (a spin-contaminated approximate state still gets an integer S for an even count)."""
    twice = np.sqrt(1.0 + 4.0 * max(float(s2), 0.0)) - 1.0  # 2S
    parity = int(odd)
    return (2 * round((twice - parity) / 2) + parity) / 2


def dominant_determinant(state: np.ndarray, hf_bitstring: str) -> str:
    """The largest determinant of ``state`` as spin-orbital holes (and particles) relative to HF, e.g.
    ``"4a 4b (0.88)"`` or ``"2a 3b -> 6b (0.10)"``. Detail only: ties (singlets) break by rounding."""
    n = len(hf_bitstring)
    hf = int(hf_bitstring, 2)
    idx = int(np.argmax(np.abs(state)))
    holes = [q for q in range(n) if (hf >> q) & 1 and not (idx >> q) & 1]
    parts = [q for q in range(n) if not (hf >> q) & 1 and (idx >> q) & 1]
    name = " ".join(f"{q // 2}{'ab'[q % 2]}" for q in holes)
    if parts:
        name += " -> " + " ".join(f"{q // 2}{'ab'[q % 2]}" for q in parts)
    return f"{name} ({abs(state[idx]) ** 2:.2f})"


def _levels(energies: np.ndarray, tol: float) -> list[np.ndarray]:
    """Indices grouped into degenerate levels (consecutive in ascending energy within ``tol``)."""
    order = np.argsort(energies, kind="stable")
    groups: list[list[int]] = []
    for i in order:
        if groups and energies[i] - energies[groups[-1][-1]] <= tol:
            groups[-1].append(int(i))
        else:
            groups.append([int(i)])
    return [np.asarray(g) for g in groups]


def _dominant_configuration(
    probs: np.ndarray, keys: np.ndarray, inverse: np.ndarray, hf_occ: np.ndarray
) -> tuple[tuple[int, ...], tuple[int, ...], float]:
    """Spatial configuration ``keys[k]`` with the largest spin-summed weight: ``probs`` summed over the
    basis states ``j`` with ``inverse[j] == k``. Ties go to the fewest, then lowest, orbitals."""
    weights = np.bincount(inverse.reshape(-1), weights=probs, minlength=len(keys))
    best = float(weights.max())
    candidates = []
    for k in np.flatnonzero(weights >= best - _WEIGHT_TIE):
        diff = hf_occ - keys[k]
        holes = tuple(int(p) for p in range(len(diff)) for _ in range(max(int(diff[p]), 0)))
        parts = tuple(int(p) for p in range(len(diff)) for _ in range(max(-int(diff[p]), 0)))
        candidates.append((holes, parts, float(weights[k])))
    return min(candidates, key=lambda c: (len(c[0]) + len(c[1]), c[0], c[1]))


def state_characters(
    states: np.ndarray,
    energies: Sequence[float] | np.ndarray,
    hf_bitstring: str,
    *,
    degeneracy_tol: float = DEGENERACY_TOL,
) -> tuple[np.ndarray, list[StateCharacter]]:
    """Name each of ``states`` (``(K, 2**n)``, eigenstates with ``energies``) by spin and spatial holes.

    Returns ``(states', characters)``: ``states'`` equals ``states`` except inside exactly degenerate
    levels, which are rotated to ``S^2`` eigenvectors (any orthonormal basis of an eigenspace is as
    valid as another; this one has a definite spin per state). ``characters[i]`` describes
    ``states'[i]``; within a degenerate level, states of equal S share one name, taken from the
    projector onto their block, so the names do not depend on the basis the eigensolver returned.
    """
    states = np.atleast_2d(np.asarray(states, dtype=complex))
    energies = np.asarray(energies, dtype=float).reshape(-1)
    if len(energies) != len(states):
        raise ChemistryError(f"{len(states)} states but {len(energies)} energies")
    hf_occ = _hf_occupations(hf_bitstring)
    if states.shape[1] != 4 ** len(hf_occ):
        raise ChemistryError(
            f"states have length {states.shape[1]} but hf_bitstring {hf_bitstring!r} needs {4 ** len(hf_occ)}"
        )
    support, sub, raised, szsz = _spin_parts(states)
    occ_all = _spatial_occupations(support, len(hf_occ))
    keys, inverse = np.unique(occ_all, axis=0, return_inverse=True)
    out = states
    characters: list[StateCharacter | None] = [None] * len(states)
    for level in _levels(energies, degeneracy_tol):
        block = sub[level]
        s2 = _s2_block(block, raised[level], szsz)
        s2 = 0.5 * (s2 + s2.conj().T)
        if len(level) > 1:
            values, vectors = np.linalg.eigh(s2)
            block = vectors.T @ block  # rows: S^2 eigenvectors inside the level
            if out is states:
                out = states.copy()
            out[level] = 0
            out[np.ix_(level, support)] = block
        else:
            values = np.real(np.diag(s2))
        odd = bool(bin(int(support[np.argmax(np.abs(block[0]))])).count("1") % 2)
        spins = np.array([_spin_of(v, odd) for v in values])
        for spin in np.unique(spins):
            members = np.flatnonzero(spins == spin)
            mean = (np.abs(block[members]) ** 2).mean(axis=0)  # the block projector's diagonal, per state
            holes, parts, weight = _dominant_configuration(mean, keys, inverse, hf_occ)
            populations = tuple(float(x) for x in hf_occ - mean @ occ_all)
            for m in members:
                characters[level[m]] = StateCharacter(
                    spin=float(spin),
                    spin_squared=float(np.mean(values[members])),
                    holes=holes,
                    particles=parts,
                    weight=weight,
                    hole_populations=populations,
                    determinant=dominant_determinant(out[level[m]], hf_bitstring),
                )
    return out, [c for c in characters if c is not None]
