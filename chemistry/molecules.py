"""Molecules -> qubit Hamiltonians: pyscf integrals, an active space, and a fermion-to-qubit map.

``molecule("H2O", active_space=(4, 4))`` runs pyscf RHF (ROHF when ``spin != 0``), folds the
frozen core into a constant and into the one-body integrals (the standard CASCI effective
Hamiltonian), and maps the active-space fermionic Hamiltonian to a Qiskit ``SparsePauliOp``.

Conventions (they hold for every object this module returns):

* **Spin orbitals are interleaved**: spin orbital ``k = 2 * p + s`` for active spatial orbital
  ``p`` (0 = lowest active MO) and spin ``s`` (0 = alpha, 1 = beta).
* **Spin orbital k is qubit k**, and qubit 0 is the least-significant bit: in a Pauli label or a
  bitstring, qubit 0 is the right-most character (Qiskit order, as everywhere in ketml).
* **Integrals are spatial and in chemists' notation**: ``one_body[p, q] = h_pq`` (core-folded),
  ``two_body[p, q, r, s] = (pq|rs)``, so that
  ``H = E_core + sum_pq,s h_pq a+_ps a_qs + 1/2 sum_pqrs,st (pq|rs) a+_ps a+_rt a_st a_qs``,
  where ``E_core`` includes the nuclear repulsion.

The fermion-to-qubit step uses PennyLane's fermionic algebra (``pennylane.fermi.FermiWord`` /
``FermiSentence`` with ``pennylane.jordan_wigner`` / ``pennylane.parity_transform``): PennyLane
is already a core dependency of ketml, its mappings are maintained and tested upstream, and
using it avoids adding OpenFermion or qiskit-nature (the latter is no longer maintained) just for
this step. PennyLane wire ``k`` is converted to Qiskit qubit ``k`` explicitly in
:func:`_to_sparse_pauli_op`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

__all__ = [
    "BOND_LENGTHS",
    "GEOMETRIES",
    "MAPPINGS",
    "Molecule",
    "exact_eigenstates",
    "exact_ground_state",
    "fermionic_number_operator",
    "hf_bitstring",
    "molecule",
    "number_operator",
    "qubit_hamiltonian",
    "spin_z_operator",
]

MAPPINGS = ("jordan_wigner", "parity")

# Equilibrium bond lengths in Angstrom (experimental; water also has its H-O-H angle).
BOND_LENGTHS: dict[str, float] = {"H2": 0.7414, "LiH": 1.5949, "BeH2": 1.3264, "N2": 1.0977, "H2O": 0.9584}
_WATER_ANGLE_DEG = 104.45

Geometry = list[tuple[str, tuple[float, float, float]]]


def _diatomic(a: str, b: str):
    return lambda r: [(a, (0.0, 0.0, 0.0)), (b, (0.0, 0.0, r))]


def _beh2(r: float) -> Geometry:
    return [("Be", (0.0, 0.0, 0.0)), ("H", (0.0, 0.0, -r)), ("H", (0.0, 0.0, r))]


def _water(r: float) -> Geometry:
    half = math.radians(_WATER_ANGLE_DEG) / 2
    x, z = r * math.sin(half), r * math.cos(half)
    return [("O", (0.0, 0.0, 0.0)), ("H", (x, 0.0, z)), ("H", (-x, 0.0, z))]


_BUILDERS = {
    "H2": _diatomic("H", "H"),
    "LiH": _diatomic("Li", "H"),
    "BeH2": _beh2,
    "N2": _diatomic("N", "N"),
    "H2O": _water,
}

#: Named molecules at their equilibrium geometry: name -> [(symbol, (x, y, z) in Angstrom), ...].
GEOMETRIES: dict[str, Geometry] = {name: build(BOND_LENGTHS[name]) for name, build in _BUILDERS.items()}


@dataclass
class Molecule:
    """A molecule's active-space qubit Hamiltonian, its Hartree-Fock state and pyscf references.

    ``hamiltonian``'s lowest eigenvalue in the ``n_electrons`` sector is the total energy (nuclear
    repulsion and frozen-core energy are in its identity term). ``energies`` holds ``"hf"``,
    ``"ccsd"`` and ``"fci"`` (CASCI in the active space), all total energies in Hartree.
    """

    name: str
    geometry: Geometry
    basis: str
    charge: int
    spin: int
    mapping: str
    hamiltonian: SparsePauliOp
    n_qubits: int
    n_electrons: int
    n_orbitals: int
    n_alpha: int
    n_beta: int
    n_core: int
    active_orbitals: list[int]
    hf_bitstring: str
    hf_circuit: QuantumCircuit
    energies: dict[str, float]
    nuclear_repulsion: float
    core_energy: float
    one_body: np.ndarray
    two_body: np.ndarray
    mo_coeff: np.ndarray
    mol: Any = field(repr=False)
    scf: Any = field(repr=False)

    @property
    def constant(self) -> float:
        """Nuclear repulsion plus frozen-core energy: the scalar part of the active-space Hamiltonian."""
        return self.nuclear_repulsion + self.core_energy

    def number_operator(self) -> SparsePauliOp:
        """The particle-number operator in this molecule's qubit mapping."""
        return number_operator(self.n_qubits, mapping=self.mapping)

    def exact_ground_state(self) -> tuple[float, np.ndarray]:
        """Lowest eigenpair of ``hamiltonian`` in this molecule's electron-number sector."""
        return exact_ground_state(self.hamiltonian, self.n_electrons, mapping=self.mapping)


