"""chemistry.exact: sector-restricted eigenpairs live in their electron-number sector and reproduce
the FCI energy; a sector that does not exist is refused."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyscf")

from chemistry.exact import exact_eigenstates, exact_ground_state  # noqa: E402
from chemistry.mapping import number_operator  # noqa: E402


def test_exact_eigenstates_sector(molecules):
    mol = molecules("H2")
    values, vectors = exact_eigenstates(mol.hamiltonian, 2, k=3)
    assert values.shape == (3,) and vectors.shape == (16, 3)
    assert values[0] == pytest.approx(mol.energies["fci"], abs=1e-10)
    assert np.all(np.diff(values) >= -1e-12)
    # eigenvectors live on 2-electron basis states only
    popcount = np.array([bin(i).count("1") for i in range(16)])
    assert np.allclose(vectors[popcount != 2], 0)
    # without a sector the lowest state of H2 in STO-3G is still the 2-electron ground state
    assert exact_ground_state(mol.hamiltonian)[0] <= values[0] + 1e-12


def test_bad_sector_raises(molecules):
    mol = molecules("H2")
    with pytest.raises(ValueError, match="n_electrons=5"):
        exact_ground_state(mol.hamiltonian, 5)
    with pytest.raises(ValueError, match="unknown mapping"):
        number_operator(4, mapping="bk")
