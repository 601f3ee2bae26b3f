"""q-sc-EOM for ionised states (Asthana et al., Chem. Sci. 2023): IP (N-1) and DIP (N-2) energies.

Given a ground-state circuit ``U`` (``|Psi0> = U|HF>``, e.g. from GQE or VQE) and an operator manifold
``{G_mu}`` (1h + 2h1p for IP, 2h + 3h1p for DIP), the self-consistent operators ``G~_mu = U G_mu U+``
satisfy the killer condition, so the ionised states are the eigenvectors of the Hermitian matrix

    M_mu,nu = <HF| G_mu+ U+ H U G_nu |HF>,   overlap S = 1 (U unitary, G_mu|HF> orthonormal).

Each ``G_mu|HF> = sign_mu |det_mu>`` is a determinant, so the basis states ``U G_mu |HF>`` are ``U``
applied to basis vectors: one batched call. ``U`` must conserve particle number (UCC/GQE excitation
exponentials do; single Pauli strings usually do not), which :func:`q_sc_eom` checks. Spin orbitals,
qubit order and Jordan-Wigner signs are those of :mod:`chemistry.mapping` and
:mod:`chemistry.fermion_ops` (spin orbital ``2p + s`` is qubit ``2p + s``, qubit 0 right-most).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import scipy.sparse as sp
import torch
from qiskit.quantum_info import SparsePauliOp

from chemistry.fermion_ops import _popcount, bitstring_of, determinants, excitation, sector_matrix
from circuits.errors import ChemistryError

__all__ = [
    "HARTREE_TO_EV",
    "CoreHoleState",
    "EOMResult",
    "Manifold",
    "core_hole_state",
    "dip_manifold",
    "exact_ionised_states",
    "ip_manifold",
    "q_sc_eom",
]

HARTREE_TO_EV = 27.211386245988
# a number-conserving U leaves ~1e-30 weight outside the sector; anything above this is a real leak
_LEAK_TOL = 1e-10

_IP_PARTS = ("1h", "2h1p", "3h2p")
_DIP_PARTS = ("2h", "3h1p", "4h2p")
#: Names ``q_sc_eom`` accepts for ``manifold_states``: name -> (ip or dip, manifold spec).
MANIFOLD_NAMES = {
    "ip": ("ip", "1h+2h1p"),
    "1h+2h1p": ("ip", "1h+2h1p"),
    "1h": ("ip", "1h"),
    "2h1p": ("ip", "2h1p"),
    "ip-full": ("ip", "full"),
    "dip": ("dip", "2h+3h1p"),
    "2h+3h1p": ("dip", "2h+3h1p"),
    "2h": ("dip", "2h"),
    "3h1p": ("dip", "3h1p"),
    "dip-full": ("dip", "full"),
    "3h2p": ("ip", "3h2p"),
    "1h+2h1p+3h2p": ("ip", "1h+2h1p+3h2p"),
    "4h2p": ("dip", "4h2p"),
    "2h+3h1p+4h2p": ("dip", "2h+3h1p+4h2p"),
}


@dataclass
class Manifold:
    """An operator manifold as determinants: ``G_mu |HF> = signs[mu] * |determinants[mu]>``."""

    name: str
    hf_bitstring: str
    n_electrons: int  # of the ionised states
    determinants: np.ndarray  # (n_mu,) int64 basis indices
    signs: np.ndarray  # (n_mu,) +-1.0
    labels: list[str]

    @property
    def n_qubits(self) -> int:
        return len(self.hf_bitstring)

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class EOMResult:
    """Ionised states from :func:`q_sc_eom` or :func:`exact_ionised_states`.

    ``energies[s]`` are total energies (Hartree), ascending; ``coefficients[s, mu]`` the expansion of
    state ``s`` in the basis ``U G_mu |HF>``; ``states[s]`` the full vector ``sum_mu c_mu U G_mu|HF>``.
    ``manifold[mu]`` labels basis function ``mu``; ``determinants``/``signs`` give ``G_mu|HF>``.
    """

    energies: np.ndarray
    coefficients: np.ndarray
    states: np.ndarray
    manifold: list[str]
    determinants: np.ndarray
    signs: np.ndarray
    n_electrons: int
    hf_bitstring: str | None = None
    reference_energy: float | None = None  # <Psi0|H|Psi0> with |Psi0> = U|HF> (q-sc-EOM only)
    matrix: np.ndarray | None = field(default=None, repr=False)  # M (q-sc-EOM) or H (exact)

    def __len__(self) -> int:
        return len(self.energies)


@dataclass
class CoreHoleState:
    """The ionised state picked as the core hole, with its weight and all states' weights."""

    index: int
    energy: float
    state: np.ndarray
    weight: float
    weights: np.ndarray


