"""``ketml ibm``: backends, submit, jobs, status, result, cancel on fake backends (local testing mode)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("qiskit_ibm_runtime")

from circuits.jobs import JobRegistry  # noqa: E402
from qml.cli import app  # noqa: E402

from .test_run import BELL, runner  # noqa: E402

BELL_UNMEASURED = """OPENQASM 3.0;
include "stdgates.inc";
input float[64] a;
qubit[2] q;
ry(a) q[0];
cx q[0], q[1];
"""

WIDE = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[6];
h q[0];
"""

MALFORMED = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
cx q[0] q[1];
"""

PY_CIRCUIT = """
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

t = Parameter("t")
circuit = QuantumCircuit(2)
circuit.rx(t, 0)
circuit.cx(0, 1)
observables = ["ZZ", "IZ"]
parameters = {"t": 3.141592653589793}
"""


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A fresh registry, and no IBM account anywhere (so nothing can reach the network)."""
    from qiskit_ibm_runtime.accounts import management

    home = tmp_path / "user"
    home.mkdir()
    monkeypatch.setenv("KETML_HOME", str(tmp_path / "ketml"))
    monkeypatch.setenv("HOME", str(home))
    for var in ("QISKIT_IBM_TOKEN", "QISKIT_IBM_INSTANCE", "QISKIT_IBM_CHANNEL", "QISKIT_IBM_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(
        management, "_DEFAULT_ACCOUNT_CONFIG_JSON_FILE", str(home / ".qiskit" / "qiskit-ibm.json")
    )
    return tmp_path


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def ok(*args) -> str:
    result = invoke(*args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def ok_json(*args):
    return json.loads(ok(*args, "--json"))


def fails(*args) -> str:
    """Run a command that must fail: exit 2, one line on stderr, no traceback; return that line."""
    result = invoke(*args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ketml: error:"), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def write(tmp_path: Path, text: str, name: str = "bell.qasm") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def records() -> list:
    return JobRegistry().list()


def test_help_lists_commands_and_options(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich shortens long option names in narrow terminals
    assert "ibm" in ok("--help")
    text = ok("ibm", "--help")
    for command in ("backends", "submit", "jobs", "status", "result", "cancel"):
        assert command in text
    text = ok("ibm", "submit", "--help")
    for option in (
        "--backend",
        "--shots",
        "--observable",
        "--param",
        "--mode",
        "--optimization-level",
        "--tag",
        "--force",
        "--dry-run",
        "--yes",
        "--noise",
        "--no-noise",
        "--seed",
        "--json",
    ):
        assert option in text, option
    assert "--plot" in ok("ibm", "result", "--help")
    assert "--min-qubits" in ok("ibm", "backends", "--help")


def test_backends_fake_and_without_account():
    data = ok_json("ibm", "backends", "--fake")
    assert data["source"] == "fake" and data["note"] is None
    widths = {b["name"]: b["num_qubits"] for b in data["backends"]}
    assert widths["fake_manila"] == 5 and len(widths) > 40
    big = ok_json("ibm", "backends", "--fake", "--min-qubits", "100")["backends"]
    assert big and all(b["num_qubits"] >= 100 for b in big)
    assert "fake_manila" not in {b["name"] for b in big}

    text = ok("ibm", "backends", "--min-qubits", "127")  # no account: the fake list and a note
    assert "fake_brisbane" in text and "fake_manila" not in text
    assert "QISKIT_IBM_TOKEN" in text.splitlines()[-1]


def test_submit_sampler_json_and_registry(tmp_path):
    path = write(tmp_path, BELL)
    data = ok_json("ibm", "submit", path, "--backend", "fake_manila", "--shots", "1000", "--seed", "5")
    assert data["backend"] == "fake_manila" and data["status"] == "done" and data["kind"] == "sampler"
    assert data["job_id"] and data["local_id"] and data["reused"] is False
    assert sum(data["counts"].values()) == 1000
    assert data["counts"]["00"] + data["counts"]["11"] > 800  # noisy, but mostly Bell
    assert data["cost"]["two_qubit_gates"] >= 1 and data["cost"]["depth"] >= 2
    (rec,) = records()
    assert (rec.id, rec.job_id, rec.status) == (data["local_id"], data["job_id"], "done")

    text = ok("ibm", "submit", path, "-b", "fake_manila", "--no-noise", "--shots", "200", "--mode", "batch")
    assert "fake_manila: done" in text and "two-qubit gates" in text
    assert re.search(r"^00\s+\d+", text, re.M) and not re.search(r"^01\s", text, re.M)  # ideal: no 01
    assert len(records()) == 2


def test_submit_estimator_with_params_and_python_file(tmp_path):
    path = write(tmp_path, BELL_UNMEASURED, "ry.qasm")
    assert "unbound" in fails("ibm", "submit", path, "-b", "fake_manila", "-o", "ZZ")
    data = ok_json(
        "ibm",
        "submit",
        path,
        "-b",
        "fake_manila",
        "--no-noise",
        "-p",
        "a=pi/2",
        "-o",
        "ZZ",
        "-o",
        "XX",
        "-o",
        "IZ",
        "--optimization-level",
        "2",
    )
    evs = data["expectation_values"]
    assert data["kind"] == "estimator" and list(evs) == ["ZZ", "XX", "IZ"]
    assert evs["ZZ"] == pytest.approx(1.0) and evs["XX"] == pytest.approx(1.0)  # ideal simulation
    assert abs(evs["IZ"]) < 0.1

    py = write(tmp_path, PY_CIRCUIT, "circ.py")
    data = ok_json("ibm", "submit", py, "-b", "fake_manila", "--no-noise", "--shots", "500")
    assert data["expectation_values"] == pytest.approx({"ZZ": 1.0, "IZ": -1.0})  # rx(pi): |11>
    data = ok_json("ibm", "submit", py, "-b", "fake_manila", "--no-noise", "-p", "t=0", "-o", "IZ")
    assert data["expectation_values"] == pytest.approx({"IZ": 1.0})  # --param and -o override the file


def test_dry_run_creates_no_record(tmp_path):
    path = write(tmp_path, BELL)
    text = ok("ibm", "submit", path, "-b", "fake_manila", "--dry-run")
    assert "dry run" in text and "depth" in text and "two-qubit" in text
    data = ok_json("ibm", "submit", path, "-b", "fake_manila", "--dry-run", "-o", "ZZ")
    assert data["dry_run"] is True and data["cost"]["depth"] > 0 and "duration_s" in data["cost"]
    assert records() == []


def test_tag_is_idempotent_and_force_resubmits(tmp_path):
    path = write(tmp_path, BELL)
    args = ("ibm", "submit", path, "-b", "fake_manila", "--shots", "300", "--tag", "exp-1")
    first = ok_json(*args)
    second = ok_json(*args)
    assert second["job_id"] == first["job_id"] and second["local_id"] == first["local_id"]
    assert second["reused"] is True and second["counts"] == first["counts"]
    assert len(records()) == 1
    third = ok_json(*args, "--force")
    assert third["job_id"] != first["job_id"] and third["reused"] is False
    assert len(records()) == 2


def test_jobs_status_result_and_plot(tmp_path):
    path = write(tmp_path, BELL)
    sampled = ok_json("ibm", "submit", path, "-b", "fake_manila", "--shots", "400", "--tag", "s")
    unmeasured = write(tmp_path, BELL_UNMEASURED, "ry.qasm")
    estimated = ok_json("ibm", "submit", unmeasured, "-b", "fake_manila", "-p", "a=0", "-o", "ZZ", "-o", "IX")

    table = ok("ibm", "jobs")
    header = ["id", "job_id", "backend", "kind", "tag", "status", "created"]
    assert table.splitlines()[0].split()[:7] == header
    assert sampled["local_id"][:8] in table and estimated["job_id"] in table
    listed = ok_json("ibm", "jobs", "--status", "done", "--backend", "fake_manila")
    assert {r["id"] for r in listed} == {sampled["local_id"], estimated["local_id"]}
    assert ok_json("ibm", "jobs", "--status", "failed") == []
    assert "no jobs" in ok("ibm", "jobs", "--backend", "fake_lima")

    text = ok("ibm", "status", sampled["local_id"][:8])
    assert re.search(r"^status:\s+done$", text, re.M) and sampled["job_id"] in text
    assert ok_json("ibm", "status", sampled["job_id"])["id"] == sampled["local_id"]  # remote id works too

    counts = ok_json("ibm", "result", sampled["local_id"])
    assert counts["counts"] == sampled["counts"] and "expectation_values" not in counts
    png = tmp_path / "plots" / "counts.png"
    text = ok("ibm", "result", sampled["job_id"], "--plot", png)
    assert "00" in text and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    evs = ok_json("ibm", "result", estimated["local_id"][:10])
    assert evs["expectation_values"] == pytest.approx(estimated["expectation_values"])
    assert list(evs["expectation_values"]) == ["ZZ", "IX"] and "counts" not in evs
    bars = tmp_path / "evs.png"
    ok("ibm", "result", estimated["local_id"], "--plot", bars)
    assert bars.stat().st_size > 1000


def test_result_resumes_an_unfinished_job(tmp_path):
    path = write(tmp_path, BELL)
    data = ok_json("ibm", "submit", path, "-b", "fake_manila", "--no-noise", "--shots", "256")
    registry = JobRegistry()
    rec = registry.get(data["local_id"])
    registry.update(rec, status="submitted")  # as if the process died before the result came back
    registry._result_path(rec.id).unlink()
    again = ok_json("ibm", "result", rec.id)
    assert again["status"] == "done" and sum(again["counts"].values()) == 256
    assert set(again["counts"]) <= {"00", "11"}
    assert registry.get(rec.id).status == "done"


def test_cancel(tmp_path):
    path = write(tmp_path, BELL)
    data = ok_json("ibm", "submit", path, "-b", "fake_manila", "--shots", "100")
    assert "already done" in fails("ibm", "cancel", data["local_id"])
    registry = JobRegistry()
    registry.update(registry.get(data["local_id"]), status="submitted")
    assert "cancelled job" in ok("ibm", "cancel", data["local_id"][:8])
    rec = registry.get(data["local_id"])
    assert rec.status == "cancelled" and rec.error
    assert "already cancelled" in ok("ibm", "cancel", data["local_id"])
    assert "cancelled" in fails("ibm", "result", data["local_id"])


def test_errors(tmp_path):
    bell = write(tmp_path, BELL)
    line = fails("ibm", "submit", bell, "-b", "fake_nowhere")
    assert "unknown fake backend 'fake_nowhere'" in line
    assert "unknown backend 'manila'" in fails("ibm", "submit", bell, "-b", "manila")

    line = fails("ibm", "submit", bell, "-b", "ibm_brisbane", "--yes")
    assert "QISKIT_IBM_TOKEN" in line and "account" in line
    assert not re.search(r"[A-Za-z0-9_-]{32,}", line)  # nothing that looks like a token
    assert "QISKIT_IBM_TOKEN" in fails("ibm", "submit", bell, "-b", "ibm_brisbane", "--dry-run")

    line = fails("ibm", "submit", write(tmp_path, WIDE, "wide.qasm"), "-b", "fake_manila")
    assert "6 qubits" in line and "fake_manila" in line and "5" in line

    line = fails("ibm", "submit", write(tmp_path, MALFORMED, "broken.qasm"), "-b", "fake_manila")
    assert "broken.qasm" in line and "line 4" in line and "column" in line

    assert "no such file" in fails("ibm", "submit", tmp_path / "missing.qasm", "-b", "fake_manila")
    assert "'circuit'" in fails("ibm", "submit", write(tmp_path, "x = 1\n", "empty.py"), "-b", "fake_manila")
    assert "--seed must be" in fails("ibm", "submit", bell, "-b", "fake_manila", "--seed", str(2**64 - 1))
    assert not records()  # nothing was recorded for a submission that never started
    assert "--mode" in fails("ibm", "submit", bell, "-b", "fake_manila", "--mode", "burst")
    assert "--status" in fails("ibm", "jobs", "--status", "lost")
    for command in ("status", "result", "cancel"):
        assert "no job 'deadbeef'" in fails("ibm", command, "deadbeef")
    assert records() == []


def test_run_on_the_ibm_engine_reports_estimates_not_exact_values(tmp_path):
    """``ketml run -e ibm`` without --shots uses the engine's default shots: not "exact"."""
    path = write(tmp_path, BELL)
    data = ok_json("run", path, "-e", "ibm", "-o", "ZZ", "--seed", "1")
    assert data["exact"] is False and data["shots"] is None
    assert -1.0 <= data["expectation_values"]["ZZ"] <= 1.0
    head = ok("run", path, "-e", "ibm", "-o", "ZZ", "--seed", "1").splitlines()[0]
    assert "exact" not in head and "default shots" in head
    assert ok_json("run", path, "-o", "ZZ")["exact"] is True  # the torch engine is exact
