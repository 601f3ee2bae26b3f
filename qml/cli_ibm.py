"""``ketml ibm``: IBM Quantum from the command line (backends, submit, jobs, status, result, cancel).

Every submission goes through the ``ibm`` engine and the job registry (``$KETML_HOME/jobs.db``,
default ``~/.ketml``), so it is recorded before it is sent and can be read back later. Fake
backends (``fake_manila``, ...) run locally and need no account. Expected failures print one
line ``ketml: error: ...`` on stderr and exit with status 2.
"""

from __future__ import annotations

import dataclasses
import json
import os
import runpy
from pathlib import Path
from typing import Annotated, Any

import typer

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


def cli_errors():
    """``qml.cli.cli_errors`` (imported late: ``qml.cli`` imports this module at its end)."""
    from .cli_errors import cli_errors

    return cli_errors()


def _is_fake(name: str) -> bool:
    return name.startswith("fake_")


def _registry():
    from circuits.jobs import JobRegistry

    return JobRegistry()


def _account_configured() -> bool:
    """Whether an account could be used (token in the environment or a saved account); no network."""
    if os.environ.get("QISKIT_IBM_TOKEN"):
        return True
    try:
        from qiskit_ibm_runtime import QiskitRuntimeService

        return bool(QiskitRuntimeService.saved_accounts())
    except Exception:  # no runtime, or an unreadable account file: treat as none
        return False


# ---------------------------------------------------------------------------------- backends


def fake_backends(min_qubits: int = 1) -> list[dict[str, Any]]:
    """Name and width of every fake backend (those of ``FakeProviderForBackendV2``), read from their
    configuration files rather than built (building all of them takes seconds)."""
    from circuits.engines.ibm_engine import fake_backend_classes

    out = []
    for name, cls in sorted(fake_backend_classes().items()):
        with open(os.path.join(cls.dirname, cls.conf_filename)) as f:
            n_qubits = int(json.load(f)["n_qubits"])
        if n_qubits >= min_qubits:
            out.append({"name": name, "num_qubits": n_qubits})
    return out


def _service_backends(min_qubits: int) -> list[dict[str, Any]]:
    from circuits.engines.ibm_engine import service

    rows = []
    for b in service().backends(min_num_qubits=min_qubits):
        try:
            st = b.status()
            pending, operational = int(st.pending_jobs), bool(st.operational)
        except Exception:  # a backend whose status cannot be read still gets listed
            pending, operational = None, None
        rows.append({"name": b.name, "num_qubits": int(b.num_qubits), "pending_jobs": pending,
                     "operational": operational})
    return sorted(rows, key=lambda r: r["name"])


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
    note = None
    with cli_errors():
        if fake or not _account_configured():
            source, rows = "fake", fake_backends(min_qubits)
            if not fake:
                note = ACCOUNT_HINT + "; showing the fake backends"
        else:
            source, rows = "account", _service_backends(min_qubits)
    if as_json:
        typer.echo(json.dumps({"source": source, "backends": rows, "note": note}, indent=2))
        return
    columns = ["name", "num_qubits"] + (["pending_jobs", "operational"] if source == "account" else [])
    _table(rows, columns)
    if note:
        typer.echo(f"note: {note}")


# ------------------------------------------------------------------------------------ submit


def _load_python(file: Path) -> tuple[Any, Any, Any]:
    """``circuit``, ``observables`` and ``parameters`` defined by a Python file."""
    from qiskit import QuantumCircuit

    from .cli_errors import CliError

    if not file.is_file():
        raise CliError(f"no such file: {file}")
    try:
        namespace = runpy.run_path(str(file), run_name="__ketml_circuit__")
    except SystemExit as exc:
        raise CliError(f"{file} called exit({exc.code}) while defining the circuit") from None
    except Exception as exc:
        raise CliError(f"{file} failed: {type(exc).__name__}: {exc}") from None
    circuit = namespace.get("circuit")
    if not isinstance(circuit, QuantumCircuit):
        found = "nothing" if circuit is None else type(circuit).__name__
        raise CliError(f"{file} must define a module-level 'circuit' (a qiskit QuantumCircuit); "
                       f"found {found}")
    return circuit, namespace.get("observables"), namespace.get("parameters")


