"""The ``aer`` engine: qiskit-aer simulators (state vector, density matrix, MPS; CPU or GPU; noise).

A circuit is lowered once to its gate-level program (:mod:`.lowering`); each call
binds all rows of angles into *one* ``AerSimulator.run`` (Aer's parameter
binding), so a batch and all its parameter-shift rows cost one job. Exact
expectation values come from Aer's ``save_expectation_value`` (the instruction
Aer's Estimator is built on); with ``shots`` they are estimated from counts in
qubit-wise commuting measurement bases.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from typing import Any

import numpy as np
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import ParameterExpression
from qiskit.quantum_info import SparsePauliOp

from ..errors import ConfigurationError, EngineUnavailableError, KetmlError, UnsupportedOperationError
from . import memory
from .deferred import defer_measurements
from .loops import (
    MAX_LOOP_ITERATIONS,
    bound_while_loops,
    cap_bit,
    cap_error,
    has_while_loops,
)
from .lowering import BASIS, GateProgram
from .shift import ShiftRuleEngine, counts_key_width
from .shots import ShotEstimator

METHODS = ("automatic", "statevector", "density_matrix", "matrix_product_state")


class AerEngine(ShiftRuleEngine):
    """Runs circuits on ``qiskit_aer.AerSimulator``.

    ``method``: ``"automatic"`` (state vector; density matrix for exact expectation
    values of noisy or mid-circuit-measured circuits), ``"statevector"``,
    ``"density_matrix"`` or ``"matrix_product_state"``. ``aer_device``: ``"CPU"`` or
    ``"GPU"`` (needs qiskit-aer-gpu). ``noise_model``: a ``qiskit_aer.noise.NoiseModel``,
    a backend (its noise is read with ``NoiseModel.from_backend``) or the name of a
    fake IBM backend such as ``"fake_manila"``. ``precision``: ``"double"`` or ``"single"``.
    ``max_loop_iterations``: the most iterations an OpenQASM 3 / Qiskit ``while`` loop may run per
    shot (default 1000); a loop still running then raises :class:`LoopLimitError` rather than
    spinning forever. ``max_memory``: bytes a run may use (default: what is free), checked before
    Aer allocates. Other keyword arguments go to ``AerSimulator`` unchanged.
    """

    name = "aer"
    gpu_options = ({"aer_device": "GPU"},)

    @classmethod
    def availability(cls) -> str:
        try:
            import qiskit_aer  # noqa: F401
        except ImportError:
            return "qiskit-aer is not installed: pip install qiskit-aer"
        return "ok"

    def __init__(
        self,
        method: str = "automatic",
        aer_device: str = "CPU",
        noise_model: Any = None,
        precision: str = "double",
        max_loop_iterations: int = MAX_LOOP_ITERATIONS,
        max_memory: int | None = None,
        **backend_options: Any,
    ):
        from qiskit_aer import AerSimulator

        if method not in METHODS:
            raise ConfigurationError(f"unknown Aer method {method!r}; choose one of {', '.join(METHODS)}")
        if precision not in ("double", "single"):
            raise ConfigurationError(f"precision must be 'double' or 'single', got {precision!r}")
        aer_device = str(aer_device).upper()
        devices = AerSimulator().available_devices()
        if aer_device not in devices:
            hint = " (install qiskit-aer-gpu on a machine with an NVIDIA GPU)" if aer_device == "GPU" else ""
            raise EngineUnavailableError(
                f"Aer device {aer_device!r} is not available here{hint}; available: {', '.join(devices)}"
            )
        if isinstance(max_loop_iterations, bool) or not isinstance(max_loop_iterations, int):
            raise ConfigurationError(f"max_loop_iterations must be an integer, got {max_loop_iterations!r}")
        if max_loop_iterations < 1:
            raise ConfigurationError(f"max_loop_iterations must be positive, got {max_loop_iterations}")
        self.max_loop_iterations = max_loop_iterations
        self.max_memory = max_memory
        self.method = method
        self.aer_device = aer_device
        self.precision = precision
        self.noise_model = _noise_model(noise_model)
        self.backend_options = backend_options
        self._sims: dict[str, Any] = {}
        self._noisy: dict[int, tuple[QuantumCircuit, QuantumCircuit]] = {}
        self._bounded: dict[int, tuple[QuantumCircuit, QuantumCircuit]] = {}
        self._expval_circuits: dict[tuple, QuantumCircuit] = {}

    # -- simulators and circuits -------------------------------------------------------------
    def _sim(self, method: str):
        sim = self._sims.get(method)
        if sim is None:
            from qiskit_aer import AerSimulator

            opts = dict(self.backend_options, method=method, device=self.aer_device, precision=self.precision)
            if self.noise_model is not None:
                opts["noise_model"] = self.noise_model
            sim = self._sims[method] = AerSimulator(**opts)
        return sim

    def _method(self, prog: GateProgram, exact: bool) -> str:
        if self.method != "automatic":
            return self.method
        if exact and (prog.mid_circuit or self.noise_model is not None):
            return "density_matrix"
        return "statevector"

    def _native(self, prog: GateProgram, circuit: QuantumCircuit) -> QuantumCircuit:
        """``circuit`` in the noise model's basis, so that its errors apply to every gate."""
        if self.noise_model is None:
            return circuit
        hit = self._noisy.get(id(circuit))
        if hit is not None and hit[0] is circuit:
            return hit[1]
        basis = sorted(set(self.noise_model.basis_gates) | {"measure", "reset"})
        out = transpile(circuit, basis_gates=basis, optimization_level=0)
        _check_single_use(out)
        self._noisy[id(circuit)] = (circuit, out)  # holding the circuit keeps its id unique
        return out

    def _memory_need(self, prog, rows, n_obs, grad):
        method = self.method
        if method == "matrix_product_state":
            return None  # its size depends on the entanglement, not the width
        density = method == "density_matrix" or (
            method == "automatic" and (prog.mid_circuit or self.noise_model is not None)
        )
        itemsize = 8 if self.precision == "single" else 16
        kind = "density matrix" if density else "state vector"
        return 2 * memory.amplitudes(prog.n_qubits, density) * itemsize, f"{kind} ({self.precision})"

    def _memory_device(self) -> str:
        return "cuda" if self.aer_device == "GPU" else "cpu"

    def _bound_loops(self, circuit: QuantumCircuit) -> QuantumCircuit:
        """``circuit`` with its ``while`` loops capped at ``max_loop_iterations`` (a flag register
        records where the cap was reached; see :mod:`.loops`)."""
        hit = self._bounded.get(id(circuit))
        if hit is not None and hit[0] is circuit:
            return hit[1]
        out = bound_while_loops(circuit, self.max_loop_iterations)
        if len(self._bounded) > 256:
            self._bounded.clear()
        self._bounded[id(circuit)] = (circuit, out)  # holding the circuit keeps its id unique
        return out

    def _counts(self, result, index: int, circuit: QuantumCircuit, offset: int, width: int) -> dict[str, int]:
        """Counts of experiment ``index`` over the classical bits ``offset .. offset + width - 1``,
        keys in Qiskit order. Read from Aer's raw counts (bit k = clbit k), not its register-joined
        strings, which leave out bits outside any register (OpenQASM 3's ``bit b;``). Refused if
        a ``while`` loop ran into the cap."""
        flag = cap_bit(circuit)
        mask = (1 << width) - 1
        out: dict[str, int] = {}
        for key, hits in result.data(index)["counts"].items():
            value = int(key, 16)
            if flag is not None and hits and (value >> flag) & 1:
                raise cap_error(self.max_loop_iterations)
            bits = format((value >> offset) & mask, f"0{width}b") if width else ""
            out[bits] = out.get(bits, 0) + int(hits)
        return out

    def _run(
        self, circuits: list[QuantumCircuit], prog: GateProgram, rows: np.ndarray, method: str, **run_options
    ):
        """One Aer job for every circuit bound to every row; results circuit-major."""
        sim = self._sim(method)
        if prog.n_angles:
            binds = {p: rows[:, k].tolist() for k, p in enumerate(prog.angle_vector)}
            params = [binds if c.num_parameters else {} for c in circuits]
            with interruptible():
                result = sim.run(circuits, parameter_binds=params, **run_options).result()
        else:
            with interruptible():
                result = sim.run(circuits, **run_options).result()
        if not result.success:
            raise KetmlError(f"Aer failed: {result.status}")
        return result

    # -- the three primitives on rows of angles ------------------------------------------------
    def _expval_rows(self, prog, observables, rows, shots, seed):
        n_rows = rows.shape[0]
        if shots is not None:
            if not isinstance(shots, int) or isinstance(shots, bool) or shots < 1:
                raise ConfigurationError(f"shots must be a positive integer, got {shots!r}")
            est = ShotEstimator(observables)
            if not est.bases:
                return est.estimate([])[np.zeros(n_rows, dtype=np.int64)]
            circuits = [self._native(prog, c) for c in est.circuits(self._bound_loops(prog.body))]
            opts = {"shots": shots}
            if seed is not None:
                opts["seed_simulator"] = int(seed)
            result = self._run(circuits, prog, rows, self._method(prog, exact=False), **opts)
            per = n_rows if prog.n_angles else 1
            n = prog.n_qubits  # the bases' measurements: the last n classical bits
            counts = [
                [self._counts(result, b * per + r, c, c.num_clbits - n, n) for r in range(per)]
                for b, c in enumerate(circuits)
            ]
            out = est.estimate(counts)
            return out if prog.n_angles else np.repeat(out, n_rows, axis=0)
        if has_while_loops(prog.body):
            raise UnsupportedOperationError(
                "a circuit with a while loop has no exact expectation values here (its number of "
                "iterations is random); pass shots= for an estimate, or use sample"
            )
        circuit = self._expval_circuit(prog, observables)
        method = self._method(prog, exact=True)
        if method != "density_matrix" and (prog.mid_circuit or self.noise_model is not None):
            raise UnsupportedOperationError(
                f"exact expectation values of a noisy or mid-circuit-measured circuit need "
                f"method='density_matrix' (got {method!r}); or pass shots= for an estimate"
            )
        opts: dict[str, Any] = {"shots": 1}
        if prog.mid_circuit:  # Aer's truncation drops the record qubits' CNOTs (measurement back-action)
            opts["enable_truncation"] = False
        if seed is not None:
            opts["seed_simulator"] = int(seed)
        result = self._run([circuit], prog, rows, method, **opts)
        m = len(observables)
        count = n_rows if prog.n_angles else 1
        out = np.array(
            [[np.real(result.data(i)[f"ev{j}"]) for j in range(m)] for i in range(count)],
            dtype=np.float64,
        )
        return out if prog.n_angles else np.repeat(out, n_rows, axis=0)

    def _expval_circuit(self, prog: GateProgram, observables: list[SparsePauliOp]) -> QuantumCircuit:
        key = (id(prog), tuple((tuple(o.paulis.to_labels()), o.coeffs.tobytes()) for o in observables))
        circuit = self._expval_circuits.get(key)
        if circuit is None:
            body = prog.body
            if prog.mid_circuit:  # average over outcomes exactly: measurements onto record qubits
                body = transpile(defer_measurements(body), basis_gates=list(BASIS), optimization_level=0)
            circuit = self._native(prog, body).copy()
            for j, o in enumerate(observables):
                op = SparsePauliOp(o.paulis, o.coeffs.real)
                circuit.save_expectation_value(op, range(prog.n_qubits), label=f"ev{j}")
            if len(self._expval_circuits) > 256:
                self._expval_circuits.clear()
            self._expval_circuits[key] = circuit
        return circuit

    def _statevector_rows(self, prog, rows):
        if self.noise_model is not None:
            raise UnsupportedOperationError("a noisy circuit has no state vector; use expval or sample")
        circuit = prog.body.copy()
        circuit.save_statevector()
        method = self.method if self.method != "automatic" else "statevector"
        if method == "density_matrix":
            method = "statevector"
        result = self._run([circuit], prog, rows, method)
        count = rows.shape[0] if prog.n_angles else 1
        states = np.stack([np.asarray(result.data(i)["statevector"]) for i in range(count)])
        return states if prog.n_angles else np.repeat(states, rows.shape[0], axis=0)

    def _sample_rows(self, prog, rows, shots, seed):
        circuit = prog.circuit
        if not prog.measured:
            circuit = circuit.copy()
            circuit.measure_all()
        circuit = self._native(prog, self._bound_loops(circuit))
        opts = {"shots": shots}
        if seed is not None:
            opts["seed_simulator"] = int(seed)
        result = self._run([circuit], prog, rows, self._method(prog, exact=False), **opts)
        width = counts_key_width(prog)
        count = rows.shape[0] if prog.n_angles else 1
        # every classical bit of the circuit, or only the register measure_all added after them
        offset = 0 if prog.measured else prog.circuit.num_clbits
        out = [self._counts(result, i, circuit, offset, width) for i in range(count)]
        return out if prog.n_angles else [dict(out[0]) for _ in range(rows.shape[0])]


