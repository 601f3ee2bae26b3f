"""VQE on circuits: UCCSD and hardware-efficient ansaetze, and ADAPT-VQE, on any ketml engine.

The energy is ``circuits.expval(circuit, molecule.hamiltonian, theta, engine=...)``: autograd on the
torch engine (double precision by default), parameter shift on the others. Each UCCSD factor is one
``PauliEvolutionGate(G_k, time=theta_k)`` acting only on the qubits its generator touches, so it
draws, exports to QASM and transpiles like any Qiskit circuit. The fast state-vector UCCSD reference
(no circuits) is :mod:`chemistry.ucc`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.circuit.library import PauliEvolutionGate
from qiskit.quantum_info import SparsePauliOp

from chemistry.circuit_cost import gate_counts
from chemistry.excitations import (
    _check,
    _count,
    excitation_generator,
    uccsd_excitations,
    uccsd_pauli_pool,
)
from chemistry.mapping import hf_bitstring as _hf_bitstring
from circuits.errors import ChemistryError

__all__ = [
    "ANSATZE",
    "OPTIMIZERS",
    "POOLS",
    "VQEResult",
    "adapt_pool",
    "adapt_vqe",
    "evolution_circuit",
    "hardware_efficient_circuit",
    "pool_gradients",
    "run_vqe",
    "uccsd_circuit",
]

ANSATZE = ("uccsd", "hea")
OPTIMIZERS = ("lbfgs", "adam", "scipy:<method>")
POOLS = ("fermionic", "qubit")
_SCIPY_GRADIENT = ("cg", "bfgs", "l-bfgs-b", "tnc", "slsqp", "trust-constr", "newton-cg")
_SCIPY_FREE = ("nelder-mead", "powell", "cobyla", "cobyqa")


@dataclass
class VQEResult:
    """Outcome of a VQE run; ``error`` is ``energy - energies["fci"]`` (Hartree).

    ``history`` holds the energy of every evaluation (run_vqe) or the optimised energy after each
    ADAPT step, HF first (adapt_vqe). ``operators`` and ``pool_gradients`` are filled by ADAPT:
    the chosen excitations (fermionic pool) or Pauli labels (qubit pool), and the largest pool
    gradient magnitude seen before each step.
    """

    energy: float
    parameters: np.ndarray
    circuit: QuantumCircuit
    history: list[float]
    n_evaluations: int
    error: float
    gate_counts: dict
    seconds: float
    n_iterations: int = 0
    converged: bool = False
    operators: list = field(default_factory=list)
    pool_gradients: list[float] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# circuits


def _spec(mol_or_spec: Any) -> tuple[int, int, int, str]:
    """(n_qubits, n_alpha, n_beta, hf_bitstring) of a Molecule or an (n_qubits, n_alpha, n_beta) tuple."""
    if isinstance(mol_or_spec, (tuple, list)):
        if len(mol_or_spec) != 3:
            raise ChemistryError(f"a spec is (n_qubits, n_alpha, n_beta), got {mol_or_spec!r}")
        n, na, nb = (
            _count(k, v) for k, v in zip(("n_qubits", "n_alpha", "n_beta"), mol_or_spec, strict=True)
        )
        uccsd_excitations(n, na, nb)  # validates the sizes
        return n, na, nb, _hf_bitstring(n, na, nb)
    needed = ("n_qubits", "n_alpha", "n_beta", "hf_bitstring")
    if not all(hasattr(mol_or_spec, a) for a in needed):
        raise ChemistryError(
            f"expected a chemistry.Molecule or (n_qubits, n_alpha, n_beta), got {type(mol_or_spec).__name__}"
        )
    mapping = getattr(mol_or_spec, "mapping", "jordan_wigner")
    if mapping != "jordan_wigner":
        raise ChemistryError(f"UCCSD generators are Jordan-Wigner; the molecule uses mapping={mapping!r}")
    return (
        int(mol_or_spec.n_qubits),
        int(mol_or_spec.n_alpha),
        int(mol_or_spec.n_beta),
        str(mol_or_spec.hf_bitstring),
    )


def _prepare(circuit: QuantumCircuit, bitstring: str | None) -> None:
    """X on every qubit whose character in the (Qiskit-order) bitstring is 1."""
    if bitstring is None:
        return
    n = circuit.num_qubits
    if not isinstance(bitstring, str) or len(bitstring) != n or set(bitstring) - {"0", "1"}:
        raise ChemistryError(f"hf_bitstring must be a string of {n} characters 0/1, got {bitstring!r}")
    for q in range(n):
        if bitstring[n - 1 - q] == "1":
            circuit.x(q)


def _local(generator: SparsePauliOp) -> tuple[SparsePauliOp, list[int]]:
    """The generator restricted to the qubits it acts on (ascending), and those qubits."""
    n = generator.num_qubits
    support = np.flatnonzero(np.any(generator.paulis.x | generator.paulis.z, axis=0))
    if support.size == 0:
        raise ChemistryError("an evolution generator must act on at least one qubit (got the identity)")
    labels = ["".join(label[n - 1 - q] for q in support[::-1]) for label in generator.paulis.to_labels()]
    return SparsePauliOp(labels, generator.coeffs), [int(q) for q in support]


def evolution_circuit(
    n_qubits: int,
    generators: Sequence[SparsePauliOp],
    initial_bitstring: str | None = None,
    labels: Sequence[str] | None = None,
    name: str = "ansatz",
) -> QuantumCircuit:
    """``prod_k exp(-i theta_k G_k)`` (first generator applied first) after X gates on the 1s of
    ``initial_bitstring``; parameters ``ParameterVector("theta", len(generators))``."""
    circuit = QuantumCircuit(n_qubits, name=name)
    _prepare(circuit, initial_bitstring)
    theta = ParameterVector("theta", len(generators))
    for k, g in enumerate(generators):
        if not isinstance(g, SparsePauliOp) or g.num_qubits != n_qubits:
            raise ChemistryError(f"generator {k} must be a SparsePauliOp on {n_qubits} qubits")
        local, qubits = _local(g)
        label = None if labels is None else labels[k]
        circuit.append(PauliEvolutionGate(local, time=theta[k], label=label), qubits)
    return circuit


def uccsd_circuit(
    mol_or_spec: Any, excitations: Sequence[Sequence[int]] | None = None, reps: int = 1
) -> QuantumCircuit:
    """HF determinant then one ``PauliEvolutionGate(G_k, time=theta[k])`` per excitation.

    ``excitations`` defaults to all UCCSD singles then doubles; ``reps`` repeats the whole product
    with fresh parameters (``theta`` has ``reps * len(excitations)`` entries).
    """
    n, na, nb, bits = _spec(mol_or_spec)
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 1:
        raise ChemistryError(f"reps must be a positive integer, got {reps!r}")
    if excitations is None:
        singles, doubles = uccsd_excitations(n, na, nb)
        excitations = [*singles, *doubles]
    excs = [_check(e, n)[0] for e in excitations]
    if not excs:
        raise ChemistryError("UCCSD needs at least one excitation (is every orbital full or empty?)")
    gens = [excitation_generator(e, n) for e in excs] * int(reps)
    labels = [f"exc{e}" for e in excs] * int(reps)
    return evolution_circuit(n, gens, bits, labels, name="uccsd")


def hardware_efficient_circuit(n_qubits: int, layers: int, hf_bitstring: str | None = None) -> QuantumCircuit:
    """``layers`` x (RY, RZ on every qubit, then a CX ladder 0->1->...->n-1), and a final RY, RZ
    layer; ``2 * n_qubits * (layers + 1)`` parameters ``theta``. Starts from ``hf_bitstring``."""
    n = _count("n_qubits", n_qubits)
    layers = _count("layers", layers)
    if n < 1:
        raise ChemistryError("n_qubits must be at least 1")
    circuit = QuantumCircuit(n, name="hea")
    _prepare(circuit, hf_bitstring)
    theta = ParameterVector("theta", 2 * n * (layers + 1))
    k = 0
    for layer in range(layers + 1):
        for q in range(n):
            circuit.ry(theta[k], q)
            circuit.rz(theta[k + 1], q)
            k += 2
        if layer < layers:
            for q in range(n - 1):
                circuit.cx(q, q + 1)
    return circuit


# ---------------------------------------------------------------------------------------------
# optimisation


def _engine(engine: Any, options: dict):
    from circuits import engines

    if isinstance(engine, engines.Engine):
        if options:
            raise ChemistryError("engine options go with an engine name, not an Engine instance")
        return engine
    if not isinstance(engine, str):
        raise ChemistryError(f"engine must be an engine name such as 'torch', got {engine!r}")
    options = dict(options)
    if engine in ("torch", "auto"):
        options.setdefault("dtype", "complex128")  # chemistry needs 1e-8 Hartree, not float32
    return engines.get(engine, **options)


def _hamiltonian(molecule: Any) -> SparsePauliOp:
    h = getattr(molecule, "hamiltonian", None)
    if not isinstance(h, SparsePauliOp):
        raise ChemistryError(
            f"molecule must be a chemistry.Molecule (with a SparsePauliOp hamiltonian), "
            f"got {type(molecule).__name__}"
        )
    return h


def _energy_fn(circuit: QuantumCircuit, hamiltonian: SparsePauliOp, engine) -> Callable:
    from circuits import expval

    if circuit.num_qubits != hamiltonian.num_qubits:
        raise ChemistryError(
            f"the ansatz has {circuit.num_qubits} qubits but the Hamiltonian acts on {hamiltonian.num_qubits}"
        )

    def energy(theta: torch.Tensor) -> torch.Tensor:
        return expval(circuit, hamiltonian, theta, engine=engine).reshape(-1)[0]

    return energy


def _parse_optimizer(optimizer: str) -> tuple[str, str | None]:
    if not isinstance(optimizer, str):
        raise ChemistryError(f"optimizer must be 'lbfgs', 'adam' or 'scipy:<method>', got {optimizer!r}")
    name = optimizer.strip().lower()
    if name in ("lbfgs", "adam"):
        return name, None
    if name.startswith("scipy:"):
        method = name.split(":", 1)[1]
        if method not in _SCIPY_GRADIENT + _SCIPY_FREE:
            raise ChemistryError(
                f"unknown scipy method {method!r} in optimizer={optimizer!r}; use one of "
                f"{', '.join(_SCIPY_GRADIENT + _SCIPY_FREE)}"
            )
        return "scipy", method
    raise ChemistryError(
        f"unknown optimizer {optimizer!r}; use 'lbfgs', 'adam' or 'scipy:<method>' "
        "(e.g. 'scipy:bfgs', 'scipy:cobyla')"
    )


@dataclass
class _Trace:
    """Counts evaluations, records energies and drives the progress bar."""

    bar: Any = None
    history: list[float] = field(default_factory=list)

    def record(self, value: float) -> None:
        self.history.append(value)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(energy=f"{value:.8f}")


def _minimize(
    energy: Callable, theta0: np.ndarray, optimizer: str, maxiter: int, lr: float, tol: float, trace: _Trace
) -> tuple[np.ndarray, int, bool]:
    """Minimise ``energy`` from ``theta0``; returns (parameters, iterations, converged)."""
    kind, method = _parse_optimizer(optimizer)
    theta = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    if theta.numel() == 0:
        return theta0.copy(), 0, True

    def value_and_grad(x: torch.Tensor) -> tuple[float, torch.Tensor]:
        e = energy(x)
        (g,) = torch.autograd.grad(e, x)
        trace.record(float(e.detach()))
        return float(e.detach()), g

    if kind == "lbfgs":
        opt = torch.optim.LBFGS(
            [theta],
            lr=1.0,
            max_iter=maxiter,
            max_eval=max(2 * maxiter, 10),
            tolerance_grad=1e-8,
            tolerance_change=tol,
            history_size=50,
            line_search_fn="strong_wolfe",
        )

        def closure():
            opt.zero_grad()
            e, g = value_and_grad(theta)
            theta.grad = g
            return torch.tensor(e, dtype=torch.float64)

        opt.step(closure)
        n_iter = int(opt.state[opt._params[0]].get("n_iter", 0))
        return theta.detach().numpy().copy(), n_iter, n_iter < maxiter
    if kind == "adam":
        opt = torch.optim.Adam([theta], lr=lr)
        best, best_e, previous = theta.detach().clone(), np.inf, None
        for step in range(1, maxiter + 1):
            opt.zero_grad()
            e, theta.grad = value_and_grad(theta)
            if e < best_e:
                best, best_e = theta.detach().clone(), e
            if previous is not None and abs(e - previous) < tol:
                return best.numpy().copy(), step, True
            previous = e
            opt.step()
        return best.numpy().copy(), maxiter, False
    from scipy.optimize import minimize

    if method in _SCIPY_FREE:

        def fun(x):
            with torch.no_grad():
                e = float(energy(torch.as_tensor(x, dtype=torch.float64)))
            trace.record(e)
            return e

        res = minimize(fun, theta0, method=method, tol=tol, options={"maxiter": maxiter})
    else:

        def fun(x):
            e, g = value_and_grad(torch.tensor(x, dtype=torch.float64, requires_grad=True))
            return e, g.numpy().astype(float)

        res = minimize(fun, theta0, jac=True, method=method, tol=tol, options={"maxiter": maxiter})
    return np.asarray(res.x, dtype=float), int(getattr(res, "nit", 0) or 0), bool(res.success)


def _initial(initial: Any, n_par: int, default: np.ndarray) -> np.ndarray:
    if initial is None:
        return default
    try:
        theta0 = np.asarray(
            initial.detach().cpu() if isinstance(initial, torch.Tensor) else initial, dtype=float
        ).ravel()
    except (TypeError, ValueError):
        raise ChemistryError(f"initial must be {n_par} numbers, got {initial!r}") from None
    if theta0.shape != (n_par,):
        raise ChemistryError(f"initial has {theta0.size} values but the ansatz has {n_par} parameters")
    if not np.all(np.isfinite(theta0)):
        raise ChemistryError("initial parameters must be finite")
    return theta0


def _check_run_options(maxiter: Any, lr: Any, tol: Any) -> None:
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise ChemistryError(f"maxiter must be a positive integer, got {maxiter!r}")
    for label, v in (("lr", lr), ("tol", tol)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            raise ChemistryError(f"{label} must be a positive number, got {v!r}")


def _fci(molecule: Any) -> float:
    return float(getattr(molecule, "energies", {}).get("fci", float("nan")))


def _progress_bar(progress: bool, desc: str):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(desc=desc, unit="eval")


def run_vqe(
    molecule: Any,
    ansatz: str | QuantumCircuit = "uccsd",
    *,
    optimizer: str = "lbfgs",
    engine: str = "torch",
    maxiter: int = 200,
    lr: float = 0.05,
    tol: float = 1e-9,
    initial: Any = None,
    seed: int = 0,
    progress: bool = True,
    layers: int = 2,
    **engine_options: Any,
) -> VQEResult:
    """Minimise ``<psi(theta)|H|psi(theta)>`` over the ansatz's parameters.

    ``ansatz``: "uccsd" (starts at theta = 0, the HF state), "hea" (``layers`` of
    :func:`hardware_efficient_circuit` from the HF state, small random start drawn with ``seed``) or
    any parametrised QuantumCircuit on the molecule's qubits. ``optimizer``: "lbfgs" (torch L-BFGS
    with strong-Wolfe line search), "adam" (``lr``) or "scipy:<method>". Engine options (``device``,
    ``dtype``, ...) go to the engine; the torch engine runs in complex128 unless told otherwise.
    """
    hamiltonian = _hamiltonian(molecule)
    _check_run_options(maxiter, lr, tol)
    _parse_optimizer(optimizer)
    rng = np.random.default_rng(seed)
    if isinstance(ansatz, QuantumCircuit):
        circuit = ansatz
        default = rng.uniform(-0.1, 0.1, circuit.num_parameters)
    elif isinstance(ansatz, str) and ansatz.lower() == "uccsd":
        circuit = uccsd_circuit(molecule)
        default = np.zeros(circuit.num_parameters)
    elif isinstance(ansatz, str) and ansatz.lower() == "hea":
        circuit = hardware_efficient_circuit(hamiltonian.num_qubits, layers, molecule.hf_bitstring)
        default = rng.uniform(-0.1, 0.1, circuit.num_parameters)
    else:
        raise ChemistryError(
            f"unknown ansatz {ansatz!r}; use one of {', '.join(ANSATZE)} or a QuantumCircuit"
        )
    theta0 = _initial(initial, circuit.num_parameters, default)
    energy = _energy_fn(circuit, hamiltonian, _engine(engine, engine_options))

    t0 = time.perf_counter()
    trace = _Trace(_progress_bar(progress, "VQE"))
    try:
        params, n_iter, converged = _minimize(
            energy, theta0, optimizer, int(maxiter), float(lr), float(tol), trace
        )
    finally:
        if trace.bar is not None:
            trace.bar.close()
    with torch.no_grad():
        final = float(energy(torch.as_tensor(params, dtype=torch.float64)))
    bound = circuit.assign_parameters(params)
    return VQEResult(
        energy=final,
        parameters=params,
        circuit=bound,
        history=trace.history,
        n_evaluations=len(trace.history) + 1,
        error=final - _fci(molecule),
        gate_counts=gate_counts(bound),
        seconds=time.perf_counter() - t0,
        n_iterations=n_iter,
        converged=converged,
    )


# ---------------------------------------------------------------------------------------------
# ADAPT-VQE


def adapt_pool(molecule_or_spec: Any, pool: str = "fermionic") -> tuple[list, list[SparsePauliOp]]:
    """(names, generators) of an ADAPT pool: UCCSD excitations with their ``G = i(T - T^dagger)``
    ("fermionic"), or the individual Pauli strings of those generators ("qubit")."""
    n, na, nb, _ = _spec(molecule_or_spec)
    if not isinstance(pool, str) or pool.lower() not in POOLS:
        raise ChemistryError(f"unknown pool {pool!r}; use one of {', '.join(POOLS)}")
    if pool.lower() == "fermionic":
        singles, doubles = uccsd_excitations(n, na, nb)
        names: list = [*singles, *doubles]
        gens = [excitation_generator(e, n) for e in names]
    else:
        names = uccsd_pauli_pool(n, na, nb)
        gens = [SparsePauliOp(label) for label in names]
    if not names:
        raise ChemistryError("the ADAPT pool is empty (no virtual orbitals?)")
    return names, gens


def pool_gradients(
    state: np.ndarray | torch.Tensor,
    hamiltonian: SparsePauliOp,
    generators: Sequence[SparsePauliOp],
    _stacked=None,
) -> np.ndarray:
    """``dE/dtheta`` at ``theta = 0`` for appending ``exp(-i theta G_k)`` to the state, for every
    generator at once: ``i <psi|[G_k, H]|psi> = 2 Im <H psi|G_k psi>`` (one sparse product)."""
    import scipy.sparse as sp

    psi = np.asarray(
        state.detach().cpu().numpy() if isinstance(state, torch.Tensor) else state, dtype=complex
    ).reshape(-1)
    dim = 2**hamiltonian.num_qubits
    if psi.shape != (dim,):
        raise ChemistryError(f"state has {psi.size} amplitudes; the Hamiltonian needs {dim}")
    stacked = (
        _stacked
        if _stacked is not None
        else sp.vstack([g.to_matrix(sparse=True) for g in generators], format="csr")
    )
    h_psi = hamiltonian.to_matrix(sparse=True) @ psi
    g_psi = (stacked @ psi).reshape(-1, dim)
    return 2.0 * np.imag(g_psi @ h_psi.conj())


def adapt_vqe(
    molecule: Any,
    *,
    pool: str = "fermionic",
    max_operators: int = 30,
    gradient_threshold: float = 1e-3,
    optimizer: str = "lbfgs",
    engine: str = "torch",
    maxiter: int = 200,
    lr: float = 0.05,
    tol: float = 1e-9,
    progress: bool = True,
    **engine_options: Any,
) -> VQEResult:
    """ADAPT-VQE: grow the ansatz one pool operator at a time, re-optimising all angles after each.

    Each step appends the operator with the largest energy gradient ``|i <psi|[G, H]|psi>|`` (from
    the state vector, all pool operators at once) and stops when that is below
    ``gradient_threshold`` (``converged``) or after ``max_operators`` operators.
    """
    from circuits import statevector

    hamiltonian = _hamiltonian(molecule)
    _check_run_options(maxiter, lr, tol)
    _parse_optimizer(optimizer)
    max_operators = _count("max_operators", max_operators)
    if (
        isinstance(gradient_threshold, bool)
        or not isinstance(gradient_threshold, (int, float))
        or not gradient_threshold > 0
    ):
        raise ChemistryError(f"gradient_threshold must be a positive number, got {gradient_threshold!r}")
    n, _, _, bits = _spec(molecule)
    names, gens = adapt_pool(molecule, pool)
    import scipy.sparse as sp

    stacked = sp.vstack([g.to_matrix(sparse=True) for g in gens], format="csr")
    eng = _engine(engine, engine_options)

    t0 = time.perf_counter()
    chosen: list[int] = []
    params = np.zeros(0)
    circuit = evolution_circuit(n, [], bits, name="adapt")
    with torch.no_grad():
        history = [float(_energy_fn(circuit, hamiltonian, eng)(torch.zeros(0, dtype=torch.float64)))]
    trace = _Trace(_progress_bar(progress, "ADAPT-VQE"))
    max_grads: list[float] = []
    converged, n_iter = False, 0
    try:
        while True:
            psi = statevector(circuit, torch.as_tensor(params, dtype=torch.float64), engine=eng)
            grads = pool_gradients(psi, hamiltonian, gens, stacked)
            best = int(np.argmax(np.abs(grads)))
            max_grads.append(float(abs(grads[best])))
            if abs(grads[best]) < gradient_threshold:
                converged = True
                break
            if len(chosen) >= max_operators:
                break
            chosen.append(best)
            labels = [f"{names[k]}" for k in chosen]
            circuit = evolution_circuit(n, [gens[k] for k in chosen], bits, labels, name="adapt")
            energy = _energy_fn(circuit, hamiltonian, eng)
            params, it, _ = _minimize(
                energy, np.append(params, 0.0), optimizer, int(maxiter), float(lr), float(tol), trace
            )
            n_iter += it
            with torch.no_grad():
                history.append(float(energy(torch.as_tensor(params, dtype=torch.float64))))
    finally:
        if trace.bar is not None:
            trace.bar.close()
    bound = circuit.assign_parameters(params)
    final = history[-1]
    return VQEResult(
        energy=final,
        parameters=params,
        circuit=bound,
        history=history,
        n_evaluations=len(trace.history) + len(history),
        error=final - _fci(molecule),
        gate_counts=gate_counts(bound),
        seconds=time.perf_counter() - t0,
        n_iterations=n_iter,
        converged=converged,
        operators=[names[k] for k in chosen],
        pool_gradients=max_grads,
    )
