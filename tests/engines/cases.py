"""The engines the differential suite runs, with the options that make each one double or single
precision; a new engine (e.g. ``ibm`` on a fake backend) joins by adding a line here."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit import ClassicalRegister, QuantumCircuit
from qiskit.circuit import ParameterVector

from circuits import engines

# name -> (options for double precision, options for single precision or None when unsupported)
ENGINES: dict[str, tuple[dict, dict | None]] = {
    "torch": ({"dtype": "complex128"}, {"dtype": "complex64"}),
    "pennylane": ({"pennylane_device": "default.qubit"}, {"pennylane_device": "default.qubit"}),
    "aer": ({"method": "statevector"}, {"method": "statevector", "precision": "single"}),
    "cudaq": ({"target": "qpp-cpu"}, None),
    # IBM's local testing mode: fake backend, noise off; the primitives are shot-based, so the
    # estimator runs at precision 2e-3 (2.5e5 shots) and is checked to a shot-noise tolerance
    "ibm": ({"backend": "fake_manila", "noise": False, "precision": 2e-3, "seed": 7}, None),
}
# what each engine can do comes from its declaration in the registry, never from its name here
CAPABILITIES = engines.capabilities()
# engines whose numbers are estimates (not exact): held to this tolerance instead of 1e-6
ESTIMATE_TOLERANCE = 2e-2
APPROXIMATE = {e for e in ENGINES if not CAPABILITIES[e].exact}
# engines that have no state vector to show
NO_STATEVECTOR = {e for e in ENGINES if not CAPABILITIES[e].statevector}
# engines too slow (real shots per parameter-shift row) for a training run in the default suite
NO_TRAINING = {"ibm"}
# engines that run mid-circuit measurement, reset and feed-forward (expval and sample)
DYNAMIC = [e for e in ENGINES if CAPABILITIES[e].mid_circuit]
# engines that sample such circuits (a superset: IBM's SamplerV2 runs them, its EstimatorV2 does not)
DYNAMIC_SAMPLE = [e for e in ENGINES if CAPABILITIES[e].mid_circuit_sample]


def tolerance(name: str, precision: str = "double") -> float:
    if name in APPROXIMATE:
        return ESTIMATE_TOLERANCE
    return 1e-6 if precision == "double" else 1e-4


def engine_params(names=None):
    """``pytest.param``s for ``names`` (default: all), skipped when an engine cannot run here."""
    out = []
    status = engines.available()
    for name in names or ENGINES:
        reason = status.get(name, "not registered")
        if name == "ibm" and reason == "ok" and "fake_manila" in str(ENGINES[name][0]):
            reason = _fake_status()
        marks = [] if reason == "ok" else [pytest.mark.skip(reason=f"{name}: {reason}")]
        out.append(pytest.param(name, id=name, marks=marks))
    return out


def make_engine(name: str, precision: str = "double") -> engines.Engine:
    double, single = ENGINES[name]
    opts = double if precision == "double" else single
    if opts is None:
        pytest.skip(f"{name} has no {precision}-precision CPU mode")
    return engines.get(name, **opts)


def values_for(n_params: int, batch: int, rng: np.random.Generator, dtype=torch.float64):
    return torch.tensor(rng.normal(size=(batch, n_params)), dtype=dtype)


def random_dynamic_circuit(n: int, depth: int, rng: np.random.Generator, n_params: int = 4) -> QuantumCircuit:
    """A random circuit with mid-circuit measurements, resets and ``if_test`` feed-forward."""
    x = ParameterVector("x", n_params)
    creg = ClassicalRegister(n, "c")
    qc = QuantumCircuit(n)
    qc.add_register(creg)
    measured: list[int] = []
    for _ in range(depth):
        kind = rng.integers(9)
        q = int(rng.integers(n))
        a = x[int(rng.integers(n_params))]
        if kind == 0:
            c = int(rng.integers(n))
            qc.measure(q, c)
            measured.append(c)
        elif kind == 1:
            qc.reset(q)
        elif kind == 2 and measured:
            c = measured[int(rng.integers(len(measured)))]
            with qc.if_test((creg[c], int(rng.integers(2)))):
                qc.rx(2 * a, q)
                qc.x((q + 1) % n) if n > 1 else qc.z(q)
        elif kind in (3, 4) and n > 1:
            t = int((q + 1 + rng.integers(n - 1)) % n)
            [qc.cx, qc.crz][kind - 3](*([a - 0.4] if kind == 4 else []), q, t)
        else:
            [qc.rx, qc.ry, qc.rz][kind % 3](a * 1.3 + 0.2, q)
            qc.h(int(rng.integers(n)))
    return qc


def _fake_status() -> str:
    try:
        from qiskit_ibm_runtime.fake_provider import FakeManilaV2  # noqa: F401
    except ImportError as exc:
        return f"no fake backends: {exc}"
    return "ok"
