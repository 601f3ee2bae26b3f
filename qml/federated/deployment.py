"""Flower's deployment engine on loopback: a SuperLink and one SuperNode per client as separate
processes (``flower-superlink`` / ``flower-supernode --insecure``), and the run submitted with
``flwr run`` as a Flower App whose components are :mod:`qml.federated.apps`.

Everything lives in a folder of the run (``<out>/flower``): the App's ``pyproject.toml`` (its
``[tool.flwr.app.config]`` is the run's :class:`FedConfig`), ``FLWR_HOME`` with the SuperLink
connection, and one log per process. :class:`LocalFederation` starts and stops the processes.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from circuits.errors import ConfigurationError

from .config import FedConfig
from .runs import check_feasible, finish_run
from .server import FederationError

__all__ = ["LocalFederation", "free_port", "run_deployment", "submit_run", "wait_reachable", "write_app"]

CONNECTION = "ketml-local"


def _bin(name: str) -> str:
    """A Flower executable beside this interpreter (the venv need not be on PATH)."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if found is None:
        raise ConfigurationError(f"{name} is not installed; install Flower: pip install 'ketml[fl]'")
    return found


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(FLWR_HOME=str(home), FLWR_TELEMETRY_ENABLED="0", PYTHONUNBUFFERED="1")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _split_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigurationError(f"a SuperLink address is HOST:PORT (e.g. 127.0.0.1:9092); got {address!r}")
    return host.strip("[]"), int(port)


def wait_reachable(address: str, timeout: float = 10.0) -> None:
    """Return once ``address`` accepts TCP connections; FederationError after ``timeout`` s."""
    host, port = _split_address(address)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise FederationError(
                    f"cannot reach a Flower SuperLink at {address} within {timeout:g} s "
                    f"({exc.strerror or exc}); start one (flower-superlink --insecure) or fix --superlink"
                ) from None
            time.sleep(0.3)


def write_app(folder: Path, cfg: FedConfig, address: str) -> tuple[Path, Path]:
    """The Flower App folder and FLWR_HOME (with the connection to ``address``); returns both."""
    app, home = folder / "app", folder / "home"
    app.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)

    def toml(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return repr(v)

    config = "\n".join(f"{k} = {toml(v)}" for k, v in cfg.to_run_config().items())
    (app / "pyproject.toml").write_text(
        f"""[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "ketml-federated-vqc"
version = "1.0.0"
description = "ketml: federated VQC (qml.federated)"
license = "Apache-2.0"
dependencies = []

[tool.flwr.app]
publisher = "ketml"

[tool.flwr.app.components]
serverapp = "qml.federated.apps:server_app"
clientapp = "qml.federated.apps:client_app"

[tool.flwr.app.config]
{config}
"""
    )
    (home / "config.toml").write_text(
        f'[superlink]\ndefault = "{CONNECTION}"\n\n'
        f'[superlink.{CONNECTION}]\naddress = "{address}"\ninsecure = true\n'
    )
    return app, home


def submit_run(
    folder: Path, cfg: FedConfig, address: str, timeout: float, reach_timeout: float = 15.0
) -> None:
    """``flwr run`` the App against the SuperLink at ``address`` and stream until it ends
    (FederationError when ``address`` accepts no connection within ``reach_timeout`` s)."""
    wait_reachable(address, timeout=reach_timeout)
    app, home = write_app(folder, cfg, address)
    with open(folder / "flwr-run.log", "w") as log:
        try:
            proc = subprocess.run(
                [_bin("flwr"), "run", str(app), CONNECTION, "--stream"],
                env=_env(home),
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise FederationError(
                f"flwr run did not finish within {timeout:g} s; see {folder / 'flwr-run.log'}"
            ) from None
    if proc.returncode != 0:
        tail = (folder / "flwr-run.log").read_text().strip().splitlines()[-3:]
        raise FederationError(f"flwr run failed (exit {proc.returncode}): {' | '.join(tail)}")


class LocalFederation:
    """A SuperLink and ``clients`` SuperNodes on 127.0.0.1 as separate processes (a context
    manager: started on enter, every process and its children stopped on exit)."""

    def __init__(self, folder: Path, clients: int, *, port: int | None = None, start_timeout: float = 60.0):
        self.folder = Path(folder)
        self.clients, self.start_timeout = clients, start_timeout
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115  (closed with the process)
        proc = subprocess.Popen(
            args, env=_env(self.folder / "home"), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        proc.log = log  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def start(self) -> LocalFederation:
        (self.folder / "home").mkdir(parents=True, exist_ok=True)
        self._start(
            "superlink",
            [
                _bin("flower-superlink"),
                "--insecure",
                "--port",
                str(self.port),
                "--disable-runtime-dependency-installation",
            ],
        )
        try:
            wait_reachable(self.address, self.start_timeout)
        except FederationError:
            self.stop()
            raise FederationError(
                f"the SuperLink did not start within {self.start_timeout:g} s; "
                f"see {self.folder / 'superlink.log'}"
            ) from None
        for k in range(self.clients):
            self._start(
                f"supernode-{k}",
                [
                    _bin("flower-supernode"),
                    "--insecure",
                    "--superlink",
                    self.address,
                    "--port",
                    str(free_port()),
                    "--max-wait-time",
                    str(int(self.start_timeout)),
                    "--node-config",
                    f"partition-id={k} num-partitions={self.clients}",
                ],
            )
        return self

    def stop(self) -> None:
        """Terminate every process started here and their descendants (SuperExec, app processes)."""
        import psutil

        victims = []
        for proc in self.procs:
            try:
                victims += [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
        for p in victims:
            try:
                p.terminate()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(victims, timeout=10)
        for p in alive:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            proc.log.close()  # type: ignore[attr-defined]
        self.procs = []

    def __enter__(self) -> LocalFederation:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def run_deployment(
    cfg: FedConfig,
    *,
    superlink: str | None = None,
    timeout: float = 1800.0,
    start_timeout: float = 60.0,
    reach_timeout: float = 15.0,
) -> dict[str, Any]:
    """Run ``cfg`` on the deployment engine: against the SuperLink at ``superlink`` (its
    SuperNodes started by you), or, without it, on a local federation started and stopped here."""
    check_feasible(cfg)
    out = Path(cfg.out_dir)
    folder = out / "flower"
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if superlink is not None:
        submit_run(folder, cfg, superlink, timeout, reach_timeout)
    else:
        with LocalFederation(folder, cfg.clients, start_timeout=start_timeout) as fed:
            submit_run(folder, cfg, fed.address, timeout)
    if not (out / "metrics.json").is_file():
        raise FederationError(f"the ServerApp wrote no metrics; see {folder / 'flwr-run.log'}")
    metrics = finish_run(out, cfg, engine="deployment", seconds=time.perf_counter() - t0)
    if metrics["rounds_done"] < cfg.rounds:
        raise FederationError(
            f"the run stopped after round {metrics['rounds_done']} of {cfg.rounds}; "
            f"see {folder / 'flwr-run.log'}"
        )
    return metrics