def _op_label(op) -> str:
    """A SparsePauliOp as text: its Pauli label when it is one term with coefficient 1."""
    terms = op.to_list()
    if len(terms) == 1 and complex(terms[0][1]) == 1:
        return terms[0][0]
    return " + ".join(f"{complex(c).real:g}*{label}" for label, c in terms)


def _observables(circuit, cli_labels: list[str], file_obs: Any) -> tuple[list, list[str]]:
    """Observables (SparsePauliOp) and their labels: ``--observable`` wins over the file's."""
    from circuits.observables import as_observables

    from .cli import _check_observable

    if cli_labels:
        labels = [_check_observable(o, circuit.num_qubits) for o in cli_labels]
        return as_observables(labels, circuit.num_qubits), labels
    if file_obs is None:
        return [], []
    ops = as_observables(file_obs, circuit.num_qubits)
    return ops, [_op_label(o) for o in ops]


def _load(file: Path, cli_obs: list[str], params: list[str]) -> tuple[Any, list, list[str], Any]:
    """Circuit, observables, labels and parameter values of a .qasm or .py file."""
    from .cli import _load_qasm, _parameter_values

    file_obs = file_params = None
    if file.suffix == ".py":
        circuit, file_obs, file_params = _load_python(file)
    else:
        circuit = _load_qasm(file)
    ops, labels = _observables(circuit, cli_obs, file_obs)
    values = file_params if (file_params is not None and not params) else _parameter_values(circuit, params)
    return circuit, ops, labels, values


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown duration"
    if seconds < 1e-3:
        return f"~{seconds * 1e6:.1f} us"
    return f"~{seconds * 1e3:.1f} ms" if seconds < 1 else f"~{seconds:.1f} s"


def _cost_line(report: dict) -> str:
    return (f"{report['backend']}: depth {report['depth']}, {report['two_qubit_gates']} two-qubit gates, "
            f"{report['size']} gates on {report['n_qubits']} qubits, "
            f"{_duration(report['duration_s'])} per shot")


def _confirmer(kind: str):
    def ask(report: dict) -> bool:
        shots = report.get("shots")
        return typer.confirm(
            f"Submit a {kind} job to {report['backend']} ({_cost_line(report)}"
            + (f", {shots} shots" if shots else "") + ")?",
            default=False,
        )

    return ask


