"""The ``ibm`` engine: IBM Quantum hardware (or its local testing mode) through qiskit-ibm-runtime.

A circuit is lowered to its gate-level program, transpiled once to the backend's ISA
with a preset pass manager, and run with the V2 primitives: a whole batch of
parameter rows (and, for gradients, all parameter-shift rows) is *one* PUB in *one*
job. Every job goes through :mod:`circuits.jobs`, so it is recorded before it is sent,
reused when submitted again with the same tag, retried on transient failures and
recoverable after a crash.

``backend="fake_manila"`` (any ``fake_*`` name) runs locally on qiskit-ibm-runtime's
fake backends, with their noise (``noise=True``) or ideal (``noise=False``); any other
name, or ``"least_busy"``, needs an IBM Quantum account.

``sample`` runs dynamic circuits (mid-circuit ``measure``, ``reset``, ``if_test``) as SamplerV2
does, with the counts over every classical bit in Qiskit order (registers joined, the last one
left-most, as Aer's counts without spaces); ``expval`` refuses them (EstimatorV2 does not run them).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from ..errors import (
    ConfigurationError,
    EngineUnavailableError,
    KetmlError,
    UnknownNameError,
    UnsupportedOperationError,
)
from ..jobs import JobFailedError, JobRegistry, RetryPolicy, TransientError, run_job
from .lowering import GateProgram
from .shift import ShiftRuleEngine

log = logging.getLogger(__name__)
MODES = ("job", "batch", "session")
_CLOUD_CHANNELS = ("ibm_quantum_platform", "ibm_cloud")


def fake_backend(name: str):
    """The qiskit-ibm-runtime fake backend called ``name`` (``"fake_manila"`` -> ``FakeManilaV2``)."""
    try:
        from qiskit_ibm_runtime import fake_provider
    except ImportError:
        raise EngineUnavailableError(
            f"{name!r} is a fake IBM backend, which needs qiskit-ibm-runtime: pip install 'ketml[ibm]'"
        ) from None
    classes = fake_backend_classes(fake_provider)
    if name not in classes:
        raise UnknownNameError(
            f"unknown fake backend {name!r}; known: {', '.join(sorted(classes)[:12])}, "
            "... (ketml ibm backends --fake lists them all)"
        )
    return classes[name]()


def fake_backend_classes(module=None) -> dict[str, type]:
    """Name -> class of every fake V2 backend (the set ``FakeProviderForBackendV2`` holds), without
    building any: instantiating all of them takes seconds."""
    if module is None:
        from qiskit_ibm_runtime import fake_provider as module
    from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    return {
        cls.backend_name: cls
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, FakeBackendV2) and getattr(cls, "backend_name", None)
    }


def service(channel: str | None = None, token: str | None = None, instance: str | None = None):
    """A ``QiskitRuntimeService`` from arguments, ``QISKIT_IBM_TOKEN``/``QISKIT_IBM_INSTANCE`` or the
    saved account; a clear error (never showing the token) when none is configured."""
    try:
        from qiskit_ibm_runtime import QiskitRuntimeService
    except ImportError:
        raise EngineUnavailableError(
            "the ibm engine needs qiskit-ibm-runtime: pip install 'ketml[ibm]'"
        ) from None
    token = token or os.environ.get("QISKIT_IBM_TOKEN")
    instance = instance or os.environ.get("QISKIT_IBM_INSTANCE")
    kwargs: dict[str, Any] = {}
    if channel:
        kwargs["channel"] = channel
    if token:
        kwargs["token"] = token
        kwargs.setdefault("channel", "ibm_quantum_platform")
    if instance:
        kwargs["instance"] = instance
    try:
        return QiskitRuntimeService(**kwargs)
    except Exception as exc:  # the runtime raises several types; none may leak the token
        text = str(exc).replace(token, "***") if token else str(exc)
        raise EngineUnavailableError(
            "no usable IBM Quantum account: save one with QiskitRuntimeService.save_account(token=..., "
            "instance=...), or set QISKIT_IBM_TOKEN and QISKIT_IBM_INSTANCE; or use a fake backend such "
            f"as backend='fake_manila' for local testing ({type(exc).__name__}: {text})"
        ) from None


def _classify(exc: Exception) -> Exception:
    """Map a runtime exception to a transient (retry) or permanent (give up) error."""
    code = getattr(exc, "status_code", None)
    name = type(exc).__name__
    if isinstance(exc, (ConnectionError, TimeoutError)) or code in (429, 500, 502, 503, 504):
        return TransientError(f"{name}: {exc}")
    if name == "RequestsApiError" and code is None:
        return TransientError(f"{name}: {exc}")
    return JobFailedError(f"{name}: {exc}")


class IBMRunner:
    """Runs PUBs with SamplerV2/EstimatorV2 on one backend, in job, batch or session mode."""

    def __init__(
        self, backend, *, local: bool, mode: str, options: dict, runtime_service=None, simulator=None
    ):
        self.backend = backend
        self.backend_name = backend.name
        self.local = local
        self.mode = mode
        self.options = options
        self.service = runtime_service
        self.simulator = simulator  # local testing: what actually runs (fake backend or ideal Aer)
        self._context = None
        self._jobs: dict[str, Any] = {}

    def _mode(self):
        target = self.simulator if self.local else self.backend
        if self.mode == "job":
            return target
        if self._context is None:
            from qiskit_ibm_runtime import Batch, Session

            self._context = (Batch if self.mode == "batch" else Session)(backend=target)
        return self._context

    def close(self) -> None:
        if self._context is not None:
            with _quiet():
                self._context.close()
            self._context = None

    def _primitive(self, kind: str, tags: list[str]):
        from qiskit_ibm_runtime import EstimatorV2, SamplerV2

        with _quiet():
            prim = (EstimatorV2 if kind == "estimator" else SamplerV2)(mode=self._mode())
        o = self.options
        if kind == "estimator":
            if o.get("precision"):
                prim.options.default_precision = o["precision"]
            elif o.get("shots"):
                prim.options.default_shots = o["shots"]
            if o.get("resilience_level") is not None:
                prim.options.resilience_level = o["resilience_level"]
        elif o.get("shots"):
            prim.options.default_shots = o["shots"]
        if not self.local:
            prim.options.environment.job_tags = tags
            prim.options.dynamical_decoupling.enable = bool(o.get("dynamical_decoupling"))
            prim.options.twirling.enable_gates = bool(o.get("twirling"))
        if o.get("seed") is not None and self.local:
            prim.options.simulator.seed_simulator = int(o["seed"])
        return prim

    def submit(self, kind: str, payload: Any, tags: list[str]) -> str:
        try:
            with _quiet():
                job = self._primitive(kind, tags).run(payload)
        except KetmlError:
            raise
        except Exception as exc:
            raise _classify(exc) from exc
        self._jobs[job.job_id()] = job
        return job.job_id()

    def _job(self, job_id: str, kind: str, payload: Any):
        job = self._jobs.get(job_id)
        if job is not None:
            return job
        if self.local:  # local jobs die with their process: run the recorded payload again
            log.info("local job %s is gone with its process; re-running its recorded payload", job_id)
            job = self._primitive(kind, []).run(payload)
            self._jobs[job_id] = job
            return job
        return self.service.job(job_id)

    def result(self, job_id: str, kind: str, payload: Any) -> Any:
        try:
            job = self._job(job_id, kind, payload)
            with _quiet():
                res = job.result()
        except KetmlError:
            raise
        except Exception as exc:
            raise _classify(exc) from exc
        if kind == "estimator":
            return [{"evs": np.asarray(p.data.evs), "stds": np.asarray(p.data.stds)} for p in res]
        out = []
        for p in res:
            joined = p.join_data()
            shape = joined.shape
            out.append(
                [joined.get_counts(i) for i in range(int(np.prod(shape)))] if shape else [joined.get_counts()]
            )
        return out

    def find(self, tag: str) -> str | None:
        if self.local or self.service is None:
            return None
        jobs = self.service.jobs(job_tags=[tag], limit=1)
        return jobs[0].job_id() if jobs else None

    def status(self, job_id: str) -> str:
        job = self._jobs.get(job_id)
        if job is None and not self.local:
            job = self.service.job(job_id)
        if job is None:
            return "UNKNOWN (a local job from another process)"
        status = job.status()
        return getattr(status, "name", str(status))

    def cancel(self, job_id: str) -> None:
        job = self._jobs.get(job_id) or (None if self.local else self.service.job(job_id))
        if job is not None:
            job.cancel()


class _quiet:
    """Silence the runtime's deprecation chatter (V2 primitives) inside our calls."""

    def __enter__(self):
        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", DeprecationWarning)
        return self

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


