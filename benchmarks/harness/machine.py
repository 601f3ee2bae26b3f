"""The machine a benchmark ran on: CPU, cores, memory, load, package versions, git commit, date.

Results are only comparable between runs on the same machine, so every result file records it.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from .memory import meminfo


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (else what ``platform`` knows)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def launch_command(script: str, argv: list[str]) -> str:
    """The command line of this invocation as run: its niceness, ``OMP_NUM_THREADS`` and arguments
    (a results file should name the thread count and priority it was measured with)."""
    import shlex

    threads = os.environ.get("OMP_NUM_THREADS")
    prefix = f"nice -n {os.nice(0)} " if os.nice(0) else ""
    prefix += f"env OMP_NUM_THREADS={threads} " if threads else ""
    return f"{prefix}.venv/bin/python {script} {shlex.join(argv)}".rstrip()


def package_version(*distributions: str) -> str | None:
    """The installed version of the first of ``distributions`` that is installed, else None."""
    for name in distributions:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def git_commit(short: bool = False) -> str | None:
    """The checkout's ``HEAD`` commit (abbreviated with ``short``), or None outside a checkout."""
    try:
        res = subprocess.run(
            ["git", "rev-parse", *(["--short"] if short else []), "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity), else ``os.cpu_count()``."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the OS has none)."""
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def _torch_threads() -> int | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.get_num_threads()


def machine_info(threads: int, versions: Mapping[str, str | None]) -> dict[str, Any]:
    """The full record: CPU, cores, memory, load average now, platform, ``versions`` (name ->
    version, as the caller wants them listed), git commit, thread settings, UTC date."""
    mem = meminfo()
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        affinity = None
    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "memory_total_bytes": mem.get("MemTotal"),
        "memory_available_bytes": mem.get("MemAvailable"),
        "load_average_start": load_average(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": dict(versions),
        "git_commit": git_commit(),
        "torch_threads": _torch_threads(),
        "threads_requested": threads,
        "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "MKL_NUM_THREADS")},
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def machine_summary(*packages: str, threads: bool = False, python: bool = False) -> dict[str, Any]:
    """The short record of the reproductions: platform, CPU count, (torch threads), (Python
    version) and the version of each of ``packages``."""
    out: dict[str, Any] = {"platform": platform.platform(), "cpus": os.cpu_count()}
    if threads:
        out["threads"] = _torch_threads()
    if python:
        out["python"] = platform.python_version()
    out.update({name: package_version(name) for name in packages})
    return out