# ---------------------------------------------------------------------------------------------
# operator manifolds


def _parse_hf(hf_bitstring: str, n_qubits: int | None = None) -> tuple[int, list[int], list[int]]:
    """(basis index, occupied, virtual spin orbitals) of a Jordan-Wigner HF bitstring."""
    if not isinstance(hf_bitstring, str) or not hf_bitstring or set(hf_bitstring) - {"0", "1"}:
        raise ChemistryError(
            f"hf_bitstring must be a string of 0/1 (qubit 0 right-most), got {hf_bitstring!r}"
        )
    n = len(hf_bitstring)
    if n_qubits is not None and n != n_qubits:
        raise ChemistryError(
            f"hf_bitstring {hf_bitstring!r} has {n} characters but the Hamiltonian acts on {n_qubits} qubits"
        )
    if n % 2:
        raise ChemistryError(
            f"hf_bitstring {hf_bitstring!r} has an odd length; spin orbitals come in alpha/beta pairs"
        )
    index = int(hf_bitstring, 2)
    occ = [k for k in range(n) if (index >> k) & 1]
    vir = [k for k in range(n) if not (index >> k) & 1]
    return index, occ, vir


def _spin_z(index: int, n_qubits: int) -> float:
    n_a = sum((index >> k) & 1 for k in range(0, n_qubits, 2))
    n_b = sum((index >> k) & 1 for k in range(1, n_qubits, 2))
    return 0.5 * (n_a - n_b)


def _check_spin_z(spin_z) -> float | None:
    if spin_z is None:
        return None
    if (
        isinstance(spin_z, bool)
        or not isinstance(spin_z, (int, float, np.integer, np.floating))
        or not float(2 * spin_z).is_integer()
    ):
        raise ChemistryError(f"spin_z must be a multiple of 1/2 (e.g. -0.5) or None, got {spin_z!r}")
    return float(spin_z)


def _parts(manifold: str, allowed: tuple[str, ...], kind: str) -> list[str]:
    if not isinstance(manifold, str):
        raise ChemistryError(f"manifold must be a string such as {'+'.join(allowed)!r}, got {manifold!r}")
    text = manifold.strip().lower()
    if text == "full":
        return ["full"]
    parts = [p.strip() for p in text.split("+") if p.strip()]
    bad = [p for p in parts if p not in allowed]
    if not parts or bad:
        raise ChemistryError(
            f"unknown {kind} manifold {manifold!r}; use parts of {', '.join(allowed)} joined by '+' "
            f"(e.g. '{allowed[0]}+{allowed[1]}') or 'full'"
        )
    return [p for p in allowed if p in parts]


def _label(ops: list[tuple[int, bool]]) -> str:
    """Operator product as written (left-most acts last): ``[(i, F), (j, F), (a, T)]`` -> ``a+_a a_j a_i``."""
    return " ".join(f"a+_{p}" if dagger else f"a_{p}" for p, dagger in reversed(ops))


