"""GQE operator pools: a token is one Pauli exponential (or one excitation rotation) at a fixed angle.

Token 0 is always the identity: GQE sequences start with it, as in the GQE paper and cudaqx.
A token expands to one or more commuting Pauli exponentials ``exp(-i t P)``, so any token sequence
runs on :mod:`chemistry.pauli_evolution`'s batched path and turns into a Qiskit circuit unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from chemistry.pauli_evolution import PauliSequence, PauliTable
from circuits.errors import ChemistryError

#: cudaqx's GQE coefficients (``gqe_h2.py``): +-0.1 * 2**-k, k = 0..5.
PAULI_ANGLES = (
    0.003125,
    -0.003125,
    0.00625,
    -0.00625,
    0.0125,
    -0.0125,
    0.025,
    -0.025,
    0.05,
    -0.05,
    0.1,
    -0.1,
)
#: The Auger re-implementation's excitation-rotation times +-2**k / 160, k = 1..4.
EXCITATION_ANGLES = tuple(s * 2**k / 160 for k in range(1, 5) for s in (1, -1))


@dataclass
class OperatorPool:
    """Tokens as lists of ``(Pauli string, angle)`` steps; ``names[j]`` says what token ``j`` is."""

    n_qubits: int
    tokens: list[list[tuple[str, float]]]
    names: list[str]
    conserves_particle_number: bool = False
    frozen: tuple[int, ...] = ()  # spatial orbitals no token touches
    _compiled: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if len(self.tokens) != len(self.names):
            raise ChemistryError(f"{len(self.tokens)} tokens but {len(self.names)} names")
        if not self.tokens or any(label != "I" * self.n_qubits for label, _ in self.tokens[0]):
            raise ChemistryError("token 0 of a GQE pool must be the identity (the start token)")

    def __len__(self) -> int:
        return len(self.tokens)

    def sequence(self, token_ids: Sequence[int]) -> PauliSequence:
        """The unitary of a token sequence (identity steps dropped)."""
        labels, angles = [], []
        for j in token_ids:
            for label, angle in self.tokens[int(j)]:
                if set(label) != {"I"}:
                    labels.append(label)
                    angles.append(angle)
        return PauliSequence(labels, angles, self.n_qubits)

    def compile(self, dtype: torch.dtype = torch.complex128, device: str | torch.device = "cpu"):
        """Pauli table of every distinct string, and per token padded ``(which, angle)`` arrays."""
        key = (dtype, str(device))
        if key not in self._compiled:
            labels = sorted({label for steps in self.tokens for label, _ in steps} | {"I" * self.n_qubits})
            index = {label: i for i, label in enumerate(labels)}
            width = max(len(steps) for steps in self.tokens)
            which = np.full((len(self), width), index["I" * self.n_qubits], dtype=np.int64)
            angle = np.zeros((len(self), width))
            for j, steps in enumerate(self.tokens):
                for s, (label, t) in enumerate(steps):
                    if set(label) != {"I"}:
                        which[j, s], angle[j, s] = index[label], t
            table = PauliTable.build(labels, self.n_qubits, dtype=dtype, device=device)
            self._compiled[key] = (
                table,
                torch.as_tensor(which, device=device),
                torch.as_tensor(angle, device=device),
            )
        return self._compiled[key]


def _identity(n_qubits: int) -> tuple[list[tuple[str, float]], str]:
    return [("I" * n_qubits, 0.0)], "I"


def pauli_pool(
    labels: Sequence[str], angles: Sequence[float] = PAULI_ANGLES, n_qubits: int | None = None
) -> OperatorPool:
    """Identity plus ``exp(-i t P)`` for every Pauli string ``P`` and angle ``t`` (cudaqx's pool)."""
    labels = list(dict.fromkeys(labels))
    if not labels:
        raise ChemistryError("a Pauli pool needs at least one Pauli string")
    n = n_qubits or len(labels[0])
    if not angles:
        raise ChemistryError("a pool needs at least one angle")
    ident, name = _identity(n)
    tokens, names = [ident], [name]
    for label in labels:
        if set(label) == {"I"}:
            continue
        for t in angles:
            tokens.append([(label, float(t))])
            names.append(f"exp(-i {t:+g} {label})")
    return OperatorPool(n, tokens, names)


def uccsd_string_pool(
    n_qubits: int, n_alpha: int, n_beta: int, angles: Sequence[float] = PAULI_ANGLES
) -> OperatorPool:
    """Identity plus every individual Pauli string of the UCCSD generators, times each angle.

    Single strings do not conserve particle number by themselves: use :func:`excitation_pool` where
    the circuit must stay in the N-electron sector (q-sc-EOM).
    """
    from chemistry.excitations import uccsd_pauli_pool as strings

    return pauli_pool(strings(n_qubits, n_alpha, n_beta), angles, n_qubits)


def excitation_pool(
    n_qubits: int,
    n_alpha: int,
    n_beta: int,
    angles: Sequence[float] = EXCITATION_ANGLES,
    frozen: Sequence[int] = (),
    singles: bool = True,
) -> OperatorPool:
    """Identity plus the UCCSD excitation rotations ``exp(-i t G)`` (N and S_z conserving).

    ``G`` is the excitation's Hermitian generator; its Pauli terms commute, so the token is the
    exact product of their exponentials. Excitations touching a spatial orbital in ``frozen``
    (e.g. ``(0,)``, water's O 1s) are left out: they carry little correlation and a wrong
    0.1-rad core rotation costs hartrees, which swamps the sampler.
    """
    from chemistry.excitations import excitation_pauli_terms, uccsd_excitations

    if not angles:
        raise ChemistryError("a pool needs at least one angle")
    ones, doubles = uccsd_excitations(n_qubits, n_alpha, n_beta)
    frozen = {int(k) for k in frozen}
    ident, name = _identity(n_qubits)
    tokens, names = [ident], [name]
    for exc in [*(ones if singles else []), *doubles]:
        if any(k // 2 in frozen for k in exc):
            continue
        terms = excitation_pauli_terms(exc, n_qubits)
        for t in angles:
            tokens.append([(label, float(c) * float(t)) for label, c in terms])
            names.append(f"exc{tuple(exc)}({t:+g})")
    return OperatorPool(n_qubits, tokens, names, conserves_particle_number=True, frozen=tuple(sorted(frozen)))


def screened_pool(pool: OperatorPool, hamiltonian, initial_bitstring: str, tol: float = 1e-8) -> OperatorPool:
    """Identity plus the tokens whose energy gradient on the initial state is nonzero (above
    ``tol``): on a closed-shell HF state this drops the singles (Brillouin) and the doubles that
    symmetry decouples from HF, e.g. water 737 -> 193 tokens."""
    from chemistry.gqe.sector import initial_gradients

    grad = initial_gradients(pool, hamiltonian, initial_bitstring)
    keep = [0, *(j for j in range(1, len(pool)) if abs(grad[j]) > tol)]
    return OperatorPool(
        pool.n_qubits,
        [pool.tokens[j] for j in keep],
        [pool.names[j] for j in keep],
        conserves_particle_number=pool.conserves_particle_number,
        frozen=pool.frozen,
    )


def molecule_pool(
    molecule,
    angles: Sequence[float] = EXCITATION_ANGLES,
    singles: bool = True,
    screen: bool = False,
) -> OperatorPool:
    """The excitation pool GQE uses for a molecule: core orbitals (orbital energy below -2 Ha, e.g.
    O 1s) stay out, ``angles`` per excitation, singles optional; ``screen`` keeps only the tokens
    with a nonzero energy gradient at HF (:func:`screened_pool`)."""
    energies = molecule.scf.mo_energy[molecule.active_orbitals]
    frozen = tuple(int(k) for k in np.flatnonzero(np.asarray(energies) < -2.0))
    pool = excitation_pool(
        molecule.n_qubits, molecule.n_alpha, molecule.n_beta, angles, frozen=frozen, singles=singles
    )
    return screened_pool(pool, molecule.hamiltonian, molecule.hf_bitstring) if screen else pool
