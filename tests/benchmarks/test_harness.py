"""The shared benchmark harness: timing and budgets, skip reasons, cross-checks, command-line
pieces, result files and machine info."""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time

import numpy as np
import pytest

from benchmarks import harness
from benchmarks.harness import (
    ROOT,
    CrossCheckError,
    EntryStore,
    PeerUnavailable,
    Shard,
    StepTimeout,
    deadline,
    import_peer,
    is_oom,
    is_timeout,
    machine_info,
    machine_summary,
    markdown_table,
    max_abs_diff,
    median,
    package_version,
    parse_shard,
    require_agreement,
    run_main,
    select_entries,
    skip_reason,
    time_call,
    time_repeats,
    write_json,
    write_results,
)
from benchmarks.harness import peers as harness_peers

# ------------------------------------------------------------------------------ timing


def test_median_of_odd_and_even_counts():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    with pytest.raises(ValueError, match="no times"):
        median([])


def test_time_repeats_warms_up_untimed_then_times_each_call():
    calls = []

    def fn():
        calls.append(len(calls))
        time.sleep(0.01 if len(calls) > 2 else 0.0)

    times = time_repeats(fn, repeats=3, warmup=2)
    assert len(calls) == 5 and len(times) == 3
    assert all(t >= 0.009 for t in times)


def test_time_call_records_the_median_of_the_timed_calls():
    rec = time_call(lambda: time.sleep(0.002), repeats=3, warmup=1, budget_s=5, total_budget_s=10)
    assert rec["status"] == "ok" and rec["repeats"] == 3 and len(rec["warmup_s"]) == 1
    assert rec["median_s"] == median(rec["times_s"]) and rec["min_s"] == min(rec["times_s"])
    assert rec["min_s"] >= 0.0019


def test_time_call_times_fewer_repeats_past_the_total_budget():
    rec = time_call(lambda: time.sleep(0.02), repeats=10, warmup=1, budget_s=5, total_budget_s=0.05)
    assert rec["status"] == "ok" and rec["repeats"] == 2  # at least min_repeats


def test_time_call_records_a_timeout_instead_of_raising():
    rec = time_call(lambda: time.sleep(0.5), repeats=2, warmup=1, budget_s=0.05, total_budget_s=10)
    assert rec["status"] == "skipped" and rec["reason"].startswith("timeout: ")
    assert "0.05 s budget" in rec["reason"]


def test_time_call_records_oom_and_errors_instead_of_raising():
    def boom():
        raise MemoryError("simulated")

    rec = time_call(boom, repeats=2, warmup=1, budget_s=5, total_budget_s=10)
    assert rec["status"] == "skipped" and rec["reason"] == "out of memory: simulated"
    assert "traceback" not in rec

    def broken():
        raise RuntimeError("bad   gate\nname")

    rec = time_call(broken, repeats=2, warmup=1, budget_s=5, total_budget_s=10)
    assert rec["reason"] == "RuntimeError: bad gate name" and "RuntimeError" in rec["traceback"]

    def wrapped_timeout():
        try:
            raise StepTimeout("step exceeded the 1 s budget")
        except StepTimeout as exc:
            raise RuntimeError("the library wrapped it") from exc

    rec = time_call(wrapped_timeout, repeats=2, warmup=1, budget_s=5, total_budget_s=10)
    assert rec["reason"].startswith("timeout: ")


def test_deadline_interrupts_and_is_cleared_afterwards():
    t0 = time.perf_counter()
    with pytest.raises(StepTimeout, match="0.05 s budget"):
        with deadline(0.05):
            time.sleep(2)
    assert time.perf_counter() - t0 < 1.5
    with deadline(0.05):
        pass
    time.sleep(0.1)  # the timer was cancelled: no StepTimeout here
    with deadline(None):
        time.sleep(0.01)


def test_is_timeout_follows_the_exception_chain():
    assert is_timeout(StepTimeout("x"))
    assert not is_timeout(RuntimeError("x")) and not is_timeout(None)
    # a library that turns the alarm into its own error while handling it
    try:
        try:
            raise StepTimeout("inner")
        except StepTimeout:
            raise ValueError("outer") from None
    except ValueError as exc:
        assert exc.__cause__ is None and is_timeout(exc)  # found through __context__
    deep = RuntimeError("top")
    link = deep
    for _ in range(9):
        link.__cause__ = RuntimeError("link")
        link = link.__cause__
    link.__cause__ = StepTimeout("bottom")
    assert not is_timeout(deep)  # followed at most 8 deep


# ------------------------------------------------------------------------------ peers


def test_skip_reason_tags():
    assert skip_reason(PeerUnavailable("n/a: double only")) == "n/a: double only"

    class EngineUnavailableError(RuntimeError):
        pass

    assert skip_reason(EngineUnavailableError("no\n GPU")) == "unavailable: no GPU"
    assert skip_reason(KeyError()) == "KeyError"
    long = skip_reason(ValueError("x" * 500))
    assert long == "ValueError: " + "x" * 300 + "..."
    assert skip_reason(RuntimeError("CUDA out of memory. Tried")).startswith("out of memory: ")


def test_is_oom():
    assert is_oom(MemoryError()) and is_oom(RuntimeError("std::bad_alloc: cannot allocate"))
    assert not is_oom(RuntimeError("shape mismatch"))


def test_import_peer():
    assert import_peer("json", package="json", hint="-") is json
    with pytest.raises(PeerUnavailable, match=r"^not installed: no-peer cannot be imported .*; pip it"):
        import_peer("no_such_peer_module_xyz", package="no-peer", hint="pip it")