@ibm_app.command()
def submit(
    file: Annotated[
        Path,
        typer.Argument(help="OpenQASM 2/3 file, or a .py file defining 'circuit' (and optionally "
                            "'observables', 'parameters')."),
    ],
    backend: Annotated[
        str,
        typer.Option("--backend", "-b",
                     help="Backend name: fake_manila (local), ibm_brisbane, or least_busy."),
    ],
    shots: Annotated[
        int, typer.Option("--shots", "-s", min=1, help="Shots per circuit (sampler and estimator).")
    ] = DEFAULT_SHOTS,
    observable: Annotated[
        list[str] | None,
        typer.Option("--observable", "-o", help="Pauli label to estimate (qubit 0 right-most); repeat for "
                                                "several. Without it the circuit is sampled."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p",
                     help="Free parameter value: name=value or vector=v0,v1,... (pi allowed). Repeatable."),
    ] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="Execution mode: job, batch or session.")
    ] = "job",
    optimization_level: Annotated[
        int, typer.Option("--optimization-level", min=0, max=3, help="Transpiler optimization level 0-3.")
    ] = 1,
    tag: Annotated[
        str | None,
        typer.Option("--tag", "-t", help="Tag the job; the same circuit, backend and options with the same "
                                         "tag reuse the earlier job instead of paying again."),
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

    from .cli_errors import CliError

    with cli_errors():
        if mode not in MODES:
            raise CliError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
        circuit, ops, labels, values = _load(file, observable or [], param or [])
        kind = "estimator" if ops else "sampler"
        if not (_is_fake(backend) or backend == "least_busy" or backend.startswith("ibm_")) \
                and not _account_configured():
            raise CliError(f"unknown backend {backend!r}: local fake backends are named fake_* "
                           "(see 'ketml ibm backends --fake'); real ones need an IBM Quantum account")
        engine = IBMEngine(
            backend=backend, min_qubits=circuit.num_qubits, noise=noise,
            optimization_level=optimization_level, mode=mode, shots=shots, seed=seed, tag=tag, force=force,
            confirm=None if yes else _confirmer(kind),
        )
        try:
            report = engine.cost(circuit, measured=not ops)
            if dry_run:
                out = {"dry_run": True, "backend": engine.backend.name, "kind": kind, "shots": shots,
                       "cost": report}
                typer.echo(json.dumps(out, indent=2) if as_json else
                           f"dry run, nothing submitted: {kind} with {shots} shots on {_cost_line(report)}")
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
    out = {"job_id": rec.job_id, "local_id": rec.id, "backend": rec.backend, "kind": rec.kind,
           "mode": rec.mode, "tag": rec.tag, "status": rec.status, "reused": rec.id in known,
           "shots": shots, "noise": noise if engine.local else None, "cost": engine.last_report, **result}
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    typer.echo(f"job {rec.id[:8]} (remote id {rec.job_id}) on {rec.backend}: {rec.status}"
               + (" (reused an earlier job with this tag)" if out["reused"] else ""))
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
        typer.Option("--status",
                     help="Only jobs with this status: pending, submitted, done, failed, cancelled."),
    ] = None,
    backend: Annotated[str | None, typer.Option("--backend", "-b", help="Only jobs on this backend.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the records as a JSON list.")] = False,
) -> None:
    """List the jobs in the local registry, newest first."""
    from circuits.jobs import STATES

    from .cli_errors import CliError

    with cli_errors():
        if status is not None and status not in STATES:
            raise CliError(f"--status must be one of {', '.join(STATES)}, got {status!r}")
        records = _registry().list(status=status, backend=backend)
    if as_json:
        typer.echo(json.dumps([_record_dict(r) for r in records], indent=2))
        return
    if not records:
        typer.echo("no jobs in the registry" + (" matching the filters" if status or backend else ""))
        return
    rows = [{"id": r.id[:8], "job_id": r.job_id, "backend": r.backend, "kind": r.kind, "tag": r.tag,
             "status": r.status, "created": r.created.replace("+00:00", "Z"),
             "error": (r.error or "")[:_ERROR_WIDTH] or None} for r in records]
    _table(rows, ["id", "job_id", "backend", "kind", "tag", "status", "created", "error"])


def _engine_for(rec):
    """An ``IBMEngine`` with the record's backend and options, whose runner can finish or cancel it."""
    from circuits.engines.ibm_engine import IBMEngine

    o = rec.options
    return IBMEngine(
        backend=rec.backend, noise=o.get("noise", True), mode=rec.mode, shots=o.get("shots"),
        precision=o.get("precision"), resilience_level=o.get("resilience_level"),
        dynamical_decoupling=bool(o.get("dynamical_decoupling")), twirling=bool(o.get("twirling")),
        seed=o.get("seed"), optimization_level=o.get("optimization_level", 1),
    )


@ibm_app.command("status")
def status_(
    job: Annotated[str, typer.Argument(help="Local id (or a unique prefix of it) or remote job id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the record as one JSON object.")] = False,
) -> None:
    """Show a job's record, and its provider status while it runs on IBM Quantum."""
    with cli_errors():
        rec = _registry().get(job)
        remote = None
        if not rec.finished and rec.job_id:
            if _is_fake(rec.backend):
                remote = "local job: 'ketml ibm result' runs its recorded payload again"
            else:
                engine = _engine_for(rec)
                remote = engine.runner.status(rec.job_id)
    if as_json:
        typer.echo(json.dumps(dict(_record_dict(rec), remote_status=remote), indent=2))
        return
    for key in ("id", "job_id", "backend", "kind", "mode", "tag", "status", "created", "updated",
                "attempts", "error"):
        typer.echo(f"{key + ':':<10} {getattr(rec, key)}")
    if remote:
        typer.echo(f"{'remote:':<10} {remote}")


