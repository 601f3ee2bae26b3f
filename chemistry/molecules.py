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

The fermion-to-qubit step is :mod:`chemistry.mapping`; exact diagonalisation is
:mod:`chemistry.exact`.
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

from chemistry.exact import exact_ground_state
from chemistry.mapping import _check_mapping, hf_bitstring, number_operator, qubit_hamiltonian
from circuits.errors import ChemistryError, UnknownNameError

__all__ = [
    "BOND_LENGTHS",
    "GEOMETRIES",
    "Molecule",
    "UnknownMoleculeError",
    "molecule",
]


class UnknownMoleculeError(UnknownNameError, ChemistryError):
    """A molecule name that is neither a known name nor a geometry; the message lists the names.

    Both a ``KeyError`` (an unknown name) and a ``ValueError`` (bad molecule input, as before)."""


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
        """Nuclear repulsion plus frozen-core energy, the scalar part of the active-space Hamiltonian."""
        return self.nuclear_repulsion + self.core_energy

    def number_operator(self) -> SparsePauliOp:
        """The particle-number operator in this molecule's qubit mapping."""
        return number_operator(self.n_qubits, mapping=self.mapping)

    def exact_ground_state(self) -> tuple[float, np.ndarray]:
        """Lowest eigenpair of ``hamiltonian`` in this molecule's electron-number sector."""
        return exact_ground_state(self.hamiltonian, self.n_electrons, mapping=self.mapping)


def _resolve_geometry(geometry_or_name: Any, bond_length: float | None) -> tuple[str, Any]:
    """(name, pyscf atom spec) from a known name, a pyscf atom string or a list of (symbol, xyz)."""
    if bond_length is not None:
        if isinstance(bond_length, bool) or not isinstance(bond_length, (int, float)):
            raise ChemistryError(f"bond_length must be a number in Angstrom, got {bond_length!r}")
        if not math.isfinite(bond_length) or bond_length <= 0:
            raise ChemistryError(f"bond_length must be positive (Angstrom), got {bond_length!r}")
    if isinstance(geometry_or_name, str):
        text = geometry_or_name.strip()
        names = {n.lower(): n for n in GEOMETRIES}
        if text.lower() in names:
            name = names[text.lower()]
            r = BOND_LENGTHS[name] if bond_length is None else float(bond_length)
            return name, _BUILDERS[name](r)
        if not any(c in text for c in " ;\n\t,"):
            raise UnknownMoleculeError(
                f"unknown molecule name {geometry_or_name!r}; known names: {', '.join(GEOMETRIES)} "
                "(or pass a pyscf atom string such as 'H 0 0 0; H 0 0 0.74', "
                "or a list of (symbol, (x, y, z)))"
            )
        if not text:
            raise ChemistryError("empty geometry string")
        if bond_length is not None:
            raise ChemistryError(
                "bond_length= works with a molecule name or a list geometry, not an atom string"
            )
        return _formula_of_string(text), text
    if isinstance(geometry_or_name, Sequence) and not isinstance(geometry_or_name, (str, bytes)):
        atoms: Geometry = []
        for i, item in enumerate(geometry_or_name):
            try:
                symbol, xyz = item
                coords = tuple(float(v) for v in xyz)
            except (TypeError, ValueError):
                raise ChemistryError(
                    f"geometry entry {i} is {item!r}; expected (symbol, (x, y, z)) in Angstrom"
                ) from None
            if not isinstance(symbol, str) or len(coords) != 3 or not all(map(math.isfinite, coords)):
                raise ChemistryError(
                    f"geometry entry {i} is {item!r}; expected (symbol, (x, y, z)) in Angstrom"
                )
            atoms.append((symbol, coords))  # type: ignore[arg-type]
        if not atoms:
            raise ChemistryError("geometry has no atoms")
        if bond_length is not None:
            if len(atoms) != 2:
                raise ChemistryError(
                    f"bond_length= needs a diatomic geometry; this one has {len(atoms)} atoms"
                )
            a, b = np.asarray(atoms[0][1]), np.asarray(atoms[1][1])
            d = np.linalg.norm(b - a)
            direction = (b - a) / d if d > 0 else np.array([0.0, 0.0, 1.0])
            atoms[1] = (atoms[1][0], tuple(float(v) for v in a + bond_length * direction))
        return _formula(atoms), atoms
    raise ChemistryError(
        f"geometry must be a molecule name ({', '.join(GEOMETRIES)}), a pyscf atom string or a list "
        f"of (symbol, (x, y, z)); got {type(geometry_or_name).__name__}"
    )