def test_require_engine_uses_the_engine_status(monkeypatch):
    monkeypatch.setattr(harness_peers, "_ENGINE_STATUS", {"torch": "ok", "cudaq": "not\ninstalled"})
    harness.require_engine("torch")
    with pytest.raises(PeerUnavailable, match=r"^unavailable: ketml engine 'cudaq': not installed$"):
        harness.require_engine("cudaq")


# ------------------------------------------------------------------------------ cross-checks


def test_max_abs_diff_and_require_agreement():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 2.0])
    assert max_abs_diff(a, b) == 1.0
    with pytest.raises(CrossCheckError, match="shapes differ"):
        max_abs_diff(a, b[:2])
    assert require_agreement("outputs", 1e-7, 1e-6) == 1e-7
    with pytest.raises(CrossCheckError, match="outputs disagree: largest difference 1.00e-06"):
        require_agreement("outputs", 1e-6, 1e-6)
    with pytest.raises(CrossCheckError):
        require_agreement("outputs", math.nan, 1e-6)


def test_run_main_turns_a_failed_crosscheck_into_exit_status_2(capsys):
    def failing(argv):
        require_agreement("logits", 0.5, 1e-4)
        return 0

    assert run_main(failing) == 2
    assert capsys.readouterr().err.startswith("CROSS-CHECK FAILED: logits disagree")
    assert run_main(lambda argv: 0) == 0
    with pytest.raises(ZeroDivisionError):  # a bug keeps its traceback
        run_main(lambda argv: 1 // 0)


# ------------------------------------------------------------------------------ command line


def test_parse_shard_and_shard_membership():
    shard = parse_shard("1/3")
    assert shard == Shard(1, 3)
    assert [k for k in range(7) if shard.holds(k)] == [1, 4]
    for bad in ("3/3", "1/0", "-1/2", "x", "1/2/3"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_shard(bad)


def test_entry_options_and_selection(tmp_path):
    parser = harness.new_parser("doc")
    harness.add_out(parser)
    harness.add_entry_options(parser, runs=tmp_path / "runs")
    args = parser.parse_args(["--shard", "0/2", "--only", "a", "c", "d"])
    assert args.out == harness.RESULTS and args.runs == tmp_path / "runs" and not args.summarize
    ids = ["a", "b", "c", "d"]
    assert select_entries(parser, ids, only=args.only, shard=args.shard) == ["a", "c"]
    assert select_entries(parser, ids) == ids
    with pytest.raises(SystemExit) as exc:
        select_entries(parser, ids, only=["e"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        parser.parse_args(["--shard", "2/2"])


# ------------------------------------------------------------------------------ result files


def test_write_results_writes_json_and_markdown(tmp_path):
    data = {"median_s": np.float32(0.5), "repeats": np.int64(3), "times_s": np.array([0.5, 0.25])}
    json_path, md_path = write_results(tmp_path / "out", "bench", data, ["# Bench", "", "| a |"])
    assert json_path == tmp_path / "out" / "bench.json" and md_path == tmp_path / "out" / "bench.md"
    assert json.loads(json_path.read_text()) == {"median_s": 0.5, "repeats": 3, "times_s": [0.5, 0.25]}
    assert json_path.read_text().endswith("}\n")
    assert md_path.read_text() == "# Bench\n\n| a |\n"
    write_results(tmp_path / "out", "bench", {"v": 2}, "# again\n")  # overwrites; text kept as is
    assert json.loads(json_path.read_text()) == {"v": 2} and md_path.read_text() == "# again\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["bench.json", "bench.md"]  # no .tmp


def test_markdown_table():
    lines = markdown_table(["n", "time"], [[4, "1.0 ms"], [8, ""]])
    assert lines == ["| n | time |", "|---|---|", "| 4 | 1.0 ms |", "| 8 |  |"]
    with pytest.raises(ValueError, match="row has 1 cells, the header 2"):
        markdown_table(["n", "time"], [[4]])


def test_entry_store_resumes_finished_entries(tmp_path):
    store = EntryStore(tmp_path / "repro")
    assert not store.has("b") and store.load_all() == {}
    store.save("b", {"x": 1})
    store.save("a", {"x": 2})
    write_json(tmp_path / "repro" / "a.json", {"x": 3})  # overwritten in place
    assert store.has("b") and store.load("b") == {"x": 1}
    assert list(store.load_many(["c", "b", "a"])) == ["b", "a"]
    assert store.load_all() == {"a": {"x": 3}, "b": {"x": 1}}


# ------------------------------------------------------------------------------ machine


def test_machine_info_records_the_machine():
    info = machine_info(3, {"numpy": package_version("numpy"), "nothing": None})
    assert info["threads_requested"] == 3 and info["versions"] == {
        "numpy": np.__version__,
        "nothing": None,
    }
    assert info["cpu_count"] >= 1 and info["cpu_model"] and info["python"].startswith("3.")
    assert info["date_utc"].endswith("+00:00") and set(info["env"]) >= {"OMP_NUM_THREADS"}
    assert info["git_commit"] is None or len(info["git_commit"]) == 40


def test_machine_summary_and_package_version():
    summary = machine_summary("numpy", threads=True)
    assert list(summary) == ["platform", "cpus", "threads", "numpy"]
    assert summary["numpy"] == np.__version__ and summary["threads"] >= 1
    assert list(machine_summary(python=True)) == ["platform", "cpus", "python"]
    assert package_version("no-such-dist-xyz", "numpy") == np.__version__
    assert package_version("no-such-dist-xyz") is None


def test_harness_and_engine_bench_import_no_runtime():
    """Thread settings must reach torch's and the peers' OpenMP before they load."""
    code = (
        "import sys, benchmarks.harness, benchmarks.engine_bench; "
        "print(sorted(m for m in ('torch', 'circuits', 'qiskit', 'pennylane', 'numpy') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"