def _build(kind: str, hf_bitstring: str, manifold: str, spin_z) -> Manifold:
    allowed = _IP_PARTS if kind == "ip" else _DIP_PARTS
    parts = _parts(manifold, allowed, kind.upper())
    spin_z = _check_spin_z(spin_z)
    hf, occ, vir = _parse_hf(hf_bitstring)
    n = len(hf_bitstring)
    n_holes = 1 if kind == "ip" else 2
    n_target = len(occ) - n_holes
    if n_target < 0:
        raise ChemistryError(
            f"{kind.upper()} needs at least {n_holes} electrons; {hf_bitstring!r} has {len(occ)}"
        )
    dets: list[int] = []
    signs: list[float] = []
    labels: list[str] = []
    if parts == ["full"]:
        sectors = range(0, n_target + 1)
        for n_a in sectors:
            n_b = n_target - n_a
            if n_a > n // 2 or n_b > n // 2 or (spin_z is not None and 0.5 * (n_a - n_b) != spin_z):
                continue
            for d in determinants(n, n_a, n_b):
                dets.append(int(d))
                signs.append(1.0)
                labels.append(f"det {bitstring_of(int(d), n)}")
        order = np.argsort(dets, kind="stable")
        dets = [dets[i] for i in order]
        labels = [labels[i] for i in order]
        signs = [1.0] * len(dets)
    else:
        for part in parts:
            n_particles = int(part[part.index("h") + 1 : -1] or 0) if part.endswith("p") else 0
            holes = n_holes + n_particles
            for hole_set in combinations(occ, holes):
                for particle_set in combinations(vir, n_particles):
                    ops = [(i, False) for i in hole_set] + [(a, True) for a in particle_set]
                    sign, det = excitation(hf, ops)
                    if spin_z is not None and _spin_z(det, n) != spin_z:
                        continue
                    dets.append(det)
                    signs.append(float(sign))
                    labels.append(f"{part} {_label(ops)}")
    if not dets:
        raise ChemistryError(
            f"the {kind.upper()} manifold {manifold!r} has no determinant with S_z = {spin_z}"
        )
    return Manifold(
        name=f"{kind}:{'+'.join(parts)}",
        hf_bitstring=hf_bitstring,
        n_electrons=n_target,
        determinants=np.asarray(dets, dtype=np.int64),
        signs=np.asarray(signs),
        labels=labels,
    )


def ip_manifold(hf_bitstring: str, manifold: str = "1h+2h1p", spin_z: float | None = None) -> Manifold:
    """IP (N-1) operators on ``|HF>``: "1h" ``a_i``, "2h1p" ``a+_a a_j a_i`` (i<j occupied, a virtual),
    "3h2p" ``a+_b a+_a a_k a_j a_i``, sums such as "1h+2h1p", or "full" (every (N-1)-electron
    determinant); only states with ``S_z = spin_z`` if set."""
    return _build("ip", hf_bitstring, manifold, spin_z)


def dip_manifold(hf_bitstring: str, manifold: str = "2h+3h1p", spin_z: float | None = None) -> Manifold:
    """DIP (N-2) operators on ``|HF>``: "2h" ``a_j a_i``, "3h1p" ``a+_a a_k a_j a_i`` (i<j<k occupied,
    a virtual), "4h2p" (four holes, two particles), sums such as "2h+3h1p", or "full" (every
    (N-2)-electron determinant); ``S_z = spin_z`` if set."""
    return _build("dip", hf_bitstring, manifold, spin_z)


# ---------------------------------------------------------------------------------------------
# q-sc-EOM


def _hamiltonian_matrix(hamiltonian, n_qubits: int | None = None) -> sp.csr_matrix:
    if isinstance(hamiltonian, SparsePauliOp):
        return hamiltonian.to_matrix(sparse=True).tocsr()
    if sp.issparse(hamiltonian):
        m = sp.csr_matrix(hamiltonian)
        if m.shape[0] != m.shape[1] or m.shape[0] & (m.shape[0] - 1):
            raise ChemistryError(f"Hamiltonian matrix must be square of size 2**n, got {m.shape}")
        return m
    raise ChemistryError(
        f"hamiltonian must be a SparsePauliOp (or its scipy sparse matrix), got {type(hamiltonian).__name__}"
    )


