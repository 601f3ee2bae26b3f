"""The job registry: recorded before sending, idempotent by tag, retried when transient, failed
clearly when permanent, and recoverable after the submitting process is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from qiskit import QuantumCircuit

from circuits.jobs import JobFailedError, JobRegistry, RetryPolicy, TransientError, resume, run_job

ROOT = Path(__file__).resolve().parents[2]


class FakeRunner:
    """A provider double: jobs finish at once with a known result; failures can be injected."""

    backend_name = "fake_test"
    mode = "job"

    def __init__(self, registry=None, submit_failures=(), result_failures=()):
        self.registry = registry
        self.submit_failures = list(submit_failures)
        self.result_failures = list(result_failures)
        self.submitted: list[str] = []
        self.seen_pending: list[bool] = []
        self.tags: dict[str, str] = {}

    def submit(self, kind, payload, tags):
        if self.registry is not None:  # the record must exist, pending, before anything is sent
            self.seen_pending.append(any(r.status == "pending" for r in self.registry.list()))
        if self.submit_failures:
            raise self.submit_failures.pop(0)
        job_id = f"job-{len(self.submitted)}"
        self.submitted.append(job_id)
        self.tags[tags[0]] = job_id
        return job_id

    def result(self, job_id, kind, payload):
        if self.result_failures:
            raise self.result_failures.pop(0)
        return {"job": job_id, "n_pubs": len(payload)}

    def find(self, tag):
        return self.tags.get(tag)

    def status(self, job_id):
        return "DONE"

    def cancel(self, job_id):
        pass


def _payload():
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    return [(qc, np.zeros((0,)), 100)]


NO_SLEEP = RetryPolicy(attempts=4, base_delay=0.5, sleep=lambda s: None)


def test_recorded_before_sending_and_result_cached(tmp_path):
    reg = JobRegistry(tmp_path)
    runner = FakeRunner(reg)
    rec, result = run_job(reg, runner, "sampler", _payload(), tag="bell", retry=NO_SLEEP)
    assert runner.seen_pending == [True]
    assert result == {"job": "job-0", "n_pubs": 1}
    rec = reg.get(rec.id)
    assert rec.status == "done" and rec.job_id == "job-0"
    assert reg.get("job-0").id == rec.id  # found by remote id too
    assert reg.cached_result(rec) == result
    # the stored payload round-trips (circuits through QPY)
    ((qc, _, shots),) = reg.payload(rec)
    assert qc.num_qubits == 2 and shots == 100


def test_same_tag_reuses_the_job_unless_forced(tmp_path):
    reg = JobRegistry(tmp_path)
    runner = FakeRunner()
    a, ra = run_job(reg, runner, "sampler", _payload(), tag="t", retry=NO_SLEEP)
    b, rb = run_job(reg, runner, "sampler", _payload(), tag="t", retry=NO_SLEEP)
    assert a.id == b.id and ra == rb and runner.submitted == ["job-0"]
    c, _ = run_job(reg, runner, "sampler", _payload(), tag="t", force=True, retry=NO_SLEEP)
    d, _ = run_job(reg, runner, "sampler", _payload(), tag="other", retry=NO_SLEEP)
    e, _ = run_job(reg, runner, "sampler", _payload(), retry=NO_SLEEP)  # no tag: always new
    assert len({a.id, c.id, d.id, e.id}) == 4 and len(runner.submitted) == 4
    assert len(reg.list()) == 4


def test_transient_failures_are_retried_with_backoff(tmp_path):
    reg = JobRegistry(tmp_path)
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=5, base_delay=1.0, sleep=sleeps.append)
    runner = FakeRunner(
        submit_failures=[TransientError("503 Service Unavailable"), TransientError("429 Too Many Requests")],
        result_failures=[TransientError("connection reset")],
    )
    rec, result = run_job(reg, runner, "sampler", _payload(), retry=policy)
    assert result["job"] == "job-0"
    assert sleeps == [1.0, 2.0, 1.0]  # exponential backoff per call
    assert reg.get(rec.id).status == "done"
    # giving up after the last attempt leaves a failed record that says why
    runner = FakeRunner(submit_failures=[TransientError("503")] * 5)
    with pytest.raises(JobFailedError, match="after 5 attempts"):
        run_job(reg, runner, "sampler", _payload(), retry=policy)
    failed = reg.list(status="failed")
    assert len(failed) == 1 and "503" in failed[0].error


def test_permanent_failure_is_recorded_and_not_retried(tmp_path):
    reg = JobRegistry(tmp_path)
    runner = FakeRunner(result_failures=[JobFailedError("IBMInputValueError: circuit is not ISA")])
    with pytest.raises(JobFailedError, match="not ISA"):
        run_job(reg, runner, "sampler", _payload(), tag="x", retry=NO_SLEEP)
    (rec,) = reg.list()
    assert rec.status == "failed" and "not ISA" in rec.error
    with pytest.raises(JobFailedError, match="failed"):
        resume(reg, runner, rec.id)
    runner = FakeRunner(result_failures=[JobFailedError("job was cancelled")])
    with pytest.raises(JobFailedError):
        run_job(reg, runner, "sampler", _payload(), tag="y", retry=NO_SLEEP)
    assert reg.list(status="cancelled")[0].error.endswith("cancelled")


def test_resume_a_pending_record_finds_or_resubmits(tmp_path):
    reg = JobRegistry(tmp_path)
    rec = reg.create("sampler", "fake_test", "job", "t", _payload(), {})
    runner = FakeRunner()
    runner.tags[f"ketml:{rec.id}"] = "job-accepted-before-crash"
    assert resume(reg, runner, rec.id)["job"] == "job-accepted-before-crash"
    assert runner.submitted == []  # found by its tag, not paid for twice
    rec2 = reg.create("sampler", "fake_test", "job", "u", _payload(), {})
    assert resume(reg, FakeRunner(), rec2.id)["job"] == "job-0"  # never reached the provider: sent now
    assert reg.get(rec2.id).status == "done"


def test_unknown_job_and_bad_status(tmp_path):
    from circuits.errors import KetmlError

    reg = JobRegistry(tmp_path)
    with pytest.raises(KetmlError, match="no job"):
        reg.get("nope")
    rec = reg.create("sampler", "b", "job", None, _payload(), {})
    with pytest.raises(KetmlError, match="unknown job status"):
        reg.update(rec, status="exploded")


CRASHING_SUBMITTER = textwrap.dedent("""
    import sys, time
    import numpy as np, torch
    from qiskit.circuit.library import efficient_su2
    import circuits
    from circuits.engines import ibm_engine

    def stuck(self, job_id, kind, payload):  # the job is queued on the device: we wait ...
        print("SUBMITTED", job_id, flush=True)
        time.sleep(600)

    ibm_engine.IBMRunner.result = stuck
    qc = efficient_su2(2, reps=1)
    v = torch.tensor(np.linspace(0.1, 0.8, qc.num_parameters))
    circuits.expval(qc, ["ZZ", "XI"], v, engine="ibm", backend="fake_manila", noise=False,
                    precision=0.01, seed=3, tag="crash-test")
