"""A local registry of quantum jobs, so that a paid-for job is never lost.

Every submission is written to SQLite (``$KETML_HOME/jobs.db``, default ``~/.ketml``)
*before* it is sent, with its payload (the PUBs, as QPY + numpy) beside it; the remote
job id is added once the provider accepts the job, and the result once it is fetched.
Results are cached, so a later read needs no network. Re-submitting the same payload
with the same tag reuses the existing job (unless ``force=True``); a process killed
between submission and result leaves a record that :func:`resume` completes.

The provider side is a small protocol (:class:`Runner`) so the same flow drives IBM
Quantum's runtime service, its local testing mode (fake backends) or a test double.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import hashlib
import io
import json
import os
import pickle
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .errors import KetmlError
from .files import atomic_write

STATES = ("pending", "submitted", "done", "failed", "cancelled")


class JobFailedError(KetmlError):
    """A job ended for good (invalid circuit, rejected, cancelled); the record says why."""


class TransientError(KetmlError):
    """A failure worth retrying (network, 5xx, rate limit); runners raise it or a subclass."""


class RegistryError(KetmlError):
    """The job registry cannot be used (damaged database, unusable ``KETML_HOME``, unreadable
    cached file); the message names the file and how to recover."""


DOCTOR_HINT = "'ketml ibm doctor' checks it, and 'ketml ibm doctor --repair' rebuilds it from the job files"


def home() -> Path:
    """``$KETML_HOME`` or ``~/.ketml``: where the registry and payloads live."""
    env = os.environ.get("KETML_HOME")
    path = Path(env) if env else Path.home() / ".ketml"
    if path.exists() and not path.is_dir():
        where = f"KETML_HOME={env}" if env else str(path)
        raise RegistryError(f"{where} is a file; the job registry needs a folder (set KETML_HOME to one)")
    return path


@dataclass
class JobRecord:
    """One submission as the registry knows it."""

    id: str
    created: str
    updated: str
    kind: str  # "estimator" or "sampler"
    backend: str
    mode: str
    tag: str | None
    payload_hash: str
    options: dict
    status: str
    job_id: str | None = None
    error: str | None = None
    attempts: int = 0

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "cancelled")


class Runner(Protocol):
    """What the registry needs from a provider."""

    backend_name: str
    mode: str

    def submit(self, kind: str, payload: Any, tags: list[str]) -> str:
        """Send the job; return its id. Raise :class:`TransientError` for retryable failures."""

    def result(self, job_id: str, kind: str, payload: Any) -> Any:
        """Block until done; return a picklable result. Raise :class:`JobFailedError` if it failed."""

    def find(self, tag: str) -> str | None:
        """The id of a job submitted with ``tag``, if the provider has one (crash before the id was saved)."""

    def status(self, job_id: str) -> str:
        """The provider's status string for the job."""

    def cancel(self, job_id: str) -> None:
        """Cancel the job."""


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def payload_hash(kind: str, backend: str, payload: Any, options: dict) -> str:
    """A content hash of what would be run: the same hash means the same job."""
    h = hashlib.sha256()
    h.update(f"{kind}|{backend}|{json.dumps(options, sort_keys=True, default=str)}|".encode())
    h.update(pickle.dumps(_canonical(payload), protocol=4))
    return h.hexdigest()


def _canonical(obj: Any) -> Any:
    """``obj`` with circuits and observables as plain tuples, for hashing: QPY bytes are not stable
    (they hold parameter UUIDs, the generated circuit name and the layout's registers in no fixed order)."""
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp

    if isinstance(obj, QuantumCircuit):
        return _circuit_key(obj)
    if isinstance(obj, SparsePauliOp):
        return ("spo", tuple((label, complex(c)) for label, c in obj.to_list()))
    if isinstance(obj, (list, tuple)):
        return tuple(_canonical(o) for o in obj)
    if isinstance(obj, dict):
        return tuple(sorted((str(k), _canonical(v)) for k, v in obj.items()))
    return obj


def _circuit_key(circuit: Any) -> tuple:
    """The content of a circuit: width, instructions (names, parameters by name, bit indices), layout."""
    from qiskit import QuantumCircuit

    rows = []
    for inst in circuit.data:
        op = inst.operation
        params = tuple(_circuit_key(p) if isinstance(p, QuantumCircuit) else str(p) for p in op.params)
        rows.append(
            (
                op.name,
                params,
                str(getattr(op, "condition", None)),
                tuple(circuit.find_bit(q).index for q in inst.qubits),
                tuple(circuit.find_bit(c).index for c in inst.clbits),
            )
        )
    layout = circuit.layout
    where = (
        None if layout is None else (tuple(layout.initial_index_layout()), tuple(layout.final_index_layout()))
    )
    return ("circuit", circuit.num_qubits, circuit.num_clbits, str(circuit.global_phase), tuple(rows), where)