def _apply_unitary(unitary, states: torch.Tensor) -> np.ndarray:
    if unitary is None:
        out = states
    elif hasattr(unitary, "apply") and callable(unitary.apply):
        out = unitary.apply(states)
    elif callable(unitary):
        out = unitary(states)
    else:
        raise ChemistryError(
            f"unitary must be a PauliSequence, a callable mapping (B, 2**n) states to U*states, or None; "
            f"got {type(unitary).__name__}"
        )
    if isinstance(out, torch.Tensor):
        out = out.detach().cpu().numpy()
    out = np.asarray(out, dtype=complex)
    if out.shape != tuple(states.shape):
        raise ChemistryError(f"unitary returned shape {out.shape}; expected {tuple(states.shape)}")
    return out


def _resolve_manifold(manifold_states, hf_bitstring: str, spin_z) -> Manifold:
    if isinstance(manifold_states, Manifold):
        if manifold_states.hf_bitstring != hf_bitstring:
            raise ChemistryError(
                f"the manifold was built on |HF> = {manifold_states.hf_bitstring!r}, not {hf_bitstring!r}"
            )
        return manifold_states
    if isinstance(manifold_states, str):
        key = manifold_states.strip().lower()
        if key not in MANIFOLD_NAMES:
            raise ChemistryError(
                f"unknown manifold name {manifold_states!r}; use one of {', '.join(MANIFOLD_NAMES)}"
            )
        kind, spec = MANIFOLD_NAMES[key]
        return _build(kind, hf_bitstring, spec, spin_z)
    raise ChemistryError(
        f"manifold_states must be a Manifold (ip_manifold / dip_manifold) or a name such as 'ip', 'dip', "
        f"'ip-full'; got {type(manifold_states).__name__}"
    )