class IBMEngine(ShiftRuleEngine):
    """Runs circuits on an IBM Quantum backend (or a fake one locally) via the V2 primitives.

    ``backend``: a name (``"ibm_brisbane"``), ``"least_busy"`` (with ``min_qubits``) or a fake
    backend (``"fake_manila"``, local testing mode). ``noise``: fake backends only; ``False``
    simulates ideally. ``optimization_level``, ``layout_method``, ``routing_method``,
    ``seed_transpiler``: the preset pass manager. ``mode``: ``"job"``, ``"batch"`` or
    ``"session"``. ``shots`` (default 4096), ``precision`` (estimator), ``resilience_level``,
    ``dynamical_decoupling``, ``twirling``, ``seed`` (local simulation). ``tag``/``force``:
    idempotent resubmission through the job registry at ``registry`` (default ``$KETML_HOME``).
    ``confirm``: called with the cost report before a hardware job is sent; returning False
    cancels it (the CLI asks the user).
    """

    name = "ibm"

    @classmethod
    def availability(cls) -> str:
        try:
            import qiskit_ibm_runtime  # noqa: F401
        except ImportError:
            return "qiskit-ibm-runtime is not installed: pip install 'ketml[ibm]'"
        return "ok"

    def __init__(
        self,
        backend: str | Any = "fake_manila",
        *,
        min_qubits: int = 1,
        noise: bool = True,
        channel: str | None = None,
        instance: str | None = None,
        token: str | None = None,
        optimization_level: int = 1,
        layout_method: str | None = None,
        routing_method: str | None = None,
        seed_transpiler: int | None = 0,
        mode: str = "job",
        shots: int | None = None,
        precision: float | None = None,
        resilience_level: int | None = None,
        dynamical_decoupling: bool = False,
        twirling: bool = False,
        seed: int | None = None,
        registry: str | JobRegistry | None = None,
        tag: str | None = None,
        force: bool = False,
        retry: RetryPolicy | None = None,
        confirm: Callable[[dict], bool] | None = None,
    ):
        if mode not in MODES:
            raise ConfigurationError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        if optimization_level not in (0, 1, 2, 3):
            raise ConfigurationError(f"optimization_level must be 0-3, got {optimization_level!r}")
        self.local = isinstance(backend, str) and backend.startswith("fake_") or _is_fake(backend)
        runtime_service = None
        simulator = None
        if isinstance(backend, str) and backend.startswith("fake_"):
            backend = fake_backend(backend)
        elif isinstance(backend, str):
            runtime_service = service(channel, token, instance)
            if backend == "least_busy":
                backend = runtime_service.least_busy(
                    min_num_qubits=min_qubits, operational=True, simulator=False
                )
            else:
                try:
                    backend = runtime_service.backend(backend)
                except Exception as exc:
                    raise UnknownNameError(f"unknown IBM backend {backend!r}: {exc}") from None
        if self.local:
            simulator = backend
            if not noise:
                from qiskit_aer import AerSimulator

                simulator = AerSimulator.from_backend(backend, noise_model=None)
        self.backend = backend
        self.noise = noise
        from qiskit.transpiler import generate_preset_pass_manager

        self.pass_manager = generate_preset_pass_manager(
            optimization_level=optimization_level,
            backend=backend,
            layout_method=layout_method,
            routing_method=routing_method,
            seed_transpiler=seed_transpiler,
        )
        self.shots = shots or 4096
        options = {
            "shots": self.shots,
            "precision": precision,
            "resilience_level": resilience_level,
            "dynamical_decoupling": dynamical_decoupling,
            "twirling": twirling,
            "seed": seed,
            "noise": noise,
            "optimization_level": optimization_level,
        }
        self.options = options
        self.runner = IBMRunner(
            backend,
            local=self.local,
            mode=mode,
            options=options,
            runtime_service=runtime_service,
            simulator=simulator,
        )
        self.registry = registry if isinstance(registry, JobRegistry) else JobRegistry(registry)
        self.tag, self.force, self.retry, self.confirm = tag, force, retry, confirm
        self.last_report: dict | None = None
        self.last_record = None
        self._isa: dict[int, tuple[GateProgram, QuantumCircuit, QuantumCircuit, dict]] = {}

    def _memory_need(self, prog, rows, n_obs, grad):
        return None  # hardware, or a fake backend whose Aer simulator checks its own memory

    # -- transpilation and cost ---------------------------------------------------------------
    def isa(self, prog: GateProgram, measured: bool = False) -> tuple[QuantumCircuit, dict]:
        """``prog``'s body (or its measured circuit) in the backend's ISA, and its cost report."""
        key = id(prog) * 2 + int(measured)
        hit = self._isa.get(key)
        if hit is not None and hit[0] is prog:
            return hit[1], hit[3]
        circuit = prog.circuit if measured else prog.body
        if measured and not prog.measured:
            circuit = circuit.copy()
            circuit.measure_all()
        if measured and any(not circuit.find_bit(b).registers for b in circuit.clbits):
            circuit = _in_one_register(circuit)
        if circuit.num_qubits > self.backend.num_qubits:
            raise ConfigurationError(
                f"the circuit has {circuit.num_qubits} qubits but backend {self.backend.name!r} has "
                f"{self.backend.num_qubits}"
            )
        isa = self.pass_manager.run(circuit)
        report = cost_report(isa, self.backend)
        self._isa[key] = (prog, isa, circuit, report)
        return isa, report

    def cost(self, circuit: QuantumCircuit, measured: bool = False) -> dict:
        """Depth, two-qubit gate count and estimated duration of ``circuit`` on the backend."""
        return self.isa(self.program(circuit, sampling=measured), measured)[1]

    def _submit(self, kind: str, pubs: list, report: dict, seed: int | None = None) -> Any:
        self.last_report = report
        log.info(
            "ibm %s on %s: depth %s, %s two-qubit gates, ~%s s",
            kind,
            self.backend.name,
            report["depth"],
            report["two_qubit_gates"],
            report["duration_s"],
        )
        if not self.local and self.confirm is not None and not self.confirm(report):
            raise KetmlError("submission cancelled by the user")
        options = self.options if seed is None else dict(self.options, seed=int(seed))
        self.runner.options = options  # a call's seed= overrides the engine's for this job
        rec, result = run_job(
            self.registry,
            self.runner,
            kind,
            pubs,
            tag=self.tag,
            options=options,
            force=self.force,
            retry=self.retry,
        )
        self.last_record = rec
        return result

    @staticmethod
    def _columns(isa: QuantumCircuit, prog: GateProgram, rows: np.ndarray) -> np.ndarray:
        index = {p.name: k for k, p in enumerate(prog.angle_vector)}
        return rows[:, [index[p.name] for p in isa.parameters]]

    # -- the three primitives on rows of angles ------------------------------------------------
    def _expval_rows(self, prog, observables, rows, shots, seed):
        isa, report = self.isa(prog)
        layout = isa.layout
        obs = [SparsePauliOp(o.paulis, o.coeffs.real).apply_layout(layout) for o in observables]
        params = self._columns(isa, prog, rows)
        pub = (isa, obs, params[:, None, :]) if isa.num_parameters else (isa, obs)
        (res,) = self._submit("estimator", [pub], dict(report, rows=int(rows.shape[0])), seed)
        evs = np.asarray(res["evs"], dtype=np.float64).reshape(-1, len(observables))
        return evs if isa.num_parameters else np.repeat(evs, rows.shape[0], axis=0)

    def _statevector_rows(self, prog, rows):
        raise UnsupportedOperationError(
            "IBM backends return samples and expectation values, not state vectors"
        )

    def _sample_rows(self, prog, rows, shots, seed):
        isa, report = self.isa(prog, measured=True)
        params = self._columns(isa, prog, rows)
        pub = (isa, params, shots) if isa.num_parameters else (isa, None, shots)
        (counts,) = self._submit("sampler", [pub], dict(report, rows=int(rows.shape[0]), shots=shots), seed)
        counts = [{k.replace(" ", ""): v for k, v in c.items()} for c in counts]
        return counts if isa.num_parameters else [dict(counts[0]) for _ in range(rows.shape[0])]

    def close(self) -> None:
        """End the batch or session, if one is open."""
        self.runner.close()