def _dumps(payload: Any) -> bytes:
    """Serialise a payload; circuits go through QPY so the bytes are stable across processes."""
    from qiskit import QuantumCircuit, qpy

    def encode(obj):
        if isinstance(obj, QuantumCircuit):
            buf = io.BytesIO()
            qpy.dump(obj, buf)
            return ("qpy", buf.getvalue())
        if isinstance(obj, (list, tuple)):
            return type(obj)(encode(o) for o in obj)
        if isinstance(obj, dict):
            return {k: encode(v) for k, v in obj.items()}
        return obj

    return pickle.dumps(encode(payload), protocol=4)


#: what a stored payload or an old (pickled) result may reference: arrays, numbers, observables
_SAFE_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("builtins", "complex"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("qiskit.quantum_info.operators.symplectic.sparse_pauli_op", "SparsePauliOp"),
    ("qiskit.quantum_info.operators.symplectic.pauli_list", "PauliList"),
    ("qiskit.quantum_info.operators.op_shape", "OpShape"),
}


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle references something outside :data:`_SAFE_GLOBALS` (it could run code)."""


class _SafeUnpickler(pickle.Unpickler):
    """Unpickles arrays, numbers, containers and Pauli observables only (like torch's
    ``weights_only``): a stored file cannot make loading it run code."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _SAFE_GLOBALS or (module == "numpy.dtypes" and name.endswith("DType")):
            return super().find_class(module, name)
        raise UnsafePickleError(f"{module}.{name} is not allowed")


def safe_unpickle(data: bytes) -> Any:
    """``pickle.loads`` restricted to arrays, numbers, containers and Pauli observables."""
    return _SafeUnpickler(io.BytesIO(data)).load()