def q_sc_eom(
    hamiltonian: SparsePauliOp | sp.spmatrix,
    hf_bitstring: str,
    unitary: Callable | None,
    manifold_states: Manifold | str,
    *,
    spin_z: float | None = None,
    atol: float = 1e-8,
) -> EOMResult:
    """Ionised states from q-sc-EOM: diagonalise ``M = <HF|G+ U+ H U G|HF>`` on ``manifold_states``.

    ``unitary``: a ``PauliSequence``, any callable ``(B, 2**n) -> U @ states`` (torch complex128 in),
    or None (``U = 1``: EOM on Hartree-Fock). ``manifold_states``: a :class:`Manifold` or a name
    ("ip" = 1h+2h1p, "dip" = 2h+3h1p, a single part or sum such as "1h+2h1p+3h2p", "ip-full",
    "dip-full"; ``spin_z`` then restricts it). Raises ``ValueError`` if ``U`` does not conserve
    particle number or if the basis ``U G_mu|HF>`` is not orthonormal (``max |S - 1| > atol``: the
    EOM equations need S = 1).
    ``reference_energy`` of the result is ``<HF|U+ H U|HF>``; IPs are ``energies - reference_energy``.
    """
    matrix = _hamiltonian_matrix(hamiltonian)
    n = int(matrix.shape[0]).bit_length() - 1
    hf, occ, _ = _parse_hf(hf_bitstring, n)
    man = _resolve_manifold(manifold_states, hf_bitstring, spin_z)
    n_mu, dim = len(man), 2**n

    # rows 0..n_mu-1: G_mu|HF> = sign_mu |det_mu>; last row: |HF> itself (for <Psi0|H|Psi0>)
    basis = torch.zeros(n_mu + 1, dim, dtype=torch.complex128)
    basis[torch.arange(n_mu), torch.as_tensor(man.determinants)] = torch.as_tensor(
        man.signs, dtype=torch.complex128
    )
    basis[n_mu, hf] = 1.0
    rotated = _apply_unitary(unitary, basis)

    counts = _popcount(np.arange(dim, dtype=np.int64))
    prob = np.abs(rotated) ** 2
    leak = np.concatenate(
        [prob[:n_mu, counts != man.n_electrons].sum(1), prob[n_mu:, counts != len(occ)].sum(1)]
    )
    if leak.max() > _LEAK_TOL:
        mu = int(np.argmax(leak))
        mean_n = prob[mu] @ counts / prob[mu].sum()
        target = man.n_electrons if mu < n_mu else len(occ)
        what = f"U G_mu|HF> for {man.labels[mu]!r}" if mu < n_mu else "U|HF>"
        raise ChemistryError(
            f"the unitary does not conserve particle number: {what} has weight {leak[mu]:.3g} outside the "
            f"{target}-electron sector (<N> = {mean_n:.4f}); q-sc-EOM needs a number-conserving U "
            "(e.g. exponentials of UCC excitation generators, not single Pauli strings)"
        )

    # the basis lives in the target N sector (checked above): work on its columns only
    support = np.flatnonzero(counts == man.n_electrons)
    vectors = rotated[:n_mu, support]
    overlap = vectors.conj() @ vectors.T
    dev = float(np.max(np.abs(overlap - np.eye(n_mu))))
    if dev > atol:
        raise ChemistryError(
            f"overlap S = <HF|G+ U+ U G|HF> is not the identity (max deviation {dev:.3g}): U is not unitary "
            "or the manifold repeats a determinant; q-sc-EOM assumes S = 1"
        )
    m = vectors.conj() @ np.asarray(matrix[support][:, support] @ vectors.T)
    herm = float(np.max(np.abs(m - m.conj().T)))
    if herm > 1e-8 * max(1.0, float(np.max(np.abs(m)))):
        raise ChemistryError(f"M is not Hermitian (max |M - M+| = {herm:.3g}); is the Hamiltonian Hermitian?")
    m = 0.5 * (m + m.conj().T)
    energies, coeffs = np.linalg.eigh(m)
    psi0 = rotated[n_mu]
    reference = float(np.real(np.vdot(psi0, matrix @ psi0)))
    states = np.zeros((n_mu, dim), dtype=complex)
    states[:, support] = coeffs.T @ vectors
    return EOMResult(
        energies=energies,
        coefficients=coeffs.T.copy(),
        states=states,
        manifold=list(man.labels),
        determinants=man.determinants.copy(),
        signs=man.signs.copy(),
        n_electrons=man.n_electrons,
        hf_bitstring=hf_bitstring,
        reference_energy=reference,
        matrix=m,
    )


# ---------------------------------------------------------------------------------------------
# picking the core hole; the exact reference


