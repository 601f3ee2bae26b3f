"""UCCSD-VQE on the batched Pauli-exponential path: the fast state-vector reference for VQE.

``U(theta) = prod_k exp(-i theta_k G_k)`` over singles then doubles, applied to the HF determinant
as Pauli exponentials (each excitation's strings commute, so this is exact) and differentiated by
autograd; L-BFGS converges in tens of iterations. The circuit-based, any-engine VQE lives in
:mod:`chemistry.vqe`; the two are cross-checked in the tests.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from chemistry.excitations import excitation_pauli_terms, uccsd_excitations
from chemistry.pauli_evolution import PauliSequence, PauliTable, SparseHamiltonian, basis_states, evolve
from circuits.errors import ChemistryError


@dataclass
class UCCResult:
    energy: float
    parameters: np.ndarray
    excitations: list[tuple[int, ...]]
    sequence: PauliSequence
    history: list[float] = field(default_factory=list)
    n_evaluations: int = 0
    seconds: float = 0.0


class UCCSDEnergy(torch.nn.Module):
    """``theta -> <HF| U(theta)^dagger H U(theta) |HF>`` for the molecule's UCCSD ansatz."""

    def __init__(self, molecule, excitations=None):
        super().__init__()
        if excitations is None:
            singles, doubles = uccsd_excitations(molecule.n_qubits, molecule.n_alpha, molecule.n_beta)
            excitations = [*singles, *doubles]
        self.excitations = [tuple(e) for e in excitations]
        if not self.excitations:
            raise ChemistryError("UCCSD needs at least one excitation (is every orbital full or empty?)")
        n = molecule.n_qubits
        labels, which, owner, coeff = [], [], [], []
        index: dict[str, int] = {}
        for k, exc in enumerate(self.excitations):
            for label, c in excitation_pauli_terms(exc, n):
                which.append(index.setdefault(label, len(index)))
                labels.append(label)
                owner.append(k)
                coeff.append(c)
        self.n_qubits = n
        self.table = PauliTable.build(list(index), n)
        self.labels = labels
        self.register_buffer("which", torch.as_tensor(which))
        self.register_buffer("owner", torch.as_tensor(owner))
        self.register_buffer("coeff", torch.as_tensor(coeff, dtype=torch.float64))
        self.hf = basis_states([molecule.hf_bitstring])
        self.hamiltonian = SparseHamiltonian(molecule.hamiltonian)

    def sequence(self, theta) -> PauliSequence:
        angles = (self.coeff * torch.as_tensor(np.asarray(theta, dtype=float))[self.owner]).tolist()
        return PauliSequence(self.labels, angles, self.n_qubits)

    def forward(self, theta: torch.Tensor) -> torch.Tensor:
        psi = evolve(self.hf, self.table, self.which, (self.coeff * theta[self.owner])[None])
        return self.hamiltonian.energy(psi)[0]


def run_uccsd(
    molecule,
    *,
    excitations=None,
    maxiter: int = 200,
    tol: float = 1e-10,
    initial=None,
    progress: bool = False,
) -> UCCResult:
    """Minimise the UCCSD energy with L-BFGS (strong Wolfe) from ``initial`` (default zeros)."""
    energy_fn = UCCSDEnergy(molecule, excitations)
    n_par = len(energy_fn.excitations)
    theta0 = np.zeros(n_par) if initial is None else np.asarray(initial, dtype=float).ravel()
    if theta0.shape != (n_par,):
        raise ChemistryError(f"initial has {theta0.size} values; the ansatz has {n_par} parameters")
    theta = torch.tensor(theta0, requires_grad=True)
    opt = torch.optim.LBFGS(
        [theta],
        lr=1.0,
        max_iter=maxiter,
        tolerance_grad=1e-9,
        tolerance_change=tol,
        history_size=50,
        line_search_fn="strong_wolfe",
    )
    history: list[float] = []
    t0 = time.perf_counter()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc="UCCSD", unit="eval")

    def closure():
        opt.zero_grad()
        e = energy_fn(theta)
        e.backward()
        history.append(float(e.detach()))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(energy=f"{history[-1]:.8f}")
        return e

    opt.step(closure)
    if bar is not None:
        bar.close()
    with torch.no_grad():
        final = float(energy_fn(theta))
    params = theta.detach().numpy().copy()
    return UCCResult(
        final,
        params,
        energy_fn.excitations,
        energy_fn.sequence(params),
        history,
        len(history) + 1,
        time.perf_counter() - t0,
    )
