"""Which IBM backends there are: the local fake ones, an account's real ones, and an engine
rebuilt for a recorded job. Used by ``ketml ibm``; needs no account for the fake backends."""

from __future__ import annotations

import json
import os
from typing import Any

from .engines.ibm_engine import IBMEngine, fake_backend_classes, service
from .jobs import JobRecord


def is_fake(name: str) -> bool:
    """Whether ``name`` is one of qiskit-ibm-runtime's local fake backends (``fake_manila``, ...)."""
    return name.startswith("fake_")


def account_configured() -> bool:
    """Whether an IBM Quantum account could be used (token in the environment or a saved account);
    touches no network."""
    if os.environ.get("QISKIT_IBM_TOKEN"):
        return True
    try:
        from qiskit_ibm_runtime import QiskitRuntimeService

        return bool(QiskitRuntimeService.saved_accounts())
    except Exception:  # no runtime, or an unreadable account file: treat as none
        return False


def fake_backends(min_qubits: int = 1) -> list[dict[str, Any]]:
    """``{"name", "num_qubits"}`` of every fake backend with at least ``min_qubits`` qubits, sorted
    by name; read from their configuration files rather than built (building all takes seconds)."""
    out = []
    for name, cls in sorted(fake_backend_classes().items()):
        with open(os.path.join(cls.dirname, cls.conf_filename)) as f:
            n_qubits = int(json.load(f)["n_qubits"])
        if n_qubits >= min_qubits:
            out.append({"name": name, "num_qubits": n_qubits})
    return out


def service_backends(min_qubits: int = 1) -> list[dict[str, Any]]:
    """``{"name", "num_qubits", "pending_jobs", "operational"}`` of the account's backends with at
    least ``min_qubits`` qubits, sorted by name; status fields are None when unreadable."""
    rows = []
    for b in service().backends(min_num_qubits=min_qubits):
        try:
            st = b.status()
            pending, operational = int(st.pending_jobs), bool(st.operational)
        except Exception:  # a backend whose status cannot be read still gets listed
            pending, operational = None, None
        rows.append(
            {
                "name": b.name,
                "num_qubits": int(b.num_qubits),
                "pending_jobs": pending,
                "operational": operational,
            }
        )
    return sorted(rows, key=lambda r: r["name"])


def engine_for_record(rec: JobRecord) -> IBMEngine:
    """An ``IBMEngine`` with a recorded job's backend and options, whose runner can finish,
    query or cancel that job."""
    o = rec.options
    return IBMEngine(
        backend=rec.backend,
        noise=o.get("noise", True),
        mode=rec.mode,
        shots=o.get("shots"),
        precision=o.get("precision"),
        resilience_level=o.get("resilience_level"),
        dynamical_decoupling=bool(o.get("dynamical_decoupling")),
        twirling=bool(o.get("twirling")),
        seed=o.get("seed"),
        optimization_level=o.get("optimization_level", 1),
    )
