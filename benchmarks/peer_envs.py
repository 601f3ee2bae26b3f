"""Isolated virtual environments for benchmark peers whose pins conflict with ketml's, and the
worker processes that time them.

TensorCircuit-NG (with JAX) and TorchQuantum (which needs ``qiskit<1``) cannot live in ketml's
venv, so each gets its own under ``benchmarks/.peer_envs/<name>`` (git-ignored), built once with
pip and reused while its package list is unchanged. A peer runs as a worker subprocess
(``benchmarks/peer_workers/``) speaking JSON lines, so its steps can be timed interleaved with
ketml's in one sitting. A peer that cannot be installed or started is ``PeerUnavailable``.

    .venv/bin/python -m benchmarks.peer_envs            # build (or check) every peer env
    .venv/bin/python -m benchmarks.peer_envs --rebuild tensorcircuit
"""

from __future__ import annotations

import argparse
import json
import os
import select
import subprocess
import sys
import time
import venv
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import PeerUnavailable

HERE = Path(__file__).resolve().parent
ENVS = HERE / ".peer_envs"
WORKERS = HERE / "peer_workers"
STAMP = ".ketml-peer-env.json"


@dataclass(frozen=True)
class PeerEnv:
    """One peer's venv: what pip installs (in order, one pip call per entry) and its worker."""

    name: str
    label: str
    installs: tuple[tuple[str, ...], ...]
    worker: str
    note: str = ""

    @property
    def path(self) -> Path:
        return ENVS / self.name

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"


PEER_ENVS = {
    "tensorcircuit": PeerEnv(
        "tensorcircuit",
        "TensorCircuit-NG (JAX jit)",
        (("tensorcircuit-ng==1.10.0", "jax[cpu]", "numpy"),),
        "tensorcircuit_qnn.py",
    ),
    "torchquantum": PeerEnv(
        "torchquantum",
        "TorchQuantum",
        # torch first (the local CPU build); then TorchQuantum 0.1.8 and torchpack without their
        # declared dependencies: they pin dill==0.3.4 against any recent pathos (pip backtracks
        # for tens of minutes), pull tensorflow, which TorchQuantum never imports, and
        # torchvision, whose wheel brings a CUDA torch of another version. What they do import
        # (qiskit<1's Aer and runtime modules, pathos, loguru, ...) is listed after them.
        (
            ("torch==2.13.0",),
            ("--no-deps", "torchquantum==0.1.8", "torchpack==0.3.1"),
            (
                "qiskit<1",
                "qiskit-aer<0.14",
                "qiskit-ibm-runtime<0.21",
                "numpy<2",
                # pkg_resources (qiskit-ibm-runtime imports it) left setuptools in 81; torch
                # 2.13 needs >= 77.0.3, else pip swaps in an older (CUDA) torch to satisfy a pin
                "setuptools>=77.0.3,<81",
                "torchdiffeq",
                # what torchpack's logging, config and dataset modules import (its declared
                # torchvision would replace the CPU torch with a CUDA build of another version)
                "loguru",
                "multimethod",
                "pyyaml",
                "toml",
                "h5py",
                "pathos",
                "dill",
                "opt-einsum",
                "matplotlib",
                "tqdm",
                "scipy",
                "pylatexenc",
                # wheels only for scipy: the resolver may otherwise settle on an sdist (1.9.1)
                # whose build needs a Fortran compiler
                "--only-binary=scipy",
            ),
        ),
        "torchquantum_qnn.py",
        note="torchvision is not installed (a CUDA torch would come with it): TorchQuantum's "
        "dataset-only imports of it get an empty stand-in",
    ),
}


def _stamp(env: PeerEnv) -> dict:
    return {"installs": [list(group) for group in env.installs], "python": sys.version.split()[0]}


def is_ready(env: PeerEnv) -> bool:
    """Whether the venv exists and was built from this package list."""
    stamp = env.path / STAMP
    if not env.python.exists() or not stamp.exists():
        return False
    try:
        return json.loads(stamp.read_text()) == _stamp(env)
    except (OSError, ValueError):
        return False