def _expectation_labels(payload: Any, n: int) -> list[str]:
    """The user's observables, read back from an estimator payload's ISA observables and layout."""
    from qiskit.quantum_info import SparsePauliOp

    try:
        isa, observables = payload[0][0], payload[0][1]
        layout = isa.layout
        where = layout.final_index_layout() if layout is not None else list(range(isa.num_qubits))
        labels = []
        for op in observables:
            terms = [("".join(label[::-1][q] for q in where)[::-1], c) for label, c in op.to_list()]
            virtual = SparsePauliOp.from_list(terms)
            if not virtual.apply_layout(layout).equiv(op):
                raise ValueError
            labels.append(_op_label(virtual))
        if len(labels) == n:
            return labels
    except Exception:  # an unusual payload: number the observables instead
        pass
    return [f"obs{i}" for i in range(n)]


def _result_values(registry, rec, raw: Any) -> dict[str, Any]:
    """``{"counts": ...}`` or ``{"expectation_values": ..., "stds": ...}``: a dict, or a list per row."""
    import numpy as np

    if rec.kind == "sampler":
        rows = [{k.replace(" ", ""): int(v) for k, v in c.items()} for c in raw[0]]
        rows = [dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for c in rows]
        return {"counts": rows[0] if len(rows) == 1 else rows}
    evs, stds = np.asarray(raw[0]["evs"], dtype=float), np.asarray(raw[0]["stds"], dtype=float)
    n = evs.shape[-1] if evs.ndim else 1
    labels = _expectation_labels(registry.payload(rec), n)
    rows = [dict(zip(labels, r.tolist(), strict=True)) for r in evs.reshape(-1, n)]
    errs = [dict(zip(labels, r.tolist(), strict=True)) for r in stds.reshape(-1, n)]
    single = len(rows) == 1
    return {"expectation_values": rows[0] if single else rows, "stds": errs[0] if single else errs}


def _plot(values: dict[str, Any], path: Path, title: str) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5), layout="constrained")
    ax = fig.subplots()
    if "counts" in values:
        counts = values["counts"] if isinstance(values["counts"], dict) else values["counts"][0]
        keys = sorted(counts)
        total = sum(counts.values())
        ax.bar(keys, [counts[k] / total for k in keys], color="tab:blue")
        ax.set_xlabel("bitstring (qubit 0 right-most)")
        ax.set_ylabel("probability")
        ax.tick_params(axis="x", labelrotation=90 if len(keys) > 8 else 0)
    else:
        evs = values["expectation_values"]
        evs = evs if isinstance(evs, dict) else evs[0]
        ax.bar(list(evs), list(evs.values()), color="tab:orange")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_ylim(-1.05, 1.05)
        ax.set_ylabel("expectation value")
    ax.set_title(title)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    except OSError as exc:
        from .cli_errors import CliError

        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None


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
    from circuits.jobs import resume

    with cli_errors():
        registry = _registry()
        rec = registry.get(job)
        if rec.status == "done":
            raw = registry.cached_result(rec)
        else:
            engine = _engine_for(rec) if rec.status in ("pending", "submitted") else None
            try:
                raw = resume(registry, engine.runner if engine else None, rec)
            finally:
                if engine is not None:
                    engine.close()
            rec = registry.get(rec.id)
        values = _result_values(registry, rec, raw)
        if plot is not None:
            _plot(values, plot, f"{rec.kind} on {rec.backend} (job {rec.id[:8]})")
    if as_json:
        typer.echo(json.dumps({"local_id": rec.id, "job_id": rec.job_id, "backend": rec.backend,
                               "kind": rec.kind, "status": rec.status, **values}, indent=2))
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
    from .cli_errors import CliError

    with cli_errors():
        registry = _registry()
        rec = registry.get(job)
        if rec.status == "cancelled":
            typer.echo(f"job {rec.id[:8]} is already cancelled")
            return
        if rec.finished:
            raise CliError(f"job {rec.id[:8]} is already {rec.status}; there is nothing to cancel")
        if rec.job_id and not _is_fake(rec.backend):  # local jobs end with the process that ran them
            engine = _engine_for(rec)
            try:
                engine.runner.cancel(rec.job_id)
            except Exception as exc:
                raise CliError(f"cancelling job {rec.job_id} on {rec.backend} failed: "
                               f"{type(exc).__name__}: {exc}") from None
        registry.update(rec, status="cancelled", error="cancelled by the user")
    typer.echo(f"cancelled job {rec.id[:8]}" + (f" (remote id {rec.job_id})" if rec.job_id else ""))