def _in_one_register(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` with all its classical bits in one register, in index order: the sampler returns
    registers, so bits outside any (OpenQASM 3's ``bit b;``) would be left out of every key."""
    register = ClassicalRegister(circuit.num_clbits, "clbits")
    out = QuantumCircuit(list(circuit.qubits), register, global_phase=circuit.global_phase)
    out.compose(circuit, qubits=range(circuit.num_qubits), clbits=list(register), inplace=True)
    if len(out.cregs) != 1:
        raise UnsupportedOperationError(
            "the circuit has classical bits outside any register and conditions on registers; the "
            "sampler would leave those bits out: declare every bit in a register, or use engine='aer'"
        )
    return out


def _is_fake(backend: Any) -> bool:
    return type(backend).__module__.startswith("qiskit_ibm_runtime.fake_provider")


def cost_report(isa: QuantumCircuit, backend: Any) -> dict:
    """What a job will cost: depth, two-qubit gates, gate count, estimated duration (seconds)."""
    two_qubit = sum(
        1 for inst in isa.data if inst.operation.num_qubits == 2 and inst.operation.name not in ("barrier",)
    )
    try:  # longest path through the circuit with the backend's gate durations
        duration = round(float(isa.estimate_duration(backend.target, unit="s")), 9)
    except Exception:  # a backend without timing data, or an older Qiskit: no estimate
        duration = None
    return {
        "backend": backend.name,
        "depth": isa.depth(),
        "two_qubit_gates": two_qubit,
        "size": isa.size(),
        "duration_s": duration,
        "n_qubits": isa.num_qubits,
    }