#: atoms closer than this (Angstrom) are refused: no molecule has such a bond, and pyscf would
#: fail later with a "singular matrix" from the overlapping basis functions
MIN_DISTANCE = 0.1


def _entries(atom: Any) -> list[str]:
    """The symbols as written, one per atom, of a pyscf atom string or a list geometry."""
    if isinstance(atom, str):
        parts = [e.replace(",", " ").split() for e in atom.replace("\n", ";").split(";")]
        return [p[0] for p in parts if p]
    return [str(symbol) for symbol, _ in atom]


def _check_atoms(atom: Any, gto) -> None:
    """Every symbol is a chemical element (a ghost atom only when asked for, as ``ghost-H`` or
    ``X-H``) and no two atoms are closer than :data:`MIN_DISTANCE`; the error names the atoms."""
    from pyscf.data.elements import ELEMENTS_PROTON, _std_symbol_without_ghost, is_ghost_atom

    for i, raw in enumerate(_entries(atom)):
        if raw.isdigit():
            if not 1 <= int(raw) <= 118:
                raise ChemistryError(f"atom {i + 1}: {raw} is not an atomic number (1 to 118)")
            continue
        try:
            bare = _std_symbol_without_ghost(raw)
        except Exception:
            bare = None
        explicit_ghost = raw.upper().startswith(("GHOST", "X-", "X:"))
        if bare not in ELEMENTS_PROTON or bare == "X" or (is_ghost_atom(raw) and not explicit_ghost):
            raise ChemistryError(
                f"atom {i + 1}: unknown element symbol {raw!r} (write a chemical element such as H, "
                "He, Li; a ghost atom is written ghost-H)"
            )
    try:
        formatted = gto.format_atom(atom, unit="Angstrom")
    except Exception as err:
        raise ChemistryError(f"could not read the geometry {atom!r}: {err}") from err
    coords = np.asarray([xyz for _, xyz in formatted], dtype=float) * 0.529177210903  # Bohr -> A
    if len(coords) > 1:
        d = np.linalg.norm(coords[:, None] - coords[None], axis=-1) + np.diag([np.inf] * len(coords))
        i, j = np.unravel_index(np.argmin(d), d.shape)
        if d[i, j] < MIN_DISTANCE:
            i, j = sorted((int(i), int(j)))
            raise ChemistryError(
                f"atoms {i + 1} ({formatted[i][0]}) and {j + 1} ({formatted[j][0]}) are "
                f"{d[i, j]:.3g} Angstrom apart; atoms must be at least {MIN_DISTANCE} Angstrom apart "
                "(overlapping atoms? coordinates in Bohr instead of Angstrom?)"
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
            raise ChemistryError(f"{label} must be an integer, got {value!r}")
    if spin < 0:
        raise ChemistryError(
            f"spin must be a non-negative integer 2S (alpha minus beta electrons), got {spin}"
        )
    if not isinstance(basis, str) or not basis.strip():
        raise ChemistryError(f"basis must be a basis-set name such as 'sto-3g', got {basis!r}")
    name, atom = _resolve_geometry(geometry_or_name, bond_length)
    ao2mo, cc, gto, mcscf, scf = _import_pyscf()
    _check_atoms(atom, gto)

    mol = gto.Mole()
    mol.atom, mol.basis, mol.charge, mol.spin = atom, basis, charge, spin
    mol.unit, mol.verbose = "Angstrom", 0
    # nelectron is known before build; check the electron count first so pyscf's error never shows
    try:
        n_total = mol.nelectron
    except Exception as err:
        raise ChemistryError(f"could not read the geometry {atom!r}: {err}") from err
    if n_total <= 0:
        raise ChemistryError(f"charge {charge} leaves {n_total} electrons; a molecule needs at least one")
    if (n_total - spin) % 2:
        raise ChemistryError(
            f"{n_total} electrons (charge {charge}) cannot have spin={spin}: "
            f"the electron count and 2S must have the same parity (odd electron count with spin=0?)"
        )
    if spin > n_total:
        raise ChemistryError(f"spin={spin} is larger than the electron count {n_total}")
    try:
        mol.build()
    except Exception as err:
        raise ChemistryError(
            f"pyscf could not build the molecule (geometry {atom!r}, basis {basis!r}): {err}"
        ) from err

    nmo = mol.nao_nr()
    n_act, n_orb = _check_active_space(active_space, n_total, nmo, spin)
    n_core = (n_total - n_act) // 2
    n_alpha, n_beta = (n_act + spin) // 2, (n_act - spin) // 2
    if n_alpha > n_orb:
        raise ChemistryError(
            f"active space ({n_act}, {n_orb}) with spin={spin} puts {n_alpha} alpha electrons "
            f"in {n_orb} orbitals"
        )

    mf = scf.RHF(mol) if spin == 0 else scf.ROHF(mol)
    mf.conv_tol = 1e-11
    mf.max_cycle = 200
    mf.kernel()
    if not mf.converged:
        warnings.warn(
            f"pyscf SCF did not converge for {name}; energies may be off", RuntimeWarning, stacklevel=2
        )
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
        name=name,
        geometry=geometry,
        basis=basis,
        charge=charge,
        spin=spin,
        mapping=mapping,
        hamiltonian=hamiltonian,
        n_qubits=n_qubits,
        n_electrons=n_act,
        n_orbitals=n_orb,
        n_alpha=n_alpha,
        n_beta=n_beta,
        n_core=n_core,
        active_orbitals=list(range(n_core, n_core + n_orb)),
        hf_bitstring=bits,
        hf_circuit=circuit,
        energies={"hf": e_hf, "ccsd": e_ccsd, "fci": e_fci},
        nuclear_repulsion=e_nuc,
        core_energy=e_core_total - e_nuc,
        one_body=h1,
        two_body=np.asarray(h2),
        mo_coeff=np.asarray(mf.mo_coeff),
        mol=mol,
        scf=mf,
    )


