"""Flower's simulation engine (Ray) sized for a small machine: ``actors`` Ray workers of one CPU
each run the virtual SuperNodes' ClientApps in turn; the ServerApp runs in this process."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from .client import make_client_app
from .config import FedConfig
from .runs import check_feasible, finish_run
from .server import make_server_app

__all__ = ["backend_config", "run_simulation"]


def backend_config(actors: int = 2) -> dict[str, Any]:
    """Ray with ``actors`` CPUs, one per ClientApp, no dashboard, quiet logs."""
    return {
        "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
        "init_args": {"num_cpus": actors, "num_gpus": 0, "logging_level": "error", "log_to_driver": False},
    }


def run_simulation(cfg: FedConfig, *, actors: int = 2, connect_timeout: float = 120.0) -> dict[str, Any]:
    """Run ``cfg`` on the simulation engine; returns the run's metrics (also in ``cfg.out_dir``)."""
    check_feasible(cfg)  # before Ray starts: a bad setting fails at once
    from flwr.simulation import run_simulation as flwr_run_simulation

    os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    errors: list[BaseException] = []  # the simulation only logs the ServerApp's exception
    server = make_server_app(cfg, connect_timeout, errors=errors)
    t0 = time.perf_counter()
    flwr_run_simulation(
        server_app=server,
        client_app=make_client_app(cfg),
        num_supernodes=cfg.clients,
        backend_config=backend_config(actors),
    )
    if errors:
        raise errors[0]
    return finish_run(Path(cfg.out_dir), cfg, engine="simulation", seconds=time.perf_counter() - t0)
