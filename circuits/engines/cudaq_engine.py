"""The ``cudaq`` engine: NVIDIA CUDA-Q simulators (``qpp-cpu``, ``nvidia`` GPUs, ``nvidia-mgpu``, tensornet).

A circuit is lowered once to its gate-level program (:mod:`.lowering`) and then
to a CUDA-Q builder kernel that takes the angle list ``g`` as its one argument;
kernels are cached per program and target. A batch of angle rows runs through
CUDA-Q's argument broadcasting (``cudaq.observe`` / ``cudaq.sample`` given a 2-D
array): it skips CUDA-Q's per-call kernel checks, so ``observe`` is 2-3x faster than
a Python loop on small circuits (the same once simulation dominates). All
observables of a call are observed together as one operator of distinct Pauli
terms, and recombined with their coefficients in numpy.

CUDA-Q's target is process-global state: the engine sets its own before every
run (only when another one is active), so engines on different targets can be
mixed in one process.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from qiskit.quantum_info import SparsePauliOp

from ..errors import ConfigurationError, EngineUnavailableError, KetmlError, UnsupportedOperationError
from . import memory
from .lowering import GateProgram
from .shift import ShiftRuleEngine, key_picker

# CUDA-Q simulators that run on CUDA GPUs (cuStateVec, cuTensorNet), by ``Target.simulator``
_GPU_SIMULATORS = ("custatevec", "nvidia", "tensornet", "cutensornet", "dynamics")
_NOT_GATE_MODEL = ("dynamics", "orca", "orca-photonics")
_SOME_TARGETS = "qpp-cpu, density-matrix-cpu, nvidia, nvidia-fp64, nvidia-mgpu, tensornet, tensornet-mps"
_NO_OPS = ("id", "barrier", "delay")
_ONE_QUBIT = ("x", "y", "z", "h", "s", "sdg", "t", "tdg")  # same matrices in CUDA-Q and Qiskit
# gates CUDA-Q lacks, as (rx angle, extra global phase): sx = e^{i pi/4} rx(pi/2)
_SQRT_X = {"sx": (np.pi / 2, np.pi / 4), "sxdg": (-np.pi / 2, -np.pi / 4)}

_module: Any = None
_active: list = [None]  # (target, options) this module last set
_kernels: dict[tuple, tuple] = {}  # (id(prog), target key) -> (prog, kernel, extra phase)
_operators: dict[tuple, tuple] = {}  # observables key -> (spin operator, terms, coeffs, offsets)


def _cudaq():
    """``import cudaq`` without its import-time preview / migration warnings."""
    global _module
    if _module is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            import cudaq

        _module = cudaq
    return _module


def needs_gpu(target: str) -> bool:
    """Whether CUDA-Q ``target`` simulates on a CUDA GPU."""
    info = _cudaq().get_target(target)
    return target.startswith(("nvidia", "tensornet")) or str(info.simulator).startswith(_GPU_SIMULATORS)


class CudaqEngine(ShiftRuleEngine):
    """Runs circuits on a CUDA-Q target.

    ``target``: ``"qpp-cpu"`` (default; CPU state vector, double precision),
    ``"density-matrix-cpu"``, ``"nvidia"`` (cuStateVec; single precision unless
    ``option="fp64"``), ``"nvidia-fp64"``, ``"nvidia-mgpu"`` (one state vector over
    many GPUs and nodes: launch with ``mpiexec -np N python ...``), ``"tensornet"``...
    ``max_memory``: bytes a run may use (default: what is free), checked before CUDA-Q allocates
    (rather than its ``std::bad_alloc``). Other keyword arguments go to ``cudaq.set_target``
    unchanged (e.g. ``option="fp64"``).
    Mid-circuit measurement, reset and feed-forward are refused: use ``"aer"`` or ``"torch"``.
    """

    name = "cudaq"
    gpu_options = ({"target": "nvidia"}, {"target": "nvidia-fp64"}, {"target": "nvidia-mgpu"})

    @classmethod
    def availability(cls) -> str:
        try:
            _cudaq()
        except ImportError:
            return "cudaq is not installed: pip install 'ketml[cudaq]'"
        return "ok"

    def __init__(self, target: str = "qpp-cpu", max_memory: int | None = None, **target_options: Any):
        cq = _cudaq()
        self.max_memory = max_memory
        if not isinstance(target, str) or not cq.has_target(target):
            raise EngineUnavailableError(
                f"unknown CUDA-Q target {target!r}; valid targets include {_SOME_TARGETS} "
                "(cudaq.get_targets() lists all)"
            )
        if target in _NOT_GATE_MODEL:
            raise EngineUnavailableError(f"CUDA-Q target {target!r} does not run gate-model circuits")
        if needs_gpu(target) and cq.num_available_gpus() == 0:
            hint = (
                "; it splits one state vector over many GPUs and nodes when launched under MPI: "
                "mpiexec -np N python script.py"
                if target == "nvidia-mgpu"
                else ""
            )
            raise EngineUnavailableError(
                f"CUDA-Q target {target!r} needs a CUDA GPU and none is visible here{hint}; "
                "use target='qpp-cpu' to simulate on the CPU"
            )
        self.target = target
        self.target_options = dict(target_options)
        self._key = (target, tuple(sorted((k, repr(v)) for k, v in self.target_options.items())))
        self._activate()  # bad target options fail here, not on the first run

    def _memory_need(self, prog, rows, n_obs, grad):
        target = self.target
        if target.startswith(("tensornet", "nvidia-mgpu", "remote")) or target in ("nvidia-mqpu",):
            return None  # tensor networks, or a state split over many GPUs or machines
        density = target.startswith("density-matrix")
        fp32 = target == "nvidia" and "fp64" not in str(self.target_options.get("option", ""))
        itemsize = 8 if fp32 else 16
        kind = "density matrix" if density else "state vector"
        return 3 * memory.amplitudes(prog.n_qubits, density) * itemsize, f"{kind} (3 copies)"

    def _memory_device(self) -> str:
        gpu = needs_gpu(self.target) and torch.cuda.is_available()
        return "cuda" if gpu else "cpu"

    # -- target and kernels -----------------------------------------------------------------------
    def _activate(self):
        """Make this engine's target CUDA-Q's current one; returns the ``cudaq`` module."""
        cq = _cudaq()
        last = _active[0]
        same = cq.get_target().name == self.target and (
            last == self._key or (last is None and not self.target_options)
        )
        if not same:
            try:
                cq.set_target(self.target, **self.target_options)
            except (RuntimeError, TypeError, ValueError) as exc:
                _active[0] = None
                raise EngineUnavailableError(
                    f"cannot set CUDA-Q target {self.target!r} with options {self.target_options}: {exc}"
                ) from None
            _active[0] = self._key
        return cq

    def _kernel(self, prog: GateProgram) -> tuple[Any, float]:
        """The program's CUDA-Q kernel (argument: the angle list) and its extra global phase."""
        key = (id(prog), self._key)
        hit = _kernels.get(key)
        if hit is not None and hit[0] is prog:
            return hit[1], hit[2]
        kernel, phase = _build_kernel(prog)
        if len(_kernels) > 256:
            _kernels.clear()
        _kernels[key] = (prog, kernel, phase)  # holding prog keeps its id unique
        return kernel, phase

    @contextmanager
    def _errors(self):
        """CUDA-Q's bare ``RuntimeError``s as ours, naming the target."""
        try:
            yield
        except KetmlError:
            raise
        except RuntimeError as exc:
            raise KetmlError(f"CUDA-Q (target {self.target!r}) failed: {exc}") from exc

    # -- the three primitives on rows of angles ------------------------------------------------
    def _expval_rows(self, prog, observables, rows, shots, seed):
        if shots is not None and (not isinstance(shots, int) or isinstance(shots, bool) or shots < 1):
            raise ConfigurationError(f"shots must be a positive integer, got {shots!r}")
        n_rows = rows.shape[0]
        operator, terms, coeffs, offsets = _spin_operator(observables)
        if not terms:
            return np.repeat(offsets[None, :], n_rows, axis=0)
        cq = self._activate()
        kernel, _ = self._kernel(prog)
        opts = {} if shots is None else {"shots_count": shots}
        with self._errors():
            if seed is not None:
                cq.set_random_seed(int(seed))
            if prog.n_angles:
                results = cq.observe(kernel, operator, np.ascontiguousarray(rows), **opts)
            else:
                results = [cq.observe(kernel, operator, **opts)]
            values = np.array([[r.expectation(t) for t in terms] for r in results], dtype=np.float64)
        out = values @ coeffs + offsets
        return out if prog.n_angles else np.repeat(out, n_rows, axis=0)

    def _statevector_rows(self, prog, rows):
        cq = self._activate()
        if str(cq.get_target().simulator) == "dm":
            raise UnsupportedOperationError(
                f"CUDA-Q target {self.target!r} simulates density matrices, not state vectors; "
                "use target='qpp-cpu' (or 'nvidia') for statevector"
            )
        kernel, phase = self._kernel(prog)
        count = rows.shape[0] if prog.n_angles else 1
        dim = 2**prog.n_qubits
        states = np.empty((count, dim), dtype=np.complex128)
        with self._errors():
            for i in range(count):
                state = cq.get_state(kernel, rows[i].tolist()) if prog.n_angles else cq.get_state(kernel)
                states[i] = _amplitudes(state, prog.n_qubits)
        states *= np.exp(1j * phase)
        return states if prog.n_angles else np.repeat(states, rows.shape[0], axis=0)

    def _sample_rows(self, prog, rows, shots, seed):
        cq = self._activate()
        kernel, _ = self._kernel(prog)
        with self._errors():
            if seed is not None:
                cq.set_random_seed(int(seed))
            if prog.n_angles:
                results = cq.sample(kernel, np.ascontiguousarray(rows), shots_count=shots)
            else:
                results = [cq.sample(kernel, shots_count=shots)]
            pick = key_picker(prog)
            out = [_counts(r, pick) for r in results]
        return out if prog.n_angles else [dict(out[0]) for _ in range(rows.shape[0])]