def _check_active_space(active_space: Any, n_total: int, nmo: int, spin: int) -> tuple[int, int]:
    """(n_electrons, n_orbitals) of the active space, validated against the molecule."""
    if active_space is None:
        return n_total, nmo
    try:
        n_act, n_orb = active_space
    except (TypeError, ValueError):
        raise ChemistryError(
            f"active_space must be (n_electrons, n_orbitals), got {active_space!r}"
        ) from None
    for label, v in (("electrons", n_act), ("orbitals", n_orb)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise ChemistryError(f"active_space {label} must be a positive integer, got {v!r}")
    n_act, n_orb = int(n_act), int(n_orb)
    if n_act > n_total:
        raise ChemistryError(f"active_space has {n_act} electrons but the molecule has only {n_total}")
    if n_act > 2 * n_orb:
        raise ChemistryError(
            f"active_space ({n_act}, {n_orb}): {n_act} electrons do not fit in {n_orb} orbitals"
        )
    if (n_total - n_act) % 2:
        raise ChemistryError(
            f"active_space ({n_act}, {n_orb}) leaves {n_total - n_act} core electrons; "
            "the frozen core must be doubly occupied (an even number)"
        )
    if n_act < spin:
        raise ChemistryError(f"active_space has {n_act} electrons, fewer than spin={spin} unpaired ones")
    n_core = (n_total - n_act) // 2
    if n_core + n_orb > nmo:
        raise ChemistryError(
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
        warnings.warn(
            "pyscf CCSD did not converge; energies['ccsd'] may be off", RuntimeWarning, stacklevel=3
        )
    return float(mycc.e_tot)
