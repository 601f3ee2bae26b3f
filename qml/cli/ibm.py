"""``ketml ibm``: IBM Quantum from the command line (backends, submit, jobs, status, result, cancel).

Every submission goes through the ``ibm`` engine and the job registry (``$KETML_HOME/jobs.db``,
default ``~/.ketml``), so it is recorded before it is sent and can be read back later. Fake
backends (``fake_manila``, ...) run locally and need no account. Expected failures print one
line ``ketml: error: ...`` on stderr and exit with status 2.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from .app import app
from .common import CliError, check_seed, cli_errors, load_circuit

ibm_app = typer.Typer(
    help=(
        "IBM Quantum: list backends, submit circuits (fake_* backends run locally), and manage "
        "the local job registry ($KETML_HOME/jobs.db)."
    ),
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

ACCOUNT_HINT = (
    "no IBM Quantum account configured; save one with QiskitRuntimeService.save_account(token=..., "
    "instance=...) or set QISKIT_IBM_TOKEN and QISKIT_IBM_INSTANCE (fake backends need none)"
)
DEFAULT_SHOTS = 4096
_ERROR_WIDTH = 48  # widest error text shown in the jobs table


def _registry(readonly: bool = False):
    """The job registry; ``readonly`` for commands that only read it (they work on a read-only
    or missing ``KETML_HOME`` and change nothing)."""
    from circuits.jobs import JobRegistry

    return JobRegistry(readonly=readonly)


# ---------------------------------------------------------------------------------- backends


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    cells = [[("-" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    typer.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


@ibm_app.command()
def backends(
    fake: Annotated[
        bool, typer.Option("--fake", help="List the local fake backends (no account needed).")
    ] = False,
    min_qubits: Annotated[
        int, typer.Option("--min-qubits", min=1, help="Only backends with at least this many qubits.")
    ] = 1,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON object {source, backends: [...], note}."),
    ] = False,
) -> None:
    """List backends: your account's (name, qubits, pending jobs, operational) or the fake ones."""
    from circuits.ibm_backends import account_configured, fake_backends, service_backends

    note = None
    with cli_errors():
        if fake or not account_configured():
            source, rows = "fake", fake_backends(min_qubits)
            if not fake:
                note = ACCOUNT_HINT + "; showing the fake backends"
        else:
            source, rows = "account", service_backends(min_qubits)
    if as_json:
        typer.echo(json.dumps({"source": source, "backends": rows, "note": note}, indent=2))
        return
    columns = ["name", "num_qubits"] + (["pending_jobs", "operational"] if source == "account" else [])
    _table(rows, columns)
    if note:
        typer.echo(f"note: {note}")


# ------------------------------------------------------------------------------------ submit


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown duration"
    if seconds < 1e-3:
        return f"~{seconds * 1e6:.1f} us"
    return f"~{seconds * 1e3:.1f} ms" if seconds < 1 else f"~{seconds:.1f} s"


def _cost_line(report: dict) -> str:
    return (
        f"{report['backend']}: depth {report['depth']}, {report['two_qubit_gates']} two-qubit gates, "
        f"{report['size']} gates on {report['n_qubits']} qubits, "
        f"{_duration(report['duration_s'])} per shot"
    )


def _confirmer(kind: str):
    def ask(report: dict) -> bool:
        shots = report.get("shots")
        return typer.confirm(
            f"Submit a {kind} job to {report['backend']} ({_cost_line(report)}"
            + (f", {shots} shots" if shots else "")
            + ")?",
            default=False,
        )

    return ask