def _build_kernel(prog: GateProgram) -> tuple[Any, float]:
    """Translate ``prog.body`` gate by gate into a builder kernel; returns it and its extra phase."""
    cq = _cudaq()
    body = prog.body
    if prog.n_qubits == 0:
        raise UnsupportedOperationError("the cudaq engine needs a circuit with at least one qubit")
    if prog.n_angles:
        kernel, g = cq.make_kernel(list)
    else:
        kernel, g = cq.make_kernel(), None
    reg = kernel.qalloc(prog.n_qubits)
    qubits = [reg[i] for i in range(prog.n_qubits)]
    phase = 0.0
    for inst in body.data:
        op = inst.operation
        name = op.name
        qs = [qubits[body.find_bit(q).index] for q in inst.qubits]
        if name in _NO_OPS:
            continue
        if name in ("rx", "ry", "rz"):
            (angle,) = op.params
            value = g[angle.index] if getattr(angle, "parameters", None) else float(angle)
            getattr(kernel, name)(value, qs[0])
        elif name in _ONE_QUBIT:
            getattr(kernel, name)(qs[0])
        elif name in _SQRT_X:
            angle, extra = _SQRT_X[name]
            kernel.rx(angle, qs[0])
            phase += extra
        elif name == "cx":
            kernel.cx(qs[0], qs[1])
        elif name == "cz":
            kernel.cz(qs[0], qs[1])
        elif name == "swap":
            kernel.swap(qs[0], qs[1])
        elif name == "ccx":
            kernel.cx([qs[0], qs[1]], qs[2])
        else:
            raise UnsupportedOperationError(
                f"the cudaq engine cannot run {name!r} here (it runs unitary gates with final "
                "measurements only); use engine='torch' or 'aer'"
            )
    return kernel, phase