@contextmanager
def interruptible():
    """Let Ctrl-C end the process while Aer runs: Aer's C++ loop holds the interpreter lock and
    never returns to Python, so a KeyboardInterrupt would wait (and be dropped) until the job ends.
    Only where Python's own handler is active in the main thread of a plain script; an IPython
    kernel (whose interrupt would kill it) and a caller's own handler are left alone."""
    in_main = threading.current_thread() is threading.main_thread()
    ours = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if not in_main or not ours or "ipykernel" in sys.modules:
        yield
        return
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _check_single_use(circuit: QuantumCircuit) -> None:
    """The shift rule needs every angle in one gate, linearly with slope +-1."""
    seen: dict[str, int] = {}
    for inst in circuit.data:
        for p in inst.operation.params:
            if isinstance(p, ParameterExpression):
                for q in p.parameters:
                    slope = p.gradient(q)
                    if seen.get(q.name) or not (
                        isinstance(slope, (int, float, complex)) and abs(abs(complex(slope)) - 1) < 1e-12
                    ):
                        raise UnsupportedOperationError(
                            "the noise model's basis gates split a rotation angle over several gates; "
                            "parameter-shift gradients would be wrong"
                        )
                    seen[q.name] = 1


def _noise_model(noise: Any):
    if noise is None:
        return None
    from qiskit_aer.noise import NoiseModel

    if isinstance(noise, NoiseModel):
        return noise
    if isinstance(noise, str):
        from .ibm_engine import fake_backend

        return NoiseModel.from_backend(fake_backend(noise))
    return NoiseModel.from_backend(noise)
