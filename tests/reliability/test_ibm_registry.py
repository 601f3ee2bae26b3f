"""The IBM job registry under faults: a damaged ``jobs.db``, a wrong ``KETML_HOME``, damaged or
unsafe cached files give one line naming the file and the recovery; read-only commands change
nothing; ``ketml ibm doctor`` checks and rebuilds without losing anything."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from qiskit import QuantumCircuit

from circuits.job_doctor import doctor
from circuits.jobs import JobRegistry, RegistryError, RetryPolicy, dump_result, load_result, run_job
from tests.cli.test_run import app, runner

NO_SLEEP = RetryPolicy(attempts=2, base_delay=0, sleep=lambda s: None)
COUNTS = {"00": 60, "11": 40}


class Runner:
    """A provider whose sampler jobs finish at once with :data:`COUNTS`."""

    backend_name = "fake_test"
    mode = "job"

    def __init__(self):
        self.n = 0

    def submit(self, kind, payload, tags):
        self.n += 1
        return f"remote-{self.n}"

    def result(self, job_id, kind, payload):
        return [[dict(COUNTS)]]

    def find(self, tag):
        return None


def _payload():
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    return [(qc, np.zeros((0,)), 100)]


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """``KETML_HOME`` with two finished sampler jobs."""
    root = tmp_path / "ketml"
    monkeypatch.setenv("KETML_HOME", str(root))
    registry, r = JobRegistry(), Runner()
    for tag in ("a", "b"):
        run_job(registry, r, "sampler", _payload(), tag=tag, retry=NO_SLEEP)
    return root


def ibm(*args):
    return runner.invoke(app, ["ibm", *map(str, args)])


def one_line(result, *needles: str) -> str:
    assert result.exit_code == 2, result.output
    text = result.stderr.strip()
    assert text.startswith("ketml: error:") and len(text.splitlines()) == 1, text
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in text, (needle, text)
    return text


def _ids(home: Path) -> list[str]:
    return sorted(r.id for r in JobRegistry(home, readonly=True).list())


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty-table"])
def test_damaged_database_is_named_on_every_command_and_not_overwritten(home, damage):
    db = home / "jobs.db"
    job = _ids(home)[0]
    if damage == "garbage":
        db.write_bytes(b"this is not an sqlite database" * 100)
    elif damage == "truncated":
        data = db.read_bytes()
        db.write_bytes(data[:1000])
    else:  # an sqlite file with another schema
        db.unlink()
        import sqlite3

        sqlite3.connect(db).execute("CREATE TABLE other (x)").connection.close()
    before = db.read_bytes()
    for args in (["jobs"], ["status", job], ["result", job], ["cancel", job]):
        text = one_line(ibm(*args), str(db), "ketml ibm doctor")
        assert "sqlite3" not in text and "Traceback" not in text
    assert db.read_bytes() == before  # never overwritten blindly


def test_doctor_rebuilds_a_damaged_database_from_the_record_files(home):
    ids = _ids(home)
    assert ibm("doctor").exit_code == 0 and "no problems found" in ibm("doctor").stdout
    db = home / "jobs.db"
    for side in ("jobs.db-wal", "jobs.db-shm"):
        (home / side).unlink(missing_ok=True)
    db.write_bytes(b"\x00" * 3000)
    result = ibm("doctor")
    assert result.exit_code == 1 and f"{db} cannot be read" in result.stdout and "--repair" in result.stdout
    result = ibm("doctor", "--repair")
    assert result.exit_code == 0, result.output
    assert "rebuilt" in result.stdout and "the registry is sound now" in result.stdout
    assert _ids(home) == ids
    (kept,) = home.glob("jobs.unreadable-*.db")
    assert kept.read_bytes() == b"\x00" * 3000  # the damaged file is kept
    result = ibm("result", ids[0], "--json")
    assert result.exit_code == 0 and '"00": 60' in result.stdout  # the cached result is back


def test_doctor_recovers_a_lost_database_and_payloads_without_records(home):
    ids = _ids(home)
    os.remove(home / "jobs.db")
    (home / "records" / f"{ids[1]}.json").unlink()  # as a registry written before record files
    report = doctor(home, repair=True)
    assert any("missing" in p for p in report.problems) and doctor(home).ok
    recs = {r.id: r for r in JobRegistry(home, readonly=True).list()}
    assert set(recs) == set(ids)
    assert recs[ids[0]].status == "done"  # from its record file
    assert recs[ids[1]].status == "failed" and "record was lost" in recs[ids[1]].error  # never resent


def test_doctor_writes_record_files_an_old_registry_lacks(home):
    for path in (home / "records").iterdir():
        path.unlink()
    report = doctor(home)
    assert not report.ok and "no record file" in report.problems[0]
    doctor(home, repair=True)
    assert sorted(p.stem for p in (home / "records").iterdir()) == _ids(home) and doctor(home).ok


def test_ketml_home_that_is_a_file(tmp_path, monkeypatch):
    target = tmp_path / "home-file"
    target.write_text("mine")
    monkeypatch.setenv("KETML_HOME", str(target))
    for args in (["jobs"], ["status", "abc"], ["doctor"]):
        one_line(ibm(*args), f"KETML_HOME={target} is a file")
    path = tmp_path / "q.qasm"
    path.write_text(
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nh q[0];\nmeasure q -> c;\n'
    )
    one_line(ibm("submit", path, "-b", "fake_manila", "--shots", "10"), "is a file")
    assert target.read_text() == "mine"


def test_ketml_home_under_a_file_is_named(tmp_path, monkeypatch):
    (tmp_path / "f").write_text("x")
    with pytest.raises(RegistryError, match="cannot create the job registry folder"):
        JobRegistry(tmp_path / "f" / "home")


def test_read_only_commands_change_nothing(home, tmp_path, monkeypatch):
    def snapshot():  # sqlite's own -wal/-shm index files aside
        files = [p for p in home.rglob("*") if p.is_file() and not p.name.endswith(("-wal", "-shm"))]
        return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}

    before = snapshot()
    job = _ids(home)[0]
    for args in (["jobs"], ["jobs", "--json"], ["status", job], ["result", job], ["doctor"]):
        assert ibm(*args).exit_code == 0, args
    assert snapshot() == before
    monkeypatch.setenv("KETML_HOME", str(tmp_path / "nowhere"))  # no registry yet: no jobs, nothing made
    result = ibm("jobs")
    assert result.exit_code == 0 and "no jobs in the registry" in result.stdout
    assert not (tmp_path / "nowhere").exists()
    one_line(ibm("status", "abc"), "no job 'abc'")


@pytest.mark.parametrize("damage", [b"", b'[[{"00": 6', b"\x80\x04garbage"])
def test_damaged_cached_result_names_the_file_and_the_recovery(home, damage):
    job = _ids(home)[0]
    path = home / "results" / f"{job}.json"
    path.write_bytes(damage)
    one_line(ibm("result", job), str(path), f"ketml ibm result {job[:8]}", "damaged")
    report = doctor(home)
    assert not report.ok and any(str(path) in p for p in report.problems)


class _Exploit:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickled_caches_are_read_safely_or_refused(home, tmp_path):
    job = _ids(home)[0]
    new = home / "results" / f"{job}.json"
    old = new.with_suffix(".pkl")
    new.unlink()
    old.write_bytes(pickle.dumps([[{"00": 7, "11": 3}]], protocol=4))  # an old, honest cache
    result = ibm("result", job, "--json")
    assert result.exit_code == 0 and '"00": 7' in result.stdout
    report = doctor(home, repair=True)  # converts it to JSON, keeps the pickle
    assert any("converted" in a for a in report.actions) and new.is_file() and old.is_file()
    assert load_result(new.read_bytes()) == [[{"00": 7, "11": 3}]]

    marker = tmp_path / "pwned"
    exploit = _Exploit()
    exploit.marker = marker
    new.unlink()
    old.write_bytes(pickle.dumps(exploit))
    one_line(ibm("result", job), str(old), "could run code", "posix.system")
    assert not marker.exists()  # nothing was executed
    payload = home / "payloads" / f"{job}.pkl"
    payload.write_bytes(pickle.dumps(exploit))
    rec = JobRegistry(home, readonly=True).get(job)
    with pytest.raises(RegistryError, match="is not allowed"):
        JobRegistry(home, readonly=True).payload(rec)
    assert not marker.exists()


def test_results_are_stored_as_json_with_arrays_round_tripping():
    raw = [{"evs": np.array([[0.5, -1.0]]), "stds": np.float64(0.01), "z": np.array([1 + 2j])}, [{"0": 3}]]
    back = load_result(dump_result(raw))
    np.testing.assert_array_equal(back[0]["evs"], raw[0]["evs"])
    assert back[0]["evs"].dtype == np.float64 and back[0]["evs"].shape == (1, 2)
    assert back[0]["stds"] == 0.01 and back[0]["z"][0] == 1 + 2j and back[1] == [{"0": 3}]
    with pytest.raises(RegistryError, match="cannot be stored as JSON"):
        dump_result([object()])