@ibm_app.command()
def submit(
    file: Annotated[
        Path,
        typer.Argument(
            help="OpenQASM 2/3 file, or a .py file defining 'circuit' (and optionally "
            "'observables', 'parameters')."
        ),
    ],
    backend: Annotated[
        str,
        typer.Option(
            "--backend", "-b", help="Backend name: fake_manila (local), ibm_brisbane, or least_busy."
        ),
    ],
    shots: Annotated[
        int, typer.Option("--shots", "-s", min=1, help="Shots per circuit (sampler and estimator).")
    ] = DEFAULT_SHOTS,
    observable: Annotated[
        list[str] | None,
        typer.Option(
            "--observable",
            "-o",
            help="Pauli label to estimate (qubit 0 right-most); repeat for "
            "several. Without it the circuit is sampled.",
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="Free parameter value: name=value or vector=v0,v1,... (pi allowed). Repeatable.",
        ),
    ] = None,
    mode: Annotated[str, typer.Option("--mode", help="Execution mode: job, batch or session.")] = "job",
    optimization_level: Annotated[
        int, typer.Option("--optimization-level", min=0, max=3, help="Transpiler optimization level 0-3.")
    ] = 1,
    tag: Annotated[
        str | None,
        typer.Option(
            "--tag",
            "-t",
            help="Tag the job; the same circuit, backend and options with the same "
            "tag reuse the earlier job instead of paying again.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Submit a new job even when --tag matches an earlier one.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Transpile and print the cost report; submit nothing.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask for confirmation before using real hardware.")
    ] = False,
    noise: Annotated[
        bool,
        typer.Option("--noise/--no-noise", help="Fake backends: simulate with (default) or without noise."),
    ] = True,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Simulator seed (fake backends), for reproducible results.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: ids, backend, status, cost, result.")
    ] = False,
) -> None:
    """Run a circuit on an IBM backend: counts (sampler) or expectation values (--observable)."""
    from circuits import expval, sample
    from circuits.engines.ibm_engine import MODES, IBMEngine
    from circuits.ibm_backends import account_configured, is_fake

    with cli_errors():
        if mode not in MODES:
            raise CliError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
        check_seed(seed)
        circuit, ops, labels, values = load_circuit(file, observable or [], param or [])
        kind = "estimator" if ops else "sampler"
        if (
            not (is_fake(backend) or backend == "least_busy" or backend.startswith("ibm_"))
            and not account_configured()
        ):
            raise CliError(
                f"unknown backend {backend!r}: local fake backends are named fake_* "
                "(see 'ketml ibm backends --fake'); real ones need an IBM Quantum account"
            )
        engine = IBMEngine(
            backend=backend,
            min_qubits=circuit.num_qubits,
            noise=noise,
            optimization_level=optimization_level,
            mode=mode,
            shots=shots,
            seed=seed,
            tag=tag,
            force=force,
            confirm=None if yes else _confirmer(kind),
        )
        try:
            report = engine.cost(circuit, measured=not ops)
            if dry_run:
                out = {
                    "dry_run": True,
                    "backend": engine.backend.name,
                    "kind": kind,
                    "shots": shots,
                    "cost": report,
                }
                typer.echo(
                    json.dumps(out, indent=2)
                    if as_json
                    else f"dry run, nothing submitted: {kind} with {shots} shots on {_cost_line(report)}"
                )
                return
            known = {r.id for r in engine.registry.list()}
            if ops:
                evs = expval(circuit, ops, values, engine=engine, shots=shots)[0].tolist()
                result: dict[str, Any] = {"expectation_values": dict(zip(labels, evs, strict=True))}
            else:
                counts = sample(circuit, values, shots=shots, engine=engine)[0]
                result = {"counts": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))}
        finally:
            engine.close()
    rec = engine.last_record
    out = {
        "job_id": rec.job_id,
        "local_id": rec.id,
        "backend": rec.backend,
        "kind": rec.kind,
        "mode": rec.mode,
        "tag": rec.tag,
        "status": rec.status,
        "reused": rec.id in known,
        "shots": shots,
        "noise": noise if engine.local else None,
        "cost": engine.last_report,
        **result,
    }
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    typer.echo(
        f"job {rec.id[:8]} (remote id {rec.job_id}) on {rec.backend}: {rec.status}"
        + (" (reused an earlier job with this tag)" if out["reused"] else "")
    )
    typer.echo(f"cost: {_cost_line(report)}")
    _print_values(result, shots)


