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

STATES = ("pending", "submitted", "done", "failed", "cancelled")


class JobFailedError(KetmlError):
    """A job ended for good (invalid circuit, rejected, cancelled); the record says why."""


class TransientError(KetmlError):
    """A failure worth retrying (network, 5xx, rate limit); runners raise it or a subclass."""


def home() -> Path:
    """``$KETML_HOME`` or ``~/.ketml``: where the registry and payloads live."""
    return Path(os.environ.get("KETML_HOME") or Path.home() / ".ketml")


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

    return decode(pickle.loads(data))


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename: never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


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
    """The SQLite registry of jobs with payloads and cached results under ``root``."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else home()
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / "jobs.db"
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            yield db
        finally:
            db.close()

    # -- records ---------------------------------------------------------------------------------
    def _row(self, row) -> JobRecord:
        data = dict(zip(_COLUMNS, row, strict=True))
        data["options"] = json.loads(data["options"] or "{}")
        return JobRecord(**data)

    def get(self, key: str) -> JobRecord:
        """The record with local id or remote job id ``key`` (a unique prefix of the local id works)."""
        with self._db() as db:
            row = db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE id = ? OR job_id = ?", (key, key)
            ).fetchone()
            if row is None:
                rows = db.execute(
                    f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE id LIKE ?", (key + "%",)
                ).fetchall()
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
        with self._db() as db:
            return [self._row(r) for r in db.execute(query + " ORDER BY created DESC, rowid DESC", args)]

    def find(self, digest: str, tag: str | None) -> JobRecord | None:
        """The latest record of the same payload and tag that did not fail."""
        with self._db() as db:
            row = db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE payload_hash = ? AND tag IS ? "
                "AND status NOT IN ('failed', 'cancelled') ORDER BY rowid DESC LIMIT 1",
                (digest, tag),
            ).fetchone()
        return self._row(row) if row else None

    def create(
        self, kind: str, backend: str, mode: str, tag: str | None, payload: Any, options: dict
    ) -> JobRecord:
        """Record a submission (status ``pending``) and store its payload, before anything is sent."""
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
            options=options,
            status="pending",
        )
        _atomic_write(self._payload_path(rec.id), _dumps(payload))
        with self._db() as db:
            db.execute(
                f"INSERT INTO jobs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                (
                    rec.id,
                    rec.created,
                    rec.updated,
                    kind,
                    backend,
                    mode,
                    tag,
                    digest,
                    json.dumps(options, sort_keys=True, default=str),
                    "pending",
                    None,
                    None,
                    0,
                ),
            )
        return rec

    def update(self, rec: JobRecord, **fields) -> JobRecord:
        """Change fields of a record (status, job_id, error, attempts) and stamp it."""
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
        return self.get(rec.id)

    # -- payloads and results ------------------------------------------------------------------------
    def _payload_path(self, local_id: str) -> Path:
        return self.root / "payloads" / f"{local_id}.pkl"

    def _result_path(self, local_id: str) -> Path:
        return self.root / "results" / f"{local_id}.pkl"

    def payload(self, rec: JobRecord) -> Any:
        return _loads(self._payload_path(rec.id).read_bytes())

    def store_result(self, rec: JobRecord, result: Any) -> JobRecord:
        _atomic_write(self._result_path(rec.id), pickle.dumps(result, protocol=4))
        return self.update(rec, status="done", error=None)

    def cached_result(self, rec: JobRecord) -> Any:
        path = self._result_path(rec.id)
        if rec.status != "done" or not path.exists():
            raise KetmlError(f"job {rec.id} has no stored result (status {rec.status})")
        return pickle.loads(path.read_bytes())


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