def _encode_json(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "c":
            parts = {"real": obj.real.tolist(), "imag": obj.imag.tolist()}
            return {"__ndarray__": obj.dtype.str, "shape": obj.shape, **parts}
        if obj.dtype.kind not in "biuf":
            raise TypeError(f"array of dtype {obj.dtype}")
        return {"__ndarray__": obj.dtype.str, "shape": obj.shape, "data": obj.tolist()}
    if isinstance(obj, np.generic):
        return _encode_json(np.asarray(obj))
    if isinstance(obj, complex):
        return {"__complex__": [obj.real, obj.imag]}
    raise TypeError(f"{type(obj).__name__} cannot be stored as a result")


def _decode_json(obj: dict) -> Any:
    import numpy as np

    if "__ndarray__" in obj:
        if "real" in obj:
            data = np.asarray(obj["real"]) + 1j * np.asarray(obj["imag"])
        else:
            data = obj["data"]
        return np.asarray(data, dtype=np.dtype(obj["__ndarray__"])).reshape(obj["shape"])
    if "__complex__" in obj:
        return complex(*obj["__complex__"])
    return obj


def dump_result(result: Any) -> bytes:
    """A primitive result (dicts, lists, numbers, strings, NumPy arrays) as JSON bytes: a cached
    result is data, never code."""
    try:
        return json.dumps(result, default=_encode_json).encode()
    except (TypeError, ValueError) as exc:
        raise RegistryError(f"the job's result cannot be stored as JSON ({exc})") from None


def load_result(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"), object_hook=_decode_json)


def _loads(data: bytes) -> Any:
    from qiskit import qpy

    def decode(obj):
        if isinstance(obj, tuple) and len(obj) == 2 and obj[0] == "qpy":
            return qpy.load(io.BytesIO(obj[1]))[0]
        if isinstance(obj, (list, tuple)):
            return type(obj)(decode(o) for o in obj)
        if isinstance(obj, dict):
            return {k: decode(v) for k, v in obj.items()}
        return obj

    return decode(safe_unpickle(data))


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename: never half-written."""
    atomic_write(path, data)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, created TEXT, updated TEXT, kind TEXT, backend TEXT, mode TEXT,
    tag TEXT, payload_hash TEXT, options TEXT, status TEXT, job_id TEXT, error TEXT,
    attempts INTEGER DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_hash ON jobs (payload_hash, tag);
CREATE INDEX IF NOT EXISTS jobs_job_id ON jobs (job_id);
"""
_COLUMNS = (
    "id",
    "created",
    "updated",
    "kind",
    "backend",
    "mode",
    "tag",
    "payload_hash",
    "options",
    "status",
    "job_id",
    "error",
    "attempts",
)


class JobRegistry:
    """The SQLite registry of jobs with payloads and cached results under ``root``.

    ``readonly=True`` (listing, status, reading cached results) creates and changes nothing: it
    works on a read-only home, and on a missing one (no jobs). Every job is also kept as
    ``records/<id>.json`` beside its payload, so a damaged ``jobs.db`` can be rebuilt
    (:func:`doctor`). A database that cannot be read is reported, naming the file and the
    recovery, and is never overwritten.
    """

    def __init__(self, root: str | Path | None = None, readonly: bool = False):
        self.root = Path(root) if root is not None else home()
        self.path = self.root / "jobs.db"
        self.readonly = readonly
        if self.root.exists() and not self.root.is_dir():
            raise RegistryError(f"{self.root} is a file; the job registry needs a folder (KETML_HOME)")
        if readonly:
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegistryError(
                f"cannot create the job registry folder {self.root}: {exc.strerror or exc} "
                "(set KETML_HOME to a writable folder)"
            ) from None
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise RegistryError(
                f"the job registry folder {self.root} is not writable; submitting and updating jobs "
                "need a writable KETML_HOME ('ketml ibm jobs/status/result' still read it)"
            )
        with self._db(wal=False) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "jobs" not in tables:  # someone else's database: never write into it
            raise RegistryError(f"{self.path} holds no job table; {DOCTOR_HINT}")
        with self._db() as db:
            db.executescript(_SCHEMA)

    def _fail(self, exc: sqlite3.Error) -> RegistryError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return RegistryError(f"the job registry {self.path} is locked by another process; try again")
        if "readonly" in text or "read-only" in text:
            return RegistryError(
                f"the job registry {self.path} is read-only; submitting needs a writable KETML_HOME"
            )
        if "unable to open" in text:
            return RegistryError(f"cannot open the job registry {self.path} ({text}); check KETML_HOME")
        return RegistryError(f"the job registry {self.path} is damaged ({text}); {DOCTOR_HINT}")

    @contextlib.contextmanager
    def _db(self, wal: bool = True) -> Iterator[sqlite3.Connection]:
        if self.path.exists() and not self.path.is_file():
            raise RegistryError(f"{self.path} is not a file; {DOCTOR_HINT}")
        try:
            if self.readonly:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                writable_dir = os.access(self.root, os.W_OK)
                db = sqlite3.connect(uri if writable_dir else uri + "&immutable=1", uri=True, timeout=30)
            else:
                db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._fail(exc) from None
        try:
            if wal and not self.readonly:
                db.execute("PRAGMA journal_mode=WAL")
            yield db
        except sqlite3.Error as exc:
            raise self._fail(exc) from None
        finally:
            db.close()

    def _query(self, sql: str, args: tuple | list = ()) -> list:
        """Rows of a read query; none when a read-only registry has no database yet."""
        if self.readonly and not self.path.exists():
            return []
        with self._db() as db:
            try:
                return db.execute(sql, args).fetchall()
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):  # an empty file (or another database)
                    if self.path.stat().st_size == 0:
                        return []
                    raise RegistryError(f"{self.path} holds no job table; {DOCTOR_HINT}") from None
                raise

    # -- records ---------------------------------------------------------------------------------
    def _row(self, row) -> JobRecord:
        data = dict(zip(_COLUMNS, row, strict=True))
        try:
            data["options"] = json.loads(data["options"] or "{}")
        except (TypeError, json.JSONDecodeError):
            bad = f"job {data['id']} in {self.path} has damaged options"
            raise RegistryError(f"{bad}; {DOCTOR_HINT}") from None
        return JobRecord(**data)

    def get(self, key: str) -> JobRecord:
        """The record with local id or remote job id ``key`` (a unique prefix of the local id works)."""
        cols = ", ".join(_COLUMNS)
        rows = self._query(f"SELECT {cols} FROM jobs WHERE id = ? OR job_id = ?", (key, key))
        row = rows[0] if rows else None
        if row is None:
            rows = self._query(f"SELECT {cols} FROM jobs WHERE id LIKE ?", (key + "%",))
            if len(rows) == 1:
                row = rows[0]
        if row is None:
            raise KetmlError(f"no job {key!r} in the registry {self.path}")
        return self._row(row)

    def list(self, status: str | None = None, backend: str | None = None) -> list[JobRecord]:
        """Records, newest first, optionally filtered by status and backend."""
        query = f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE 1=1"
        args: list = []
        if status:
            query += " AND status = ?"
            args.append(status)
        if backend:
            query += " AND backend = ?"
            args.append(backend)
        return [self._row(r) for r in self._query(query + " ORDER BY created DESC, rowid DESC", args)]

    def find(self, digest: str, tag: str | None) -> JobRecord | None:
        """The latest record of the same payload and tag that did not fail."""
        rows = self._query(
            f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE payload_hash = ? AND tag IS ? "
            "AND status NOT IN ('failed', 'cancelled') ORDER BY rowid DESC LIMIT 1",
            (digest, tag),
        )
        return self._row(rows[0]) if rows else None

    def _writable(self) -> None:
        if self.readonly:
            raise RegistryError(f"the job registry {self.root} was opened read-only")

    def _insert(self, db: sqlite3.Connection, rec: JobRecord) -> None:
        values = dataclasses.asdict(rec)
        values["options"] = json.dumps(rec.options, sort_keys=True, default=str)
        db.execute(
            f"INSERT INTO jobs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
            tuple(values[c] for c in _COLUMNS),
        )

    def _save_record(self, rec: JobRecord) -> None:
        """The record as ``records/<id>.json``: what :func:`doctor` rebuilds the database from."""
        data = dataclasses.asdict(rec)
        atomic_write(self._record_path(rec.id), json.dumps(data, indent=1, default=str).encode())

    def create(
        self, kind: str, backend: str, mode: str, tag: str | None, payload: Any, options: dict
    ) -> JobRecord:
        """Record a submission (status ``pending``) and store its payload, before anything is sent."""
        self._writable()
        digest = payload_hash(kind, backend, payload, options)
        rec = JobRecord(
            id=uuid.uuid4().hex,
            created=_now(),
            updated=_now(),
            kind=kind,
            backend=backend,
            mode=mode,
            tag=tag,
            payload_hash=digest,
            options=json.loads(json.dumps(options, sort_keys=True, default=str)),
            status="pending",
        )
        _atomic_write(self._payload_path(rec.id), _dumps(payload))
        self._save_record(rec)
        with self._db() as db:
            self._insert(db, rec)
        return rec

    def update(self, rec: JobRecord, **fields) -> JobRecord:
        """Change fields of a record (status, job_id, error, attempts) and stamp it."""
        self._writable()
        unknown = set(fields) - {"status", "job_id", "error", "attempts"}
        if unknown:
            raise KetmlError(f"cannot update {sorted(unknown)}")
        if "status" in fields and fields["status"] not in STATES:
            raise KetmlError(f"unknown job status {fields['status']!r}")
        fields["updated"] = _now()
        with self._db() as db:
            db.execute(
                f"UPDATE jobs SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
                (*fields.values(), rec.id),
            )
        new = self.get(rec.id)
        self._save_record(new)
        return new

    # -- payloads and results ------------------------------------------------------------------------
    def _payload_path(self, local_id: str) -> Path:
        return self.root / "payloads" / f"{local_id}.pkl"

    def _record_path(self, local_id: str) -> Path:
        return self.root / "records" / f"{local_id}.json"

    def _result_path(self, local_id: str) -> Path:
        """The cached result: JSON (``results/<id>.json``); older registries kept ``<id>.pkl``."""
        path = self.root / "results" / f"{local_id}.json"
        old = path.with_suffix(".pkl")
        return old if old.exists() and not path.exists() else path

    def payload(self, rec: JobRecord) -> Any:
        path = self._payload_path(rec.id)
        try:
            return _loads(path.read_bytes())
        except FileNotFoundError:
            raise RegistryError(f"job {rec.id}: its payload {path} is missing; {DOCTOR_HINT}") from None
        except UnsafePickleError as exc:
            raise RegistryError(
                f"job {rec.id}: its payload {path} references {exc} (ketml payloads hold circuits, "
                "arrays and observables only); it is not loaded"
            ) from None
        except Exception as exc:
            raise RegistryError(
                f"job {rec.id}: its payload {path} is damaged ({type(exc).__name__}); the job cannot "
                f"be resent or re-run from it; {DOCTOR_HINT}"
            ) from None

    def store_result(self, rec: JobRecord, result: Any) -> JobRecord:
        self._writable()
        _atomic_write(self.root / "results" / f"{rec.id}.json", dump_result(result))
        return self.update(rec, status="done", error=None)

    def cached_result(self, rec: JobRecord) -> Any:
        path = self._result_path(rec.id)
        if rec.status != "done" or not path.exists():
            raise KetmlError(f"job {rec.id} has no stored result (status {rec.status})")
        return read_result(path, rec.id)


def read_result(path: Path, local_id: str) -> Any:
    """A cached result: JSON, or an old pickle read with :func:`safe_unpickle` (numbers and
    arrays only); a :class:`RegistryError` naming the file when it is damaged or unsafe."""
    recover = f"delete it and run 'ketml ibm result {local_id[:8]}' to fetch the result again"
    try:
        data = path.read_bytes()
        return safe_unpickle(data) if path.suffix == ".pkl" else load_result(data)
    except UnsafePickleError as exc:
        raise RegistryError(
            f"the cached result {path} is an old pickle that references {exc}: loading it could run "
            f"code, so it is not loaded; {recover}"
        ) from None
    except Exception as exc:
        bad = f"the cached result {path} is damaged ({type(exc).__name__})"
        raise RegistryError(f"{bad}; {recover}") from None


# -- the submission flow -----------------------------------------------------------------------------


@dataclass
class RetryPolicy:
    """Exponential backoff for transient failures."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    sleep: Callable[[float], None] = time.sleep

    def call(self, fn: Callable[[], Any], on_retry: Callable[[int, Exception], None] | None = None) -> Any:
        for attempt in range(1, self.attempts + 1):
            try:
                return fn()
            except TransientError as exc:
                if attempt == self.attempts:
                    raise
                if on_retry is not None:
                    on_retry(attempt, exc)
                self.sleep(min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))
        raise AssertionError("unreachable")


def run_job(
    registry: JobRegistry,
    runner: Runner,
    kind: str,
    payload: Any,
    *,
    tag: str | None = None,
    options: dict | None = None,
    force: bool = False,
    retry: RetryPolicy | None = None,
    on_submitted: Callable[[JobRecord], None] | None = None,
) -> tuple[JobRecord, Any]:
    """Submit ``payload`` through ``runner`` with the registry's guarantees; return (record, result).

    With a ``tag``, the same payload, backend and options as an earlier job with that tag reuse
    it (its cached result, or its remote job awaited) unless ``force``; without one, every call
    is a new job.
    """
    options = dict(options or {})
    retry = retry or RetryPolicy()
    if tag is not None and not force:
        digest = payload_hash(kind, runner.backend_name, payload, options)
        old = registry.find(digest, tag)
        if old is not None:
            result = resume(registry, runner, old, retry=retry)
            return registry.get(old.id), result
    rec = registry.create(kind, runner.backend_name, runner.mode, tag, payload, options)
    result = _send_and_wait(registry, runner, rec, payload, retry, on_submitted)
    return registry.get(rec.id), result  # the record as it is now (job id, status done)


def _send_and_wait(registry, runner, rec, payload, retry, on_submitted=None):
    def note(attempt, exc):
        registry.update(rec, attempts=attempt, error=f"retrying after: {exc}")

    try:
        job_id = retry.call(lambda: runner.submit(rec.kind, payload, [f"ketml:{rec.id}"]), note)
    except TransientError as exc:
        registry.update(rec, status="failed", error=f"gave up after {retry.attempts} attempts: {exc}")
        raise JobFailedError(
            f"submitting job {rec.id} failed after {retry.attempts} attempts: {exc}"
        ) from exc
    except JobFailedError as exc:
        registry.update(rec, status="failed", error=str(exc))
        raise
    rec = registry.update(rec, status="submitted", job_id=job_id)
    if on_submitted is not None:
        on_submitted(rec)
    return _wait(registry, runner, rec, payload, retry)


def _wait(registry, runner, rec, payload, retry):
    try:
        result = retry.call(lambda: runner.result(rec.job_id, rec.kind, payload))
    except JobFailedError as exc:
        status = "cancelled" if "cancel" in str(exc).lower() else "failed"
        registry.update(rec, status=status, error=str(exc))
        raise
    except TransientError as exc:
        registry.update(rec, error=f"result not fetched yet: {exc}")
        raise
    registry.store_result(rec, result)
    return result


def resume(
    registry: JobRegistry, runner: Runner, rec: JobRecord | str, *, retry: RetryPolicy | None = None
) -> Any:
    """Finish a recorded job: its cached result, its remote job awaited, or (never accepted) sent now."""
    retry = retry or RetryPolicy()
    if isinstance(rec, str):
        rec = registry.get(rec)
    if rec.status == "done":
        return registry.cached_result(rec)
    if rec.status in ("failed", "cancelled"):
        raise JobFailedError(f"job {rec.id} {rec.status}: {rec.error}")
    payload = registry.payload(rec)
    if rec.status == "pending":  # killed before the id was saved: did the provider get it?
        job_id = runner.find(f"ketml:{rec.id}")
        if job_id is None:
            return _send_and_wait(registry, runner, rec, payload, retry)
        rec = registry.update(rec, status="submitted", job_id=job_id)
    return _wait(registry, runner, rec, payload, retry)
