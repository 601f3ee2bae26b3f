"""Energies of many GQE candidate circuits at once.

The default path for particle-conserving pools (``engine="sector"``, :mod:`chemistry.gqe.sector`)
evolves every candidate on the few hundred determinants its pool can reach, one batched gather per
step, and contracts with the dense restricted ``H``. ``engine="statevector"`` runs every candidate's
own token sequence on full state vectors in one pass (:func:`chemistry.pauli_evolution.evolve`) and
contracts with a sparse ``H``; ``"auto"`` picks the sector path where the pool conserves particle
number. The engine path turns
each candidate into a Qiskit circuit and calls ``circuits.expval`` on a list, so ``executor=``
(Dask workers) and ``engine="cudaq"`` (GPUs) work for GQE like for any circuit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from qiskit.quantum_info import SparsePauliOp

from chemistry.gqe.pool import OperatorPool
from chemistry.pauli_evolution import SparseHamiltonian, basis_states, evolve
from circuits.errors import ChemistryError


class CandidateEnergies:
    """``energies(token_ids)`` -> ``<H>`` after ``initial`` and each row's token sequence.

    ``engine="auto"`` (sector path for particle-conserving pools, else ``"statevector"``),
    ``"sector"`` and ``"statevector"`` are the batched fast paths; any other name (``"torch"``, ``"aer"``,
    ``"cudaq"``, ...) evaluates circuits through :func:`circuits.expval`, optionally on ``executor``.
    ``number_penalty`` adds ``mu * (<N> - N)**2`` for pools that can leave the N-electron sector.
    """

    def __init__(
        self,
        hamiltonian: SparsePauliOp,
        pool: OperatorPool,
        initial_bitstring: str,
        *,
        engine: str = "auto",
        executor=None,
        chunk: int = 64,
        number_penalty: float = 0.0,
        n_electrons: int | None = None,
        device: str | torch.device = "cpu",
        **engine_options,
    ):
        if hamiltonian.num_qubits != pool.n_qubits:
            raise ChemistryError(
                f"the Hamiltonian acts on {hamiltonian.num_qubits} qubits but the pool on {pool.n_qubits}"
            )
        if len(initial_bitstring) != pool.n_qubits:
            raise ChemistryError(
                f"initial bitstring {initial_bitstring!r} must have {pool.n_qubits} characters"
            )
        if number_penalty < 0:
            raise ChemistryError(f"number_penalty must be >= 0, got {number_penalty}")
        if engine == "auto":
            engine = "sector" if pool.conserves_particle_number and executor is None else "statevector"
        if executor is not None and engine in ("statevector", "sector"):
            raise ChemistryError("executor= needs a circuit engine (engine='torch', 'aer', 'cudaq', ...)")
        self.hamiltonian, self.pool, self.initial = hamiltonian, pool, initial_bitstring
        self.engine, self.executor, self.chunk = engine, executor, int(chunk)
        self.engine_options, self.device = engine_options, device
        self.number_penalty = float(number_penalty)
        self.n_electrons = initial_bitstring.count("1") if n_electrons is None else int(n_electrons)
        self.n_evaluations = 0
        self._sparse = None
        self._number = None
        self._sector = None

    def _number_op(self) -> SparsePauliOp:
        n = self.pool.n_qubits
        terms = [("I" * n, n / 2)] + [("I" * (n - 1 - q) + "Z" + "I" * q, -0.5) for q in range(n)]
        return SparsePauliOp.from_list(terms)

    def states(self, token_ids: torch.Tensor) -> torch.Tensor:
        """Final state vectors ``(B, 2**n)`` of the candidates (the fast path)."""
        table, tok_which, tok_angle = self.pool.compile(device=self.device)
        ids = torch.as_tensor(token_ids, device=self.device)
        if ids.dim() != 2:
            raise ChemistryError(f"token_ids must be (batch, length), got shape {tuple(ids.shape)}")
        which = tok_which[ids].reshape(ids.shape[0], -1)
        angle = tok_angle[ids].reshape(ids.shape[0], -1)
        keep = (angle != 0).any(dim=0)  # steps that are identity for every candidate cost nothing
        psi = basis_states([self.initial], device=self.device).expand(ids.shape[0], -1)
        return evolve(psi, table, which[:, keep], angle[:, keep])

    def __call__(self, token_ids: torch.Tensor | Sequence[Sequence[int]]) -> np.ndarray:
        ids = torch.as_tensor(token_ids)
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= len(self.pool)):
            raise ChemistryError(f"token ids must lie in [0, {len(self.pool)})")
        self.n_evaluations += int(ids.shape[0])
        if self.engine == "statevector":
            return self._fast(ids)
        if self.engine == "sector":
            return self._in_sector(ids)
        return self._engine(ids)

    def sector(self):
        """``(SectorPool, dense H, popcounts)`` of the reachable sector, built on first use."""
        if self._sector is None:
            from chemistry.gqe.sector import SectorPool, reachable_sector, sector_hamiltonian

            basis = reachable_sector(self.pool, self.initial)
            tokens = SectorPool(self.pool, basis, device=self.device)
            h = sector_hamiltonian(self.hamiltonian, basis, tokens.dtype, device=self.device)
            counts = torch.as_tensor([bin(int(b)).count("1") for b in basis], dtype=torch.float64)
            self._sector = (tokens, h, counts.to(self.device))
        return self._sector

    def _in_sector(self, ids: torch.Tensor) -> np.ndarray:
        tokens, h, counts = self.sector()
        ids = ids.to(self.device)
        start = int(np.searchsorted(tokens.basis, int(self.initial, 2)))
        out = []
        with torch.no_grad():
            for lo in range(0, ids.shape[0], max(self.chunk, 256)):
                part = ids[lo : lo + max(self.chunk, 256)]
                psi = torch.zeros(part.shape[0], tokens.basis.size, dtype=tokens.dtype, device=self.device)
                psi[:, start] = 1.0
                keep = (part != 0).any(dim=0)  # steps that are identity for every candidate cost nothing
                psi = tokens.evolve(psi, part[:, keep])
                norm = (psi.conj() * psi).real.sum(dim=1)
                e = (psi.conj() * (psi @ h.T)).real.sum(dim=1) / norm
                if self.number_penalty:
                    n = ((psi.conj() * psi).real * counts).sum(dim=1) / norm
                    e = e + self.number_penalty * (n - self.n_electrons) ** 2
                out.append(e.cpu().numpy())
        return np.concatenate(out)

    def _fast(self, ids: torch.Tensor) -> np.ndarray:
        if self._sparse is None:
            self._sparse = SparseHamiltonian(self.hamiltonian, device=self.device)
            if self.number_penalty:
                self._number = SparseHamiltonian(self._number_op(), device=self.device)
        out = []
        with torch.no_grad():
            for start in range(0, ids.shape[0], self.chunk):
                psi = self.states(ids[start : start + self.chunk])
                e = self._sparse.energy(psi)
                if self._number is not None:
                    e = e + self.number_penalty * (self._number.energy(psi) - self.n_electrons) ** 2
                out.append(e.cpu().numpy())
        return np.concatenate(out)

    def _engine(self, ids: torch.Tensor) -> np.ndarray:
        from circuits import expval

        circuits_ = [self.pool.sequence(row.tolist()).to_circuit(self.initial) for row in ids]
        obs = [self.hamiltonian]
        if self.number_penalty:
            obs.append(self._number_op())
        values = [None] * len(circuits_)
        results = expval(
            circuits_, obs, values, engine=self.engine, executor=self.executor, **self.engine_options
        )
        e = np.array([float(r[0, 0]) for r in results])
        if self.number_penalty:
            n = np.array([float(r[0, 1]) for r in results])
            e = e + self.number_penalty * (n - self.n_electrons) ** 2
        return e