def ensure_env(name: str, *, rebuild: bool = False, timeout_s: float = 1800, log=print) -> PeerEnv:
    """Build the peer's venv unless an identical one exists; raise ``PeerUnavailable`` (with
    pip's last lines) when it cannot be installed."""
    env = PEER_ENVS[name]
    if is_ready(env) and not rebuild:
        return env
    log(f"building the {env.label} environment in {env.path} (once; reused afterwards)")
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(env.path)
    except Exception as exc:
        raise PeerUnavailable(f"unavailable: cannot create a venv for {env.label}: {exc}") from None
    deadline = time.monotonic() + timeout_s
    for group in env.installs:
        cmd = [str(env.python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *group]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=max(1.0, deadline - time.monotonic())
            )
        except subprocess.TimeoutExpired:
            raise PeerUnavailable(
                f"unavailable: {env.label}: pip install timed out after {timeout_s:.0f} s"
            ) from None
        if proc.returncode != 0:
            tail = " | ".join(
                line for line in (proc.stderr or proc.stdout).splitlines()[-6:] if "WARNING" not in line
            )
            raise PeerUnavailable(
                f"not installed: {env.label} could not be installed ({' '.join(group)}): {tail}"
            )
    (env.path / STAMP).write_text(json.dumps(_stamp(env)))
    return env


class PeerProcess:
    """A running worker: ``setup`` once (cross-check data and compile), then ``step`` as often
    as wanted, each answer within ``timeout_s`` or the worker is killed."""

    def __init__(self, name: str, *, threads: int):
        self.env = ensure_env(name)
        environ = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            environ[var] = str(threads)
        environ["XLA_FLAGS"] = (
            environ.get("XLA_FLAGS", "")
            + f" --xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'}"
        ).strip()
        environ["PYTHONNOUSERSITE"] = "1"
        environ.pop("PYTHONPATH", None)
        self.proc = subprocess.Popen(
            [str(self.env.python), str(WORKERS / self.env.worker)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environ,
            cwd=str(WORKERS),
        )
        self.threads = threads

    def request(self, payload: dict, timeout_s: float) -> dict:
        """Send one request, wait for its answer; a worker error or timeout is ``PeerUnavailable``."""
        if self.proc.poll() is not None:
            raise PeerUnavailable(f"unavailable: {self.env.label} worker exited: {self._stderr_tail()}")
        self.proc.stdin.write(json.dumps(payload) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
        if not ready:
            self.close()
            raise PeerUnavailable(
                f"timeout: {self.env.label}: no answer within {timeout_s:.0f} s ({payload['cmd']})"
            )
        line = self.proc.stdout.readline()
        if not line:
            raise PeerUnavailable(f"unavailable: {self.env.label} worker exited: {self._stderr_tail()}")
        answer = json.loads(line)
        if not answer.get("ok"):
            raise PeerUnavailable(f"failed: {self.env.label}: {answer.get('error')}")
        return answer

    def _stderr_tail(self) -> str:
        try:
            self.proc.wait(timeout=5)
            err = self.proc.stderr.read() or ""
        except Exception:
            err = ""
        lines = [line for line in err.splitlines() if line.strip()]
        return " | ".join(lines[-3:]) or f"exit status {self.proc.returncode}"

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except Exception:
                self.proc.kill()
                self.proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("peers", nargs="*", default=sorted(PEER_ENVS), choices=sorted(PEER_ENVS))
    parser.add_argument("--rebuild", action="store_true", help="rebuild even when an identical env exists")
    args = parser.parse_args(argv)
    status = 0
    for name in args.peers:
        try:
            env = ensure_env(name, rebuild=args.rebuild)
            print(f"{name}: ready ({env.python})")
        except PeerUnavailable as exc:
            print(f"{name}: unavailable: {exc}")
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
