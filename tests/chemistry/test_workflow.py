"""chemistry.workflow: ground-state circuits from VQE-UCCSD and GQE are particle-number-conserving
Pauli sequences whose energy on the circuit engines equals the reported one, and q-sc-EOM runs on
them."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyscf")

from chemistry.eom import ip_manifold, q_sc_eom  # noqa: E402
from chemistry.gqe import GQEConfig  # noqa: E402
from chemistry.gqe.pool import excitation_pool  # noqa: E402
from chemistry.workflow import ground_state  # noqa: E402


@pytest.mark.parametrize("method", ["hf", "vqe", "gqe"])
def test_ground_state_circuit_energy_matches_the_engine(method, molecules):
    # H2: its 20 mHa correlation energy is well above chemical accuracy, so GQE has work to do
    mol = molecules("H2")
    from circuits import expval

    cfg = GQEConfig(
        ngates=6,
        num_samples=20,
        max_iters=40,
        lr=1e-3,
        beta0=5.0,
        beta_step=0.5,
        loss="exp",
        steps_per_iter=1,
        n_embd=32,
        n_head=2,
        checkpoint_every=0,
    )
    gs = ground_state(mol, method, gqe_config=cfg, progress=False)
    circuit = gs.sequence.to_circuit(mol.hf_bitstring)
    e = float(expval(circuit, mol.hamiltonian, engine="torch", dtype="complex128")[0, 0])
    assert e == pytest.approx(gs.energy, abs=1e-7)
    assert gs.error == pytest.approx(gs.energy - mol.energies["fci"])
    if method == "vqe":
        assert abs(gs.error) < 1e-6
    if method == "gqe":
        assert gs.energy < mol.energies["hf"] - 1e-2  # GQE improves on its start state
    n_op = mol.number_operator()
    assert float(expval(circuit, n_op, engine="torch", dtype="complex128")[0, 0]) == pytest.approx(2.0)
    ip = q_sc_eom(mol.hamiltonian, mol.hf_bitstring, gs.sequence, ip_manifold(mol.hf_bitstring))
    assert len(ip.energies) and np.all(np.isfinite(ip.energies))
    assert gs.gate_counts["total"] >= gs.gate_counts["cx"]


def test_frozen_orbitals_leave_the_pool(molecules):
    full = excitation_pool(12, 2, 2)
    frozen = excitation_pool(12, 2, 2, frozen=(0,))
    assert len(frozen) < len(full)
    for steps in frozen.tokens[1:]:  # orbital 0 = qubits 0 and 1 (right-most): only I or Z there
        for label, _ in steps:
            assert set(label[-2:]) <= {"I", "Z"}
    assert any(set(label[-2:]) - {"I", "Z"} for steps in full.tokens[1:] for label, _ in steps)
    with pytest.raises(ValueError, match="unknown ground-state method"):
        ground_state(molecules("H2"), "dmrg")