def _spin_operator(observables: list[SparsePauliOp]) -> tuple[Any, list, np.ndarray, np.ndarray]:
    """One operator summing every distinct non-identity Pauli term, the terms, the ``(T, n_obs)``
    coefficients that recombine them and the ``(n_obs,)`` identity offsets."""
    key = tuple((tuple(o.paulis.to_labels()), o.coeffs.tobytes()) for o in observables)
    hit = _operators.get(key)
    if hit is not None:
        return hit
    spin = _cudaq().spin
    labels: dict[str, int] = {}
    entries: list[tuple[int, int, float]] = []
    offsets = np.zeros(len(observables))
    for j, o in enumerate(observables):
        for label, c in zip(o.paulis.to_labels(), o.coeffs, strict=True):
            if set(label) <= {"I"}:
                offsets[j] += c.real
            else:
                entries.append((labels.setdefault(label, len(labels)), j, c.real))
    coeffs = np.zeros((len(labels), len(observables)))
    for t, j, c in entries:
        coeffs[t, j] += c
    terms = []
    operator = None
    for label in labels:
        n = len(label)
        term = None
        for q in range(n):
            ch = label[n - 1 - q]  # Qiskit labels put qubit 0 right-most
            if ch != "I":
                factor = getattr(spin, ch.lower())(q)
                term = factor if term is None else term * factor
        terms.append(term)
        operator = term if operator is None else operator + term
    if len(_operators) > 256:
        _operators.clear()
    out = _operators[key] = (operator, terms, coeffs, offsets)
    return out


def _amplitudes(state: Any, n_qubits: int) -> np.ndarray:
    """A CUDA-Q state as a numpy vector (CUDA-Q's order is Qiskit's: qubit 0 least significant)."""
    try:
        data = np.asarray(state.to_numpy(), dtype=np.complex128)
    except RuntimeError:  # tensor-network states have no dense vector; ask for every amplitude
        basis = [[(i >> q) & 1 for q in range(n_qubits)] for i in range(2**n_qubits)]
        data = np.asarray(state.amplitudes(basis), dtype=np.complex128)
    if data.shape != (2**n_qubits,):
        raise UnsupportedOperationError(
            f"CUDA-Q returned a state of shape {data.shape}, not a vector of {2**n_qubits} amplitudes"
        )
    return data


def _counts(result: Any, pick: list[int]) -> dict[str, int]:
    """CUDA-Q counts (qubit 0 left-most) as Qiskit counts keys."""
    out: dict[str, int] = {}
    for bits, n in result.items():
        key = "".join(bits[q] if q >= 0 else "0" for q in pick)
        out[key] = out.get(key, 0) + int(n)
    return out