def core_hole_state(
    result: EOMResult, core_spin_orbital: int, *, ground_state: np.ndarray | torch.Tensor | None = None
) -> CoreHoleState:
    """The ionised state with the most core-hole character on spin orbital ``core_spin_orbital``.

    Without ``ground_state`` the weight of state ``s`` is ``|c[s, mu]|^2`` on the basis function whose
    determinant is ``|HF>`` with the core removed, i.e. on the self-consistent 1h operator
    ``U a_core U+`` (for :func:`exact_ionised_states`, U = 1: the Koopmans determinant). With
    ``ground_state`` it is ``|<s| a_core |Psi0>|^2 / <Psi0| a+_core a_core |Psi0>``, the sudden-ionisation
    overlap. The state with the largest weight is returned (O 1s of water: spin orbital 0 or 1).
    """
    n = result.states.shape[1].bit_length() - 1
    if (
        isinstance(core_spin_orbital, bool)
        or not isinstance(core_spin_orbital, (int, np.integer))
        or not 0 <= core_spin_orbital < n
    ):
        raise ChemistryError(f"core_spin_orbital {core_spin_orbital!r} is outside 0..{n - 1}")
    if ground_state is not None:
        from chemistry.fermion_ops import annihilate

        psi0 = ground_state.detach().cpu().numpy() if isinstance(ground_state, torch.Tensor) else ground_state
        psi0 = np.asarray(psi0, dtype=complex).reshape(-1)
        if psi0.shape[0] != 2**n:
            raise ChemistryError(f"ground_state has length {psi0.shape[0]}; expected {2**n}")
        hole = annihilate(psi0, int(core_spin_orbital))
        norm = float(np.vdot(hole, hole).real)
        if norm < 1e-12:
            raise ChemistryError(
                f"spin orbital {core_spin_orbital} is empty in the ground state: no core hole to make"
            )
        weights = np.abs(result.states.conj() @ hole) ** 2 / norm
    else:
        if result.hf_bitstring is None:
            raise ChemistryError(
                "the result has no hf_bitstring; pass ground_state= to pick the core hole by overlap"
            )
        hf = int(result.hf_bitstring, 2)
        if not (hf >> core_spin_orbital) & 1:
            raise ChemistryError(
                f"spin orbital {core_spin_orbital} is not occupied in |HF> = {result.hf_bitstring!r}"
            )
        target = hf ^ (1 << int(core_spin_orbital))
        where = np.flatnonzero(result.determinants == target)
        if where.size == 0:
            raise ChemistryError(
                f"the manifold has no 1h operator removing spin orbital {core_spin_orbital} (wrong S_z "
                "sector?); pass ground_state= to pick the core hole by overlap"
            )
        weights = np.abs(result.coefficients[:, where[0]]) ** 2
    best = int(np.argmax(weights))
    return CoreHoleState(
        index=best,
        energy=float(result.energies[best]),
        state=result.states[best],
        weight=float(weights[best]),
        weights=weights,
    )


def exact_ionised_states(
    hamiltonian: SparsePauliOp,
    n_qubits: int,
    n_alpha: int,
    n_beta: int,
    *,
    hf_bitstring: str | None = None,
) -> EOMResult:
    """All eigenpairs of ``hamiltonian`` in the (N = n_alpha + n_beta, S_z) sector, by dense ``eigh``.

    The classical reference for q-sc-EOM. ``coefficients`` are over the sector's determinants
    (:func:`chemistry.fermion_ops.determinants` order) and ``states`` the full ``(n_det, 2**n)``
    vectors (water STO-3G: 735 states for N-1 with S_z = -1/2, 1225 for N-2 with S_z = 0). Give
    ``hf_bitstring`` to let :func:`core_hole_state` pick by Koopmans determinant without a ground state.
    """
    if not isinstance(hamiltonian, SparsePauliOp):
        raise ChemistryError(f"hamiltonian must be a SparsePauliOp, got {type(hamiltonian).__name__}")
    if n_qubits != hamiltonian.num_qubits:
        raise ChemistryError(
            f"n_qubits={n_qubits} but the Hamiltonian acts on {hamiltonian.num_qubits} qubits"
        )
    if hf_bitstring is not None:
        _parse_hf(hf_bitstring, n_qubits)
    dets = determinants(n_qubits, n_alpha, n_beta)
    h = sector_matrix(hamiltonian, dets)
    energies, vectors = np.linalg.eigh(0.5 * (h + h.conj().T))
    states = np.zeros((len(dets), 2**n_qubits), dtype=complex)
    states[:, dets] = vectors.T
    return EOMResult(
        energies=energies,
        coefficients=vectors.T.copy(),
        states=states,
        manifold=[f"det {bitstring_of(int(d), n_qubits)}" for d in dets],
        determinants=dets,
        signs=np.ones(len(dets)),
        n_electrons=n_alpha + n_beta,
        hf_bitstring=hf_bitstring,
        matrix=h,
    )