# ---------------------------------------------------------------------------------------------
# input checking


def _check_mapping(mapping: str) -> str:
    if not isinstance(mapping, str) or mapping.lower() not in MAPPINGS:
        raise ValueError(f"unknown mapping {mapping!r}; use one of {', '.join(MAPPINGS)}")
    return mapping.lower()


def _resolve_geometry(geometry_or_name: Any, bond_length: float | None) -> tuple[str, Any]:
    """(name, pyscf atom spec) from a known name, a pyscf atom string or a list of (symbol, xyz)."""
    if bond_length is not None:
        if isinstance(bond_length, bool) or not isinstance(bond_length, (int, float)):
            raise ValueError(f"bond_length must be a number in Angstrom, got {bond_length!r}")
        if not math.isfinite(bond_length) or bond_length <= 0:
            raise ValueError(f"bond_length must be positive (Angstrom), got {bond_length!r}")
    if isinstance(geometry_or_name, str):
        text = geometry_or_name.strip()
        names = {n.lower(): n for n in GEOMETRIES}
        if text.lower() in names:
            name = names[text.lower()]
            r = BOND_LENGTHS[name] if bond_length is None else float(bond_length)
            return name, _BUILDERS[name](r)
        if not any(c in text for c in " ;\n\t,"):
            raise ValueError(
                f"unknown molecule name {geometry_or_name!r}; known names: {', '.join(GEOMETRIES)} "
                "(or pass a pyscf atom string such as 'H 0 0 0; H 0 0 0.74', "
                "or a list of (symbol, (x, y, z)))"
            )
        if not text:
            raise ValueError("empty geometry string")
        if bond_length is not None:
            raise ValueError("bond_length= works with a molecule name or a list geometry, not an atom string")
        return _formula_of_string(text), text
    if isinstance(geometry_or_name, Sequence) and not isinstance(geometry_or_name, (str, bytes)):
        atoms: Geometry = []
        for i, item in enumerate(geometry_or_name):
            try:
                symbol, xyz = item
                coords = tuple(float(v) for v in xyz)
            except (TypeError, ValueError):
                raise ValueError(
                    f"geometry entry {i} is {item!r}; expected (symbol, (x, y, z)) in Angstrom"
                ) from None
            if not isinstance(symbol, str) or len(coords) != 3 or not all(map(math.isfinite, coords)):
                raise ValueError(f"geometry entry {i} is {item!r}; expected (symbol, (x, y, z)) in Angstrom")
            atoms.append((symbol, coords))  # type: ignore[arg-type]
        if not atoms:
            raise ValueError("geometry has no atoms")
        if bond_length is not None:
            if len(atoms) != 2:
                raise ValueError(f"bond_length= needs a diatomic geometry; this one has {len(atoms)} atoms")
            a, b = np.asarray(atoms[0][1]), np.asarray(atoms[1][1])
            d = np.linalg.norm(b - a)
            direction = (b - a) / d if d > 0 else np.array([0.0, 0.0, 1.0])
            atoms[1] = (atoms[1][0], tuple(float(v) for v in a + bond_length * direction))
        return _formula(atoms), atoms
    raise ValueError(
        f"geometry must be a molecule name ({', '.join(GEOMETRIES)}), a pyscf atom string or a list "
        f"of (symbol, (x, y, z)); got {type(geometry_or_name).__name__}"
    )