def _print_values(result: dict, shots: int | None = None) -> None:
    if "counts" in result:
        rows = result["counts"] if isinstance(result["counts"], list) else [result["counts"]]
        for k, counts in enumerate(rows):
            if len(rows) > 1:
                typer.echo(f"row {k}:")
            total = shots or sum(counts.values())
            for bits, n in counts.items():
                typer.echo(f"{bits}  {n:>{len(str(total))}}  {n / total:.4f}")
        return
    rows = result["expectation_values"]
    rows = rows if isinstance(rows, list) else [rows]
    for k, values in enumerate(rows):
        if len(rows) > 1:
            typer.echo(f"row {k}:")
        width = max(len(label) for label in values)
        for label, v in values.items():
            typer.echo(f"<{label}>{'':<{width - len(label)}} = {v: .6f}")


# -------------------------------------------------------------------------------- registry


def _record_dict(rec) -> dict[str, Any]:
    return dataclasses.asdict(rec)


@ibm_app.command()
def jobs(
    status: Annotated[
        str | None,
        typer.Option(
            "--status", help="Only jobs with this status: pending, submitted, done, failed, cancelled."
        ),
    ] = None,
    backend: Annotated[str | None, typer.Option("--backend", "-b", help="Only jobs on this backend.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the records as a JSON list.")] = False,
) -> None:
    """List the jobs in the local registry, newest first."""
    from circuits.jobs import STATES

    with cli_errors():
        if status is not None and status not in STATES:
            raise CliError(f"--status must be one of {', '.join(STATES)}, got {status!r}")
        records = _registry(readonly=True).list(status=status, backend=backend)
    if as_json:
        typer.echo(json.dumps([_record_dict(r) for r in records], indent=2))
        return
    if not records:
        typer.echo("no jobs in the registry" + (" matching the filters" if status or backend else ""))
        return
    rows = [
        {
            "id": r.id[:8],
            "job_id": r.job_id,
            "backend": r.backend,
            "kind": r.kind,
            "tag": r.tag,
            "status": r.status,
            "created": r.created.replace("+00:00", "Z"),
            "error": (r.error or "")[:_ERROR_WIDTH] or None,
        }
        for r in records
    ]
    _table(rows, ["id", "job_id", "backend", "kind", "tag", "status", "created", "error"])


@ibm_app.command("status")
def status_(
    job: Annotated[str, typer.Argument(help="Local id (or a unique prefix of it) or remote job id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the record as one JSON object.")] = False,
) -> None:
    """Show a job's record, and its provider status while it runs on IBM Quantum."""
    from circuits.ibm_backends import engine_for_record, is_fake

    with cli_errors():
        rec = _registry(readonly=True).get(job)
        remote = None
        if not rec.finished and rec.job_id:
            if is_fake(rec.backend):
                remote = "local job: 'ketml ibm result' runs its recorded payload again"
            else:
                engine = engine_for_record(rec)
                remote = engine.runner.status(rec.job_id)
    if as_json:
        typer.echo(json.dumps(dict(_record_dict(rec), remote_status=remote), indent=2))
        return
    for key in (
        "id",
        "job_id",
        "backend",
        "kind",
        "mode",
        "tag",
        "status",
        "created",
        "updated",
        "attempts",
        "error",
    ):
        typer.echo(f"{key + ':':<10} {getattr(rec, key)}")
    if remote:
        typer.echo(f"{'remote:':<10} {remote}")