""")


def test_killed_process_leaves_a_record_that_resume_completes(tmp_path):
    pytest.importorskip("qiskit_ibm_runtime")
    env = dict(os.environ, KETML_HOME=str(tmp_path), OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHING_SUBMITTER],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("SUBMITTED"), proc.stderr.read()
        os.kill(proc.pid, signal.SIGKILL)  # mid-run: submitted, result never fetched
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    reg = JobRegistry(tmp_path)
    (rec,) = reg.list()
    assert rec.status == "submitted" and rec.job_id and rec.tag == "crash-test"
    from circuits.engines.ibm_engine import IBMEngine

    engine = IBMEngine("fake_manila", noise=False, precision=0.01, seed=3, registry=reg)
    t0 = time.time()
    (pub,) = resume(reg, engine.runner, rec.id)
    assert time.time() - t0 < 120
    assert reg.get(rec.id).status == "done"
    evs = np.asarray(pub["evs"]).reshape(-1)
    import torch
    from qiskit.circuit.library import efficient_su2

    import circuits

    qc = efficient_su2(2, reps=1)
    exact = (
        circuits.expval(
            qc, ["ZZ", "XI"], torch.tensor(np.linspace(0.1, 0.8, qc.num_parameters)), dtype="complex128"
        )
        .numpy()
        .reshape(-1)
    )
    np.testing.assert_allclose(evs, exact, atol=0.06)
    # the same tagged call in a new process now reuses the finished job: no new record
    out = circuits.expval(
        qc,
        ["ZZ", "XI"],
        torch.tensor(np.linspace(0.1, 0.8, qc.num_parameters)),
        engine=IBMEngine("fake_manila", noise=False, precision=0.01, seed=3, registry=reg, tag="crash-test"),
    )
    np.testing.assert_allclose(out.numpy().reshape(-1), evs)
    assert len(reg.list()) == 1, str(tmp_path)