def _formula(atoms: Geometry) -> str:
    counts: dict[str, int] = {}
    for symbol, _ in atoms:
        counts[symbol] = counts.get(symbol, 0) + 1
    return "".join(s + (str(n) if n > 1 else "") for s, n in counts.items())


def _formula_of_string(text: str) -> str:
    entries = [e.split() for e in text.replace("\n", ";").split(";") if e.strip()]
    return _formula([(e[0], (0.0, 0.0, 0.0)) for e in entries if e])


def _import_pyscf():
    try:
        import pyscf  # noqa: F401
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "chemistry.molecule needs pyscf: pip install pyscf (or pip install 'ketml[chem]')"
        ) from err
    from pyscf import ao2mo, cc, gto, mcscf, scf

    return ao2mo, cc, gto, mcscf, scf


# ---------------------------------------------------------------------------------------------
# the main entry point


def molecule(
    geometry_or_name: str | Sequence[tuple[str, Sequence[float]]],
    basis: str = "sto-3g",
    charge: int = 0,
    spin: int = 0,
    active_space: tuple[int, int] | None = None,
    bond_length: float | None = None,
    mapping: str = "jordan_wigner",
) -> Molecule:
    """Run pyscf SCF, build the active-space Hamiltonian and map it to qubits.

    ``spin`` is 2S (pyscf's convention: number of alpha minus beta electrons). ``active_space =
    (n_electrons, n_orbitals)`` takes the ``n_orbitals`` spatial MOs around the HOMO/LUMO (the
    lowest ``(N - n_electrons) / 2`` MOs are frozen core); None keeps all orbitals.
    ``bond_length`` (Angstrom) sets the bond of a named molecule or a diatomic (both O-H bonds of
    water, angle kept) for dissociation curves. Raises ``ValueError`` on bad input.

    ``energies["fci"]`` is the lowest CASCI state with ``S_z = spin / 2``; it is also the lowest
    eigenvalue of ``hamiltonian`` in the ``n_electrons`` sector unless a lower state of a different
    total spin exists (only possible for open-shell input).
    """
    mapping = _check_mapping(mapping)
    for label, value in (("charge", charge), ("spin", spin)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{label} must be an integer, got {value!r}")
    if spin < 0:
        raise ValueError(f"spin must be a non-negative integer 2S (alpha minus beta electrons), got {spin}")
    if not isinstance(basis, str) or not basis.strip():
        raise ValueError(f"basis must be a basis-set name such as 'sto-3g', got {basis!r}")
    name, atom = _resolve_geometry(geometry_or_name, bond_length)
    ao2mo, cc, gto, mcscf, scf = _import_pyscf()

    mol = gto.Mole()
    mol.atom, mol.basis, mol.charge, mol.spin = atom, basis, charge, spin
    mol.unit, mol.verbose = "Angstrom", 0
    # nelectron is known before build; check the electron count first so pyscf's error never shows
    try:
        n_total = mol.nelectron
    except Exception as err:
        raise ValueError(f"could not read the geometry {atom!r}: {err}") from err
    if n_total <= 0:
        raise ValueError(f"charge {charge} leaves {n_total} electrons; a molecule needs at least one")
    if (n_total - spin) % 2:
        raise ValueError(
            f"{n_total} electrons (charge {charge}) cannot have spin={spin}: "
            f"the electron count and 2S must have the same parity (odd electron count with spin=0?)"
        )
    if spin > n_total:
        raise ValueError(f"spin={spin} is larger than the electron count {n_total}")
    try:
        mol.build()
    except Exception as err:
        raise ValueError(
            f"pyscf could not build the molecule (geometry {atom!r}, basis {basis!r}): {err}"
        ) from err

    nmo = mol.nao_nr()
    n_act, n_orb = _check_active_space(active_space, n_total, nmo, spin)
    n_core = (n_total - n_act) // 2
    n_alpha, n_beta = (n_act + spin) // 2, (n_act - spin) // 2
    if n_alpha > n_orb:
        raise ValueError(
            f"active space ({n_act}, {n_orb}) with spin={spin} puts {n_alpha} alpha electrons "
            f"in {n_orb} orbitals"
        )

    mf = scf.RHF(mol) if spin == 0 else scf.ROHF(mol)
    mf.conv_tol = 1e-11
    mf.max_cycle = 200
    mf.kernel()
    if not mf.converged:
        warnings.warn(f"pyscf SCF did not converge for {name}; energies may be off", RuntimeWarning,
                      stacklevel=2)
    e_hf = float(mf.energy_tot(mf.make_rdm1(mf.mo_coeff, mf.mo_occ)))

    mc = mcscf.CASCI(mf, n_orb, (n_alpha, n_beta))
    mc.verbose = 0
    mc.fcisolver.conv_tol = 1e-12
    h1, e_core_total = mc.get_h1eff()
    h2 = ao2mo.restore(1, np.asarray(mc.get_h2eff()), n_orb)
    e_fci = float(mc.kernel()[0])
    e_nuc = float(mol.energy_nuc())
    e_core_total = float(e_core_total)

    e_ccsd = _ccsd_energy(cc, mf, n_core, n_orb, nmo, n_alpha, n_beta, e_hf)

    h1 = np.asarray(h1, dtype=float)
    hamiltonian = qubit_hamiltonian(h1, h2, e_core_total, mapping=mapping)
    n_qubits = 2 * n_orb
    bits = hf_bitstring(n_qubits, n_alpha, n_beta, mapping=mapping)
    circuit = QuantumCircuit(n_qubits, name="hf")
    for q in range(n_qubits):
        if bits[n_qubits - 1 - q] == "1":
            circuit.x(q)

    coords = mol.atom_coords(unit="Angstrom")
    geometry = [(mol.atom_symbol(i), tuple(float(v) for v in coords[i])) for i in range(mol.natm)]
    return Molecule(
        name=name, geometry=geometry, basis=basis, charge=charge, spin=spin, mapping=mapping,
        hamiltonian=hamiltonian, n_qubits=n_qubits, n_electrons=n_act, n_orbitals=n_orb,
        n_alpha=n_alpha, n_beta=n_beta, n_core=n_core, active_orbitals=list(range(n_core, n_core + n_orb)),
        hf_bitstring=bits, hf_circuit=circuit,
        energies={"hf": e_hf, "ccsd": e_ccsd, "fci": e_fci},
        nuclear_repulsion=e_nuc, core_energy=e_core_total - e_nuc, one_body=h1, two_body=np.asarray(h2),
        mo_coeff=np.asarray(mf.mo_coeff), mol=mol, scf=mf,
    )


def _check_active_space(active_space: Any, n_total: int, nmo: int, spin: int) -> tuple[int, int]:
    """(n_electrons, n_orbitals) of the active space, validated against the molecule."""
    if active_space is None:
        return n_total, nmo
    try:
        n_act, n_orb = active_space
    except (TypeError, ValueError):
        raise ValueError(f"active_space must be (n_electrons, n_orbitals), got {active_space!r}") from None
    for label, v in (("electrons", n_act), ("orbitals", n_orb)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"active_space {label} must be a positive integer, got {v!r}")
    n_act, n_orb = int(n_act), int(n_orb)
    if n_act > n_total:
        raise ValueError(f"active_space has {n_act} electrons but the molecule has only {n_total}")
    if n_act > 2 * n_orb:
        raise ValueError(f"active_space ({n_act}, {n_orb}): {n_act} electrons do not fit in {n_orb} orbitals")
    if (n_total - n_act) % 2:
        raise ValueError(
            f"active_space ({n_act}, {n_orb}) leaves {n_total - n_act} core electrons; "
            "the frozen core must be doubly occupied (an even number)"
        )
    if n_act < spin:
        raise ValueError(f"active_space has {n_act} electrons, fewer than spin={spin} unpaired ones")
    n_core = (n_total - n_act) // 2
    if n_core + n_orb > nmo:
        raise ValueError(
            f"active_space ({n_act}, {n_orb}) needs {n_core} core + {n_orb} active orbitals, "
            f"but the basis has only {nmo} orbitals"
        )
    return n_act, n_orb


def _ccsd_energy(cc, mf, n_core: int, n_orb: int, nmo: int, n_alpha: int, n_beta: int, e_hf: float) -> float:
    """pyscf CCSD total energy with the same frozen core and frozen virtuals as the active space."""
    if n_alpha == n_orb and n_beta == n_orb:  # no virtual orbitals: nothing to correlate
        return e_hf
    frozen = list(range(n_core)) + list(range(n_core + n_orb, nmo))
    mycc = cc.CCSD(mf, frozen=frozen or None)
    mycc.verbose = 0
    mycc.conv_tol = 1e-10
    mycc.max_cycle = 200
    mycc.kernel()
    if not mycc.converged:
        warnings.warn("pyscf CCSD did not converge; energies['ccsd'] may be off", RuntimeWarning,
                      stacklevel=3)
    return float(mycc.e_tot)


# ---------------------------------------------------------------------------------------------
# fermionic operators -> SparsePauliOp


def _map(sentence, n_qubits: int, mapping: str):
    import pennylane as pnl

    if mapping == "jordan_wigner":
        return pnl.jordan_wigner(sentence, ps=True)
    return pnl.parity_transform(sentence, n_qubits, ps=True)


def _to_sparse_pauli_op(pauli_sentence, n_qubits: int, atol: float = 1e-12) -> SparsePauliOp:
    """PennyLane PauliSentence -> SparsePauliOp: wire k becomes qubit k (right-most label character)."""
    labels, coeffs = [], []
    for word, coeff in pauli_sentence.items():
        chars = ["I"] * n_qubits
        for wire, op in word.items():
            if not 0 <= wire < n_qubits:
                raise ValueError(f"Pauli word acts on wire {wire}, outside {n_qubits} qubits")
            chars[n_qubits - 1 - wire] = op
        labels.append("".join(chars))
        coeffs.append(complex(coeff))
    if not labels:
        return SparsePauliOp("I" * n_qubits, [0.0])
    op = SparsePauliOp(labels, np.asarray(coeffs, dtype=complex)).simplify(atol=atol)
    imag = float(np.max(np.abs(op.coeffs.imag))) if op.size else 0.0
    if imag > 1e-9:
        raise RuntimeError(f"qubit operator has complex coefficients (max |imag| {imag:.2e}); not Hermitian?")
    return SparsePauliOp(op.paulis, op.coeffs.real.astype(complex))


def qubit_hamiltonian(
    one_body: np.ndarray, two_body: np.ndarray, constant: float = 0.0, *, mapping: str = "jordan_wigner"
) -> SparsePauliOp:
    """Qubit Hamiltonian of spatial integrals ``h_pq``, ``(pq|rs)`` (chemists') plus a constant.

    Spin orbital ``2p + s`` (s = 0 alpha, 1 beta) is qubit ``2p + s``. Terms that are the same
    operator up to reordering are merged before the mapping, which keeps it fast.
    """
    from pennylane.fermi import FermiSentence, FermiWord

    mapping = _check_mapping(mapping)
    h1 = np.asarray(one_body, dtype=float)
    h2 = np.asarray(two_body, dtype=float)
    n = h1.shape[0]
    if h1.shape != (n, n) or h2.shape != (n, n, n, n):
        raise ValueError(f"integral shapes {h1.shape} and {h2.shape} do not match (n, n) and (n, n, n, n)")
    n_qubits = 2 * n
    tol = 1e-14
    terms: dict[tuple, float] = {}

    def add(key: tuple, value: float) -> None:
        terms[key] = terms.get(key, 0.0) + value

    for p, q in zip(*np.nonzero(np.abs(h1) > tol), strict=True):
        for s in (0, 1):
            add(((2 * p + s, "+"), (2 * q + s, "-")), float(h1[p, q]))
    for p, q, r, s_ in zip(*np.nonzero(np.abs(h2) > tol), strict=True):
        value = 0.5 * float(h2[p, q, r, s_])
        for a in (0, 1):
            for b in (0, 1):
                P, Q, R, S = 2 * p + a, 2 * q + a, 2 * r + b, 2 * s_ + b
                if P == R or Q == S:
                    continue
                # a+_P a+_R a_S a_Q, canonicalised: creators descending, annihilators ascending
                sign = 1.0
                c1, c2 = P, R
                if c1 < c2:
                    c1, c2, sign = c2, c1, -sign
                a1, a2 = S, Q
                if a1 > a2:
                    a1, a2, sign = a2, a1, -sign
                add(((int(c1), "+"), (int(c2), "+"), (int(a1), "-"), (int(a2), "-")), sign * value)

    sentence = FermiSentence({})
    for key, value in terms.items():
        if abs(value) > tol:
            sentence[FermiWord({(i, wire): kind for i, (wire, kind) in enumerate(key)})] = value
    op = _to_sparse_pauli_op(_map(sentence, n_qubits, mapping), n_qubits) if terms else None
    identity = SparsePauliOp("I" * n_qubits, [complex(constant)])
    return identity if op is None else (op + identity).simplify(atol=1e-12)


def number_operator(n_qubits: int, mapping: str = "jordan_wigner") -> SparsePauliOp:
    """Total particle number ``sum_k a+_k a_k`` on ``n_qubits`` spin orbitals, as a SparsePauliOp."""
    from pennylane.fermi import FermiSentence, FermiWord

    mapping = _check_mapping(mapping)
    if isinstance(n_qubits, bool) or not isinstance(n_qubits, (int, np.integer)) or n_qubits <= 0:
        raise ValueError(f"n_qubits must be a positive integer, got {n_qubits!r}")
    sentence = FermiSentence({FermiWord({(0, k): "+", (1, k): "-"}): 1.0 for k in range(n_qubits)})
    return _to_sparse_pauli_op(_map(sentence, n_qubits, mapping), n_qubits)


fermionic_number_operator = number_operator


def spin_z_operator(n_qubits: int, mapping: str = "jordan_wigner") -> SparsePauliOp:
    """``S_z = 1/2 sum_p (n_p,alpha - n_p,beta)`` with the interleaved ordering (even qubits alpha)."""
    from pennylane.fermi import FermiSentence, FermiWord

    mapping = _check_mapping(mapping)
    if isinstance(n_qubits, bool) or not isinstance(n_qubits, (int, np.integer)) or n_qubits <= 0:
        raise ValueError(f"n_qubits must be a positive integer, got {n_qubits!r}")
    sentence = FermiSentence(
        {FermiWord({(0, k): "+", (1, k): "-"}): 0.5 if k % 2 == 0 else -0.5 for k in range(n_qubits)}
    )
    return _to_sparse_pauli_op(_map(sentence, n_qubits, mapping), n_qubits)


def hf_bitstring(n_qubits: int, n_alpha: int, n_beta: int, mapping: str = "jordan_wigner") -> str:
    """Hartree-Fock basis state as a Qiskit bitstring (qubit 0 right-most).

    Occupies the lowest ``n_alpha`` alpha (even) and ``n_beta`` beta (odd) spin orbitals; under
    the parity mapping qubit k holds the parity of occupations 0..k.
    """
    mapping = _check_mapping(mapping)
    if n_alpha > n_qubits // 2 or n_beta > n_qubits // 2 or min(n_alpha, n_beta) < 0:
        raise ValueError(f"{n_alpha} alpha + {n_beta} beta electrons do not fit in {n_qubits} spin orbitals")
    occ = [0] * n_qubits
    for p in range(n_alpha):
        occ[2 * p] = 1
    for p in range(n_beta):
        occ[2 * p + 1] = 1
    if mapping == "parity":
        occ = [sum(occ[: k + 1]) % 2 for k in range(n_qubits)]
    return "".join(str(b) for b in reversed(occ))


# ---------------------------------------------------------------------------------------------
# exact diagonalisation


def exact_eigenstates(
    hamiltonian: SparsePauliOp, n_electrons: int | None = None, k: int = 1, *, mapping: str = "jordan_wigner"
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` lowest eigenvalues ``(k,)`` and eigenvectors ``(2**n, k)`` of ``hamiltonian``.

    With ``n_electrons`` the search is restricted to basis states with that particle number (in
    the given qubit ``mapping``), e.g. to find the neutral ground state or (N-1)/(N-2) sectors.
    Uses scipy's sparse ``eigsh`` on ``SparsePauliOp.to_matrix(sparse=True)``; small problems use
    a dense solver.
    """
    import scipy.sparse.linalg as spla

    if not isinstance(hamiltonian, SparsePauliOp):
        raise ValueError(f"hamiltonian must be a SparsePauliOp, got {type(hamiltonian).__name__}")
    n = hamiltonian.num_qubits
    dim = 2**n
    matrix = hamiltonian.to_matrix(sparse=True).tocsr()
    if n_electrons is None:
        index = np.arange(dim)
    else:
        if isinstance(n_electrons, bool) or not isinstance(n_electrons, (int, np.integer)):
            raise ValueError(f"n_electrons must be an integer, got {n_electrons!r}")
        if not 0 <= n_electrons <= n:
            raise ValueError(f"n_electrons={n_electrons} is outside 0..{n} for {n} spin orbitals")
        counts = np.rint(number_operator(n, mapping).to_matrix(sparse=True).diagonal().real).astype(int)
        index = np.flatnonzero(counts == n_electrons)
        matrix = matrix[index][:, index]
    sub = len(index)
    if not 1 <= k <= sub:
        raise ValueError(f"k={k} eigenstates requested but the sector has dimension {sub}")
    if sub <= 512 or k >= sub - 1:
        values, vectors = np.linalg.eigh(matrix.toarray())
        values, vectors = values[:k], vectors[:, :k]
    else:
        v0 = np.random.default_rng(0).standard_normal(sub).astype(complex)
        values, vectors = spla.eigsh(matrix, k=k, which="SA", v0=v0, tol=0)
        order = np.argsort(values)
        values, vectors = values[order], vectors[:, order]
    full = np.zeros((dim, k), dtype=complex)
    full[index] = vectors
    return np.asarray(values, dtype=float), full


def exact_ground_state(
    hamiltonian: SparsePauliOp, n_electrons: int | None = None, *, mapping: str = "jordan_wigner"
) -> tuple[float, np.ndarray]:
    """Lowest eigenvalue and eigenvector ``(2**n,)`` (Qiskit order), in the ``n_electrons`` sector if set."""
    values, vectors = exact_eigenstates(hamiltonian, n_electrons, 1, mapping=mapping)
    return float(values[0]), vectors[:, 0]
