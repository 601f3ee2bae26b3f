"""``doctor``: check the job registry under ``$KETML_HOME`` and, asked to, repair it.

The registry keeps every job three ways: a row in ``jobs.db``, ``records/<id>.json`` and its
payload ``payloads/<id>.pkl`` (results in ``results/<id>.json``). The check reads all of them
without changing anything; the repair rebuilds a damaged or missing ``jobs.db`` from the record
files (the damaged database is kept beside it under a new name, never overwritten), writes the
record files an older registry lacks, and converts cached results from the old pickle format to
JSON where they hold only numbers and arrays.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from .files import atomic_write, set_aside
from .jobs import (
    _COLUMNS,
    _SCHEMA,
    STATES,
    JobRecord,
    JobRegistry,
    RegistryError,
    dump_result,
    home,
    read_result,
)

__all__ = ["Report", "doctor"]


@dataclass
class Report:
    """What :func:`doctor` found (``problems``) and did (``actions``); ``ok`` when nothing is wrong."""

    root: Path
    jobs: int = 0
    problems: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _database_rows(path: Path) -> tuple[list[JobRecord] | None, str | None]:
    """The records in ``jobs.db`` read-only, or ``(None, why)`` when it cannot be read."""
    if not path.exists():
        return None, "missing"
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            check = db.execute("PRAGMA integrity_check").fetchone()
            if not check or check[0] != "ok":
                return None, f"integrity check: {check[0] if check else 'no answer'}"
            rows = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM jobs").fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        return None, str(exc)
    try:
        records = []
        for row in rows:
            data = dict(zip(_COLUMNS, row, strict=True))
            data["options"] = json.loads(data["options"] or "{}")
            records.append(JobRecord(**data))
    except (TypeError, ValueError) as exc:
        return None, f"a row cannot be read ({exc})"
    return records, None


def _record_files(root: Path, report: Report) -> dict[str, JobRecord]:
    out: dict[str, JobRecord] = {}
    for path in sorted((root / "records").glob("*.json")):
        try:
            data = json.loads(path.read_text())
            rec = JobRecord(**{k: data[k] for k in (f.name for f in dataclasses.fields(JobRecord))})
            if rec.status not in STATES or rec.id != path.stem:
                raise ValueError("unknown status or id")
            out[rec.id] = rec
        except (OSError, ValueError, KeyError, TypeError) as exc:
            report.problems.append(f"record file {path} cannot be read ({type(exc).__name__})")
    return out


def _orphan(root: Path, local_id: str) -> JobRecord:
    """A record for a payload whose record is lost: marked failed, so that nothing is resent."""
    payload = root / "payloads" / f"{local_id}.pkl"
    stamp = _dt.datetime.fromtimestamp(payload.stat().st_mtime, _dt.timezone.utc).isoformat(
        timespec="seconds"
    )
    return JobRecord(
        id=local_id,
        created=stamp,
        updated=stamp,
        kind="unknown",
        backend="unknown",
        mode="unknown",
        tag=None,
        payload_hash="",
        options={},
        status="failed",
        error=f"recovered by 'ketml ibm doctor': the record was lost; the payload is kept in {payload}",
    )


def doctor(root: str | Path | None = None, repair: bool = False) -> Report:
    """Check the registry at ``root`` (default ``$KETML_HOME``); with ``repair``, fix what can be
    fixed without losing anything (see the module docstring)."""
    root = Path(root) if root is not None else home()
    report = Report(root)
    if not root.exists():
        report.actions.append(f"{root} does not exist yet: no jobs recorded")
        return report
    if not root.is_dir():
        raise RegistryError(f"{root} is a file; the job registry needs a folder (set KETML_HOME to one)")
    db_path = root / "jobs.db"
    rows, why = _database_rows(db_path)
    files = _record_files(root, report)
    payloads = {p.stem for p in (root / "payloads").glob("*.pkl")}
    if rows is None and why != "missing":
        report.problems.append(f"{db_path} cannot be read ({why})")
    elif rows is None and (files or payloads):
        report.problems.append(f"{db_path} is missing but {len(payloads)} job payload(s) are here")
    known = {r.id: r for r in rows or []}
    lost = sorted(set(files) - set(known)) if rows is not None else []
    if lost:
        report.problems.append(f"{len(lost)} job(s) have a record file but no row in {db_path}")
    unrecorded = sorted(set(known) - set(files))
    if unrecorded:
        report.problems.append(f"{len(unrecorded)} job(s) have no record file (a registry made before them)")
    every = {**files, **known}
    orphans = sorted(payloads - set(every))
    if orphans:
        report.problems.append(f"{len(orphans)} payload(s) belong to no record: {', '.join(orphans[:3])}")
    old_results = []
    for rec in every.values():
        if not (root / "payloads" / f"{rec.id}.pkl").exists():
            report.problems.append(f"job {rec.id}: payload missing (it cannot be resent or re-run)")
        if rec.status == "done":
            registry_path = JobRegistry(root, readonly=True)._result_path(rec.id)
            if not registry_path.exists():
                report.problems.append(f"job {rec.id}: done, but its result file is missing")
                continue
            try:
                result = read_result(registry_path, rec.id)
            except RegistryError as exc:
                report.problems.append(str(exc))
                continue
            if registry_path.suffix == ".pkl":
                old_results.append((rec.id, result))
                report.problems.append(f"job {rec.id}: result cached in the old pickle format")
    report.jobs = len(every) + len(orphans)
    if not repair or report.ok:
        return report

    if rows is None or lost:  # rebuild the database from the record files (and what the old one held)
        records = {**files, **known, **{i: _orphan(root, i) for i in orphans}}
        if db_path.exists():
            for extra in ("-wal", "-shm"):
                side = db_path.with_name(db_path.name + extra)
                if side.exists():
                    moved = set_aside(side)
                    report.actions.append(f"kept {side.name} as {moved.name}")
            moved = set_aside(db_path)
            report.actions.append(f"kept the old database as {moved}")
        fresh = db_path.with_name(".jobs.rebuild.db")
        fresh.unlink(missing_ok=True)
        db = sqlite3.connect(fresh, isolation_level=None)
        try:
            db.executescript(_SCHEMA)
            registry = JobRegistry.__new__(JobRegistry)
            for rec in sorted(records.values(), key=lambda r: r.created):
                registry._insert(db, rec)
        finally:
            db.close()
        fresh.replace(db_path)
        report.actions.append(f"rebuilt {db_path} with {len(records)} job(s)")
        known, orphans = records, []  # every job now has a row
    registry = JobRegistry(root)
    in_db = {r.id for r in registry.list()}
    everything = {**files, **known, **{i: _orphan(root, i) for i in orphans}}
    for rec in everything.values():
        if rec.id not in in_db:
            with registry._db() as db:
                registry._insert(db, rec)
        if rec.id not in files:
            registry._save_record(rec)
    written = len(set(everything) - set(files))
    if written:
        report.actions.append(f"wrote {written} record file(s)")
    for local_id, result in old_results:
        target = atomic_write(root / "results" / f"{local_id}.json", dump_result(result))
        report.actions.append(f"converted the result of job {local_id} to {target.name} (the .pkl is kept)")
    return report