@ibm_app.command()
def result(
    job: Annotated[str, typer.Argument(help="Local id (or a unique prefix of it) or remote job id.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print {counts: ...} or {expectation_values: ..., stds: ...}.")
    ] = False,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Write a PNG: histogram of counts, or bar chart of expectation values."),
    ] = None,
) -> None:
    """Print a job's result: cached in the registry, or fetched (finishing the job) when not yet done."""
    from circuits.ibm_backends import engine_for_record
    from circuits.ibm_results import plot_result, result_values
    from circuits.jobs import resume

    with cli_errors():
        registry = _registry(readonly=True)
        rec = registry.get(job)
        if plot is not None:
            from circuits.files import check_output_file

            check_output_file(plot, "--plot")
        if rec.status == "done":
            raw = registry.cached_result(rec)
        else:
            registry = _registry()  # finishing the job records its result
            engine = engine_for_record(rec) if rec.status in ("pending", "submitted") else None
            try:
                raw = resume(registry, engine.runner if engine else None, rec)
            finally:
                if engine is not None:
                    engine.close()
            rec = registry.get(rec.id)
        values = result_values(registry, rec, raw)
        if plot is not None:
            plot_result(values, plot, f"{rec.kind} on {rec.backend} (job {rec.id[:8]})")
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "local_id": rec.id,
                    "job_id": rec.job_id,
                    "backend": rec.backend,
                    "kind": rec.kind,
                    "status": rec.status,
                    **values,
                },
                indent=2,
            )
        )
    else:
        typer.echo(f"job {rec.id[:8]} (remote id {rec.job_id}) on {rec.backend}: {rec.kind}, {rec.status}")
        _print_values(values)
    if plot is not None and not as_json:
        typer.echo(f"plot: {plot}")


@ibm_app.command()
def cancel(
    job: Annotated[str, typer.Argument(help="Local id (or a unique prefix of it) or remote job id.")],
) -> None:
    """Cancel a job that has not finished, and mark its record cancelled."""
    from circuits.ibm_backends import engine_for_record, is_fake

    with cli_errors():
        registry = _registry()
        rec = registry.get(job)
        if rec.status == "cancelled":
            typer.echo(f"job {rec.id[:8]} is already cancelled")
            return
        if rec.finished:
            raise CliError(f"job {rec.id[:8]} is already {rec.status}; there is nothing to cancel")
        if rec.job_id and not is_fake(rec.backend):  # local jobs end with the process that ran them
            engine = engine_for_record(rec)
            try:
                engine.runner.cancel(rec.job_id)
            except Exception as exc:
                raise CliError(
                    f"cancelling job {rec.job_id} on {rec.backend} failed: {type(exc).__name__}: {exc}"
                ) from None
        registry.update(rec, status="cancelled", error="cancelled by the user")
    typer.echo(f"cancelled job {rec.id[:8]}" + (f" (remote id {rec.job_id})" if rec.job_id else ""))


@ibm_app.command()
def doctor(
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Fix what was found: rebuild a damaged jobs.db from the record files (the old one "
            "is kept under a new name), write missing record files, convert old pickled results.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
) -> None:
    """Check the job registry ($KETML_HOME): database, record files, payloads and cached results."""
    from circuits.job_doctor import doctor as check

    with cli_errors():
        report = check(repair=repair)
        after = check() if repair and not report.ok else report
    if as_json:
        out = {"root": str(report.root), "jobs": report.jobs, "ok": report.ok}
        out.update(problems=report.problems, actions=report.actions, remaining=after.problems)
        typer.echo(json.dumps(out, indent=2))
    else:
        typer.echo(f"job registry {report.root}: {report.jobs} job(s)")
        for line in report.problems:
            typer.echo(f"problem: {line}")
        for line in report.actions:
            typer.echo(f"done: {line}")
        for line in after.problems if after is not report else []:
            typer.echo(f"still: {line}")
        if after.ok:
            typer.echo("no problems found" if report.ok else "the registry is sound now")
        elif not repair:
            typer.echo("run 'ketml ibm doctor --repair' to fix these (nothing is deleted)")
    if not after.ok:
        raise typer.Exit(code=1)


app.add_typer(ibm_app, name="ibm")
