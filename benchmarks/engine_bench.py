"""Engine benchmark: ketml's torch engine against its other engines, PennyLane, Qiskit Aer,
CUDA-Q and Qiskit Machine Learning, side by side.

Two benchmarks, all peers in one process on the same machine and thread count:

1. **Hybrid-QNN training step** (``qnn_step``): angle encoding (RX of the inputs), strongly
   entangling layers, ``<Z>`` on every qubit, a batch of inputs; one step is
   ``zero_grad`` + forward + MSE loss + backward + ``SGD.step``. Peers:

   * ketml's torch engine (``diff_method="backprop"`` and ``"adjoint"``, complex64): the
     reference;
   * PennyLane natively: ``default.qubit`` (torch interface, backprop, parameter broadcasting)
     and ``lightning.qubit`` (torch interface, adjoint);
   * the *same* ``circuits.QuantumLayer`` on ketml's other engines: ``engine="pennylane"``
     (``default.qubit`` backprop; ``lightning.qubit`` adjoint), ``engine="aer"`` and
     ``engine="cudaq"`` (``qpp-cpu``), the last two differentiated by the parameter-shift rule
     (one batched simulator call per backward);
   * Qiskit Machine Learning: ``EstimatorQNN`` (Aer's ``EstimatorV2``, exact, its default
     parameter-shift gradient) in a ``TorchConnector``, on the same circuit object.

   The parameter-shift peers run ``2 * P`` circuits per sample in the backward pass, so they are
   timed on a smaller batch (``--shift-batch``) against ketml timed on that same batch, and not
   at all above ``--shift-max-qubits``. Every peer is first cross-checked against ketml
   (outputs and weight gradients on the same inputs and weights); a disagreement aborts the run.
2. **State-vector throughput** (``throughput``): a fixed random layered circuit
   (RX/RY/RZ on every qubit + a CX ladder per layer), batch 1, ketml
   ``circuits.statevector`` (torch engine) against ``AerSimulator(method="statevector")``
   (native) and, through ketml's engines, PennyLane ``lightning.qubit`` / ``default.qubit``
   and CUDA-Q ``qpp-cpu``, in single and double precision; seconds, gate count and effective
   memory bandwidth (``gates * 2 * state_bytes / seconds``). ``--gpu`` adds the GPU
   simulators (torch CUDA, lightning.gpu, Aer GPU, CUDA-Q ``nvidia``) at ``--gpu-qubits``.

A peer that is not installed, whose engine is unavailable, that runs out of time or memory or
that raises is recorded as skipped with the reason; the run goes on.

Results go to ``<out>/engine_bench.json`` and ``<out>/engine_bench.md``; the markdown tables
are also printed. Run ``python benchmarks/engine_bench.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import gc
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Importing torch / pennylane / qiskit is deferred to ``run`` so that the OpenMP settings
# (thread count, wait policy) can be put in the environment before the runtimes load.

PEERS = (
    "ketml_backprop",
    "ketml_adjoint",
    "default_qubit",
    "lightning_qubit",
    "ketml_pennylane_dq",
    "ketml_pennylane_lq",
    "ketml_aer",
    "ketml_cudaq",
    "qiskit_ml",
)
PEER_LABELS = {
    "ketml_backprop": "ketml backprop",
    "ketml_adjoint": "ketml adjoint",
    "ketml_backprop_c128": "ketml backprop c128",
    "ketml_backprop_shift_batch": "ketml backprop",
    "default_qubit": "default.qubit",
    "lightning_qubit": "lightning.qubit",
    "ketml_pennylane_dq": "ketml pennylane default.qubit",
    "ketml_pennylane_lq": "ketml pennylane lightning.qubit",
    "ketml_aer": "ketml aer",
    "ketml_cudaq": "ketml cudaq qpp-cpu",
    "qiskit_ml": "qiskit-ml EstimatorQNN",
}
# PennyLane QNodes written natively (not through ketml)
PENNYLANE_PEERS = ("default_qubit", "lightning_qubit")
# ketml's torch engine
KETML_PEERS = ("ketml_backprop", "ketml_adjoint", "ketml_backprop_c128", "ketml_backprop_shift_batch")
# the same QuantumLayer on ketml's other engines: peer -> (engine, engine options)
ENGINE_PEERS: dict[str, tuple[str, dict[str, Any]]] = {
    "ketml_pennylane_dq": ("pennylane", {"pennylane_device": "default.qubit", "diff_method": "backprop"}),
    "ketml_pennylane_lq": ("pennylane", {"pennylane_device": "lightning.qubit", "diff_method": "adjoint"}),
    "ketml_aer": ("aer", {"method": "statevector"}),
    "ketml_cudaq": ("cudaq", {"target": "qpp-cpu"}),
}
# differentiated by the parameter-shift rule: 2 * P circuit evaluations per sample per backward
SHIFT_PEERS = ("ketml_aer", "ketml_cudaq", "qiskit_ml")
# the peers compared with ketml (every column but the torch engine's own)
COMPARED_PEERS = PENNYLANE_PEERS + tuple(ENGINE_PEERS) + ("qiskit_ml",)
PEER_INFO: dict[str, dict[str, str]] = {
    "ketml_backprop": {"runs": "ketml torch engine", "gradient": "backprop", "precision": "complex64"},
    "ketml_adjoint": {"runs": "ketml torch engine", "gradient": "adjoint", "precision": "complex64"},
    "ketml_backprop_c128": {"runs": "ketml torch engine", "gradient": "backprop", "precision": "complex128"},
    "ketml_backprop_shift_batch": {
        "runs": "ketml torch engine at --shift-batch",
        "gradient": "backprop",
        "precision": "complex64",
    },
    "default_qubit": {
        "runs": "PennyLane default.qubit QNode",
        "gradient": "backprop",
        "precision": "complex128",
    },
    "lightning_qubit": {
        "runs": "PennyLane lightning.qubit QNode",
        "gradient": "adjoint",
        "precision": "complex128",
    },
    "ketml_pennylane_dq": {
        "runs": "QuantumLayer(engine='pennylane', pennylane_device='default.qubit')",
        "gradient": "backprop (PennyLane's)",
        "precision": "complex128",
    },
    "ketml_pennylane_lq": {
        "runs": "QuantumLayer(engine='pennylane', pennylane_device='lightning.qubit')",
        "gradient": "adjoint (PennyLane's)",
        "precision": "complex128",
    },
    "ketml_aer": {
        "runs": "QuantumLayer(engine='aer', method='statevector')",
        "gradient": "parameter shift, one Aer job per backward",
        "precision": "complex128",
    },
    "ketml_cudaq": {
        "runs": "QuantumLayer(engine='cudaq', target='qpp-cpu')",
        "gradient": "parameter shift, one broadcast cudaq.observe per backward",
        "precision": "complex128",
    },
    "qiskit_ml": {
        "runs": "TorchConnector(EstimatorQNN(estimator=EstimatorV2, default_precision=0))",
        "gradient": "ParamShiftEstimatorGradient (EstimatorQNN's default)",
        "precision": "complex128",
    },
}
# default.qubit's backprop keeps roughly this many complex128 batched states alive per step
# (peak RSS measured at batch 256: 61 states at 14 qubits, 64 at 15); used to skip runs that
# cannot fit in RAM rather than let the kernel's OOM killer end the run.
DEFAULT_QUBIT_STATE_COPIES = 64
TOLERANCE = 1e-4
SCHEMA_VERSION = 2
TOO_SLOW_SHIFT = "too slow (parameter shift: 2*P evaluations per sample)"

# State-vector throughput simulators (CPU) and, with --gpu, the GPU ones
THROUGHPUT_SIMS = ("ketml", "aer", "lightning_qubit", "default_qubit", "cudaq_qpp")
GPU_SIMS = ("torch_cuda", "lightning_gpu", "aer_gpu", "cudaq_nvidia")
SIM_LABELS = {
    "ketml": "ketml (torch)",
    "aer": "Aer",
    "lightning_qubit": "lightning.qubit",
    "default_qubit": "default.qubit",
    "cudaq_qpp": "CUDA-Q qpp-cpu",
    "torch_cuda": "ketml torch CUDA",
    "lightning_gpu": "lightning.gpu",
    "aer_gpu": "Aer GPU",
    "cudaq_nvidia": "CUDA-Q nvidia",
}
SIM_INFO = {
    "ketml": "circuits.statevector(qc, engine='torch', dtype=complex64|complex128)",
    "aer": "AerSimulator(method='statevector', precision=single|double) natively, save_statevector",
    "lightning_qubit": "circuits.statevector(qc, engine='pennylane', pennylane_device='lightning.qubit', "
    "c_dtype=complex64|complex128)",
    "default_qubit": "circuits.statevector(qc, engine='pennylane', pennylane_device='default.qubit') "
    "(double only)",
    "cudaq_qpp": "circuits.statevector(qc, engine='cudaq', target='qpp-cpu') (double only)",
    "torch_cuda": "circuits.statevector(qc, engine='torch', device='cuda', dtype=complex64|complex128)",
    "lightning_gpu": "circuits.statevector(qc, engine='pennylane', pennylane_device='lightning.gpu', "
    "c_dtype=complex64|complex128)",
    "aer_gpu": "AerSimulator(method='statevector', device='GPU', precision=single|double) natively",
    "cudaq_nvidia": "circuits.statevector(qc, engine='cudaq', target='nvidia' (fp32) | "
    "target='nvidia', option='fp64')",
}


class StepTimeout(Exception):
    """A step ran past the per-step time budget."""


class CrossCheckError(AssertionError):
    """A peer's outputs or gradients disagree with ketml's."""


class PeerUnavailable(Exception):
    """A peer cannot run here (package not installed, engine unavailable, precision n/a); the
    message starts with a short tag ("not installed", "unavailable", "n/a") and a colon."""


# ------------------------------------------------------------------------------ utilities


_T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - _T0:7.1f} s] {msg}", flush=True)


@contextlib.contextmanager
def deadline(seconds: float | None):
    """Raise ``StepTimeout`` in the main thread once ``seconds`` have passed (best effort:
    a long C++ kernel finishes first; the caller also checks the elapsed time)."""
    usable = (
        seconds is not None
        and seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def _handler(signum, frame):
        raise StepTimeout(f"step exceeded the {seconds:g} s budget")

    old = signal.signal(signal.SIGALRM, _handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _meminfo() -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                out[key] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    return out


def available_memory() -> int:
    info = _meminfo()
    return info.get("MemAvailable", info.get("MemFree", 0))


def _vm_size() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cap_address_space(fraction: float) -> int | None:
    """Cap the process's address space at what it uses now + ``fraction`` of free RAM, so a
    peer that runs out of memory raises (and is recorded as skipped) instead of the kernel's
    OOM killer ending the whole run. Returns the cap in bytes, or None if not set."""
    try:
        import resource
    except ImportError:  # pragma: no cover
        return None
    avail = available_memory()
    if not avail or fraction <= 0:
        return None
    cap = _vm_size() + int(fraction * avail)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft != resource.RLIM_INFINITY and soft < cap:
        return soft
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    return cap


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(module: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    try:
        res = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None


def machine_info(threads: int) -> dict[str, Any]:
    import torch

    mem = _meminfo()
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        affinity = None
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "memory_total_bytes": mem.get("MemTotal"),
        "memory_available_bytes": mem.get("MemAvailable"),
        "load_average_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            "torch": torch.__version__,
            "pennylane": _version("pennylane"),
            "pennylane_lightning": _version("pennylane_lightning"),
            "qiskit": _version("qiskit"),
            "qiskit-aer": _version("qiskit-aer"),
            "qiskit-machine-learning": _version("qiskit-machine-learning"),
            "cudaq": _version("cudaq") or _version("cuda-quantum-cu13") or _version("cuda-quantum-cu12"),
            "numpy": _version("numpy"),
            "ketml": _version("ketml"),
        },
        "git_commit": _git_commit(),
        "torch_threads": torch.get_num_threads(),
        "threads_requested": threads,
        "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "MKL_NUM_THREADS")},
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return any(s in text for s in ("out of memory", "can't allocate memory", "cannot allocate"))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, PeerUnavailable):
        return str(exc)
    if type(exc).__name__ == "EngineUnavailableError":
        return "unavailable: " + " ".join(str(exc).split())
    kind = "out of memory" if _is_oom(exc) else type(exc).__name__
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:300] + "..."
    return f"{kind}: {text}" if text else kind


def _is_timeout(exc: BaseException) -> bool:
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, StepTimeout) or ("s budget" in str(exc) and "exceeded the" in str(exc)):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def time_call(
    fn: Callable[[], Any],
    *,
    repeats: int,
    warmup: int,
    budget_s: float,
    total_budget_s: float,
    min_repeats: int = 2,
) -> dict[str, Any]:
    """Warm up, then time ``repeats`` calls of ``fn``; the median is the result.

    A call past ``budget_s`` (or that raises, e.g. out of memory) makes the record
    ``status="skipped"`` with the reason. When the warm-up shows that ``repeats`` calls would
    take more than ``total_budget_s``, fewer (at least ``min_repeats``) are timed.
    """
    rec: dict[str, Any] = {"status": "ok", "budget_s": budget_s}
    warm_times: list[float] = []
    try:
        for _ in range(max(warmup, 1)):
            t0 = time.perf_counter()
            with deadline(budget_s):
                fn()
            warm_times.append(time.perf_counter() - t0)
            if warm_times[-1] > budget_s:
                raise StepTimeout(f"step took {warm_times[-1]:.1f} s > budget {budget_s:g} s")
        est = warm_times[-1]
        n_rep = repeats
        if est * repeats > total_budget_s:
            n_rep = max(min_repeats, min(repeats, int(total_budget_s // max(est, 1e-9))))
        times: list[float] = []
        for _ in range(n_rep):
            t0 = time.perf_counter()
            with deadline(budget_s):
                fn()
            times.append(time.perf_counter() - t0)
            if times[-1] > budget_s:
                raise StepTimeout(f"step took {times[-1]:.1f} s > budget {budget_s:g} s")
    except StepTimeout as exc:
        rec.update(status="skipped", reason=f"timeout: {exc}", warmup_s=warm_times)
        return rec
    except Exception as exc:  # noqa: BLE001 - a failing peer is recorded, not fatal
        if _is_timeout(exc):  # a StepTimeout that a library wrapped in its own exception
            rec.update(status="skipped", reason=f"timeout: {exc}", warmup_s=warm_times)
            return rec
        rec.update(status="skipped", reason=_reason(exc), warmup_s=warm_times)
        if not _is_oom(exc):
            rec["traceback"] = traceback.format_exc(limit=6)
        return rec
    finally:
        gc.collect()
    rec.update(
        warmup_s=warm_times,
        times_s=times,
        repeats=len(times),
        median_s=statistics.median(times),
        min_s=min(times),
    )
    return rec


# ------------------------------------------------------------------------------ QNN models


def ketml_circuit(n_qubits: int, n_layers: int):
    """RX angle encoding of ``x`` + ``n_layers`` strongly entangling layers of ``theta``, and
    ``<Z_i>`` observables for every qubit."""
    from qiskit.quantum_info import SparsePauliOp

    from circuits.library import angle_encoding, strongly_entangling_layers

    qc = angle_encoding(n_qubits, "X", inputs="x").compose(
        strongly_entangling_layers(n_qubits, n_layers, weights="theta")
    )
    observables = [SparsePauliOp.from_sparse_list([("Z", [i], 1.0)], n_qubits) for i in range(n_qubits)]
    return qc, observables


class PennyLaneLayer:
    """Factory of a torch module around a PennyLane QNode with the same circuit as ketml's.

    The module holds the weights flat, like ``QuantumLayer``: ``theta[(l*n+i)*3+k]`` is
    PennyLane's ``weights[l, i, k]`` (C-order reshape).
    """

    @staticmethod
    def build(device_name: str, diff_method: str, n_qubits: int, n_layers: int, w0):
        import pennylane as pnl
        import torch

        dev = pnl.device(device_name, wires=n_qubits)
        wires = list(range(n_qubits))

        @pnl.qnode(dev, interface="torch", diff_method=diff_method)
        def circuit(x, weights):
            pnl.AngleEmbedding(x, wires=wires, rotation="X")
            pnl.StronglyEntanglingLayers(weights, wires=wires)
            return [pnl.expval(pnl.PauliZ(i)) for i in wires]

        class _Module(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.weights = torch.nn.Parameter(w0.detach().clone())
                self.qnode = circuit

            def forward(self, x):
                out = self.qnode(x, self.weights.reshape(n_layers, n_qubits, 3))
                return torch.stack(list(out), dim=-1)

        return _Module()


_ENGINE_STATUS: dict[str, str] = {}


def engine_status(engine: str) -> str:
    """``circuits.engines.available()[engine]``: "ok" or why the engine cannot run (cached)."""
    if engine not in _ENGINE_STATUS:
        try:
            from circuits import engines

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                status = engines.available()
        except Exception as exc:  # noqa: BLE001 - a broken engine module is a skip, not a crash
            status = {engine: _reason(exc)}
        _ENGINE_STATUS.update(status)
        _ENGINE_STATUS.setdefault(engine, f"engine {engine!r} is not registered in circuits.engines")
    return _ENGINE_STATUS[engine]


def qiskit_ml_model(n_qubits: int, n_layers: int, w0, *, estimator: str = "aer", threads: int | None = None):
    """Qiskit Machine Learning's ``EstimatorQNN`` on ketml's circuit object (inputs = the ``x``
    vector, weights = ``theta``, both in index order), in a ``TorchConnector``; exposed like
    ``QuantumLayer``: ``module.weights`` is the flat weight vector."""
    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from qiskit_machine_learning.connectors import TorchConnector
            from qiskit_machine_learning.neural_networks import EstimatorQNN
    except ImportError as exc:
        raise PeerUnavailable(
            f"not installed: qiskit-machine-learning cannot be imported ({exc}); "
            "install it for the benchmark only: .venv/bin/pip install qiskit-machine-learning"
        ) from None
    qc, observables = ketml_circuit(n_qubits, n_layers)
    params = list(qc.parameters)
    inputs = sorted((p for p in params if p.vector.name == "x"), key=lambda p: p.index)
    weights = sorted((p for p in params if p.vector.name == "theta"), key=lambda p: p.index)
    if estimator == "aer":
        from qiskit_aer.primitives import EstimatorV2

        options: dict[str, Any] = {"default_precision": 0.0}
        if threads:
            options["backend_options"] = {"max_parallel_threads": threads}
        est = EstimatorV2(options=options)
    else:
        from qiskit.primitives import StatevectorEstimator

        est = StatevectorEstimator()
    # default_precision=0: exact expectation values (its default 1/64 adds sampling noise)
    qnn = EstimatorQNN(
        circuit=qc,
        observables=observables,
        input_params=inputs,
        weight_params=weights,
        estimator=est,
        default_precision=0.0,
    )
    connector = TorchConnector(qnn, initial_weights=w0.detach().double().numpy())

    class _Module(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.connector = connector

        @property
        def weights(self):
            return self.connector.weight

        def forward(self, x):
            return self.connector(x)

    return _Module()


def build_model(peer: str, n_qubits: int, n_layers: int, w0, settings: dict[str, Any] | None = None):
    """The torch module of ``peer`` with weights ``w0``. ``settings``: ``threads`` (Aer) and
    ``qiskit_ml_estimator`` ("aer" or "statevector")."""
    import circuits

    settings = settings or {}
    if peer in KETML_PEERS:
        qc, obs = ketml_circuit(n_qubits, n_layers)
        options = {
            "ketml_backprop": {"diff_method": "backprop", "dtype": "complex64"},
            "ketml_backprop_shift_batch": {"diff_method": "backprop", "dtype": "complex64"},
            "ketml_adjoint": {"diff_method": "adjoint", "dtype": "complex64"},
            "ketml_backprop_c128": {"diff_method": "backprop", "dtype": "complex128"},
        }[peer]
        return circuits.QuantumLayer(
            qc, obs, inputs="x", weights="theta", initial_weights=w0.detach().clone(), **options
        )
    if peer in ENGINE_PEERS:
        engine, options = ENGINE_PEERS[peer]
        status = engine_status(engine)
        if status != "ok":
            raise PeerUnavailable(f"unavailable: ketml engine {engine!r}: {' '.join(status.split())}")
        options = dict(options)
        if engine == "aer" and settings.get("threads"):
            options["max_parallel_threads"] = settings["threads"]
        qc, obs = ketml_circuit(n_qubits, n_layers)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return circuits.QuantumLayer(
                qc,
                obs,
                inputs="x",
                weights="theta",
                engine=engine,
                initial_weights=w0.detach().clone(),
                **options,
            )
    if peer == "qiskit_ml":
        return qiskit_ml_model(
            n_qubits,
            n_layers,
            w0,
            estimator=settings.get("qiskit_ml_estimator", "aer"),
            threads=settings.get("threads"),
        )
    if peer == "default_qubit":
        return PennyLaneLayer.build("default.qubit", "backprop", n_qubits, n_layers, w0)
    if peer == "lightning_qubit":
        return PennyLaneLayer.build("lightning.qubit", "adjoint", n_qubits, n_layers, w0)
    raise ValueError(f"unknown peer {peer!r}")


def lightning_batching(model, x) -> dict[str, Any]:
    """How lightning.qubit runs a broadcast batch: the number of tapes that reach the device."""
    import pennylane as pnl

    weights = model.weights.reshape(-1, x.shape[1], 3)
    try:
        tapes, _ = pnl.workflow.construct_batch(model.qnode, level="device")(x, weights)
    except Exception as exc:  # noqa: BLE001
        return {"device_tapes": None, "note": f"could not inspect: {_reason(exc)}"}
    n_tapes = len(tapes)
    native = n_tapes == 1 and getattr(tapes[0], "batch_size", None) == x.shape[0]
    note = (
        "runs the broadcast batch natively"
        if native
        else f"no native broadcasting: the batch is split into {n_tapes} tapes (one per sample)"
    )
    return {"device_tapes": n_tapes, "native_broadcasting": native, "note": note}


def _forward_backward(model, x, coef):
    import torch

    out = model(x)
    loss = (out.to(torch.float64) * coef).sum() / x.shape[0]
    loss.backward()
    return out, out.detach().to(torch.float64), model.weights.grad.detach().to(torch.float64)


def crosscheck(
    n_qubits: int,
    n_layers: int,
    peers: list[str],
    *,
    batch: int,
    seed: int,
    peer_batch: dict[str, int] | None = None,
    budget_s: float | None = None,
    settings: dict[str, Any] | None = None,
):
    """Outputs and weight gradients of every peer against ketml backprop on the same inputs
    and weights. Loss: mean over the batch of a fixed random combination of the outputs.
    ``peer_batch`` gives some peers a smaller batch (the first rows; ketml is re-run on them);
    a peer's check past ``budget_s`` is recorded as skipped."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    n_w = 3 * n_layers * n_qubits
    x = torch.rand(batch, n_qubits, generator=gen) * math.pi
    w0 = torch.rand(n_w, generator=gen) * (2 * math.pi)
    coef = torch.randn(batch, n_qubits, generator=gen, dtype=torch.float64)
    peer_batch = peer_batch or {}
    refs: dict[int, tuple[Any, Any]] = {}

    def reference(b: int):
        if b not in refs:
            model = build_model("ketml_backprop", n_qubits, n_layers, w0)
            _, out_d, grad_d = _forward_backward(model, x[:b], coef[:b])
            refs[b] = (out_d, grad_d)
        return refs[b]

    results: dict[str, dict[str, Any]] = {}
    reference(batch)
    results["ketml_backprop"] = {
        "status": "ok",
        "batch": batch,
        "output_dtype": "torch.float32",
        "max_abs_diff_outputs": 0.0,
        "max_abs_diff_grad": 0.0,
        "max_abs_diff": 0.0,
        "passed": True,
    }
    for peer in peers:
        if peer == "ketml_backprop":
            continue
        b = min(peer_batch.get(peer, batch), batch)
        t0 = time.perf_counter()
        try:
            with deadline(budget_s):
                model = build_model(peer, n_qubits, n_layers, w0, settings)
                out, out_d, grad_d = _forward_backward(model, x[:b], coef[:b])
        except Exception as exc:  # noqa: BLE001
            if _is_timeout(exc):
                reason = f"timeout: the cross-check (batch {b}) exceeded the {budget_s:g} s budget"
            else:
                reason = _reason(exc)
            results[peer] = {"status": "skipped", "batch": b, "reason": reason}
            continue
        finally:
            gc.collect()
        ref_out, ref_grad = reference(b)
        rec: dict[str, Any] = {
            "status": "ok",
            "batch": b,
            "output_dtype": str(out.dtype),
            "seconds": time.perf_counter() - t0,
            "max_abs_diff_outputs": float((out_d - ref_out).abs().max()),
            "max_abs_diff_grad": float((grad_d - ref_grad).abs().max()),
        }
        rec["max_abs_diff"] = max(rec["max_abs_diff_outputs"], rec["max_abs_diff_grad"])
        rec["passed"] = rec["max_abs_diff"] < TOLERANCE
        results[peer] = rec
        del model
    checked = [r for r in results.values() if r["status"] == "ok"]
    summary = {
        "batch": batch,
        "tolerance": TOLERANCE,
        "reference": "ketml_backprop",
        "loss": "mean over batch of sum_i c[b, i] * <Z_i>[b], c ~ N(0, 1) fixed",
        "peers": results,
        "max_abs_diff": max(r["max_abs_diff"] for r in checked),
        "passed": all(r["passed"] for r in checked),
    }
    return summary


def make_step(model, x, target, lr: float = 1e-3) -> Callable[[], float]:
    import torch

    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def step() -> float:
        opt.zero_grad()
        out = model(x)
        loss = torch.nn.functional.mse_loss(out.to(target.dtype), target)
        loss.backward()
        opt.step()
        return float(loss.detach())

    return step


def predicted_memory(peer: str, n_qubits: int, batch: int) -> int | None:
    """Bytes a peer is expected to need, where that is known to be large (default.qubit
    backprop keeps ~100 batched complex128 states); None where we rely on the peer's own
    check (ketml raises MemoryLimitError) or it is small (lightning: a few states per tape)."""
    if peer in ("default_qubit", "ketml_pennylane_dq"):
        return DEFAULT_QUBIT_STATE_COPIES * batch * (2**n_qubits) * 16
    return None


def shift_batch(args) -> int:
    return max(1, min(args.shift_batch, args.batch))


def qnn_step_benchmark(args, n_qubits: int) -> dict[str, Any]:
    import torch

    peers = list(PEERS) + (["ketml_backprop_c128"] if args.ketml_complex128 else [])
    peers = [p for p in peers if p not in args.skip_peers]
    n_weights = 3 * args.layers * n_qubits
    sb = shift_batch(args)
    res: dict[str, Any] = {"n_qubits": n_qubits, "n_layers": args.layers, "batch": args.batch}
    res["n_weights"] = n_weights
    res["shift_batch"] = sb
    settings = {"threads": args.threads, "qiskit_ml_estimator": args.qiskit_ml_estimator}
    # parameter-shift peers above --shift-max-qubits are not run at all
    n_angles = n_weights + n_qubits
    pre_skipped: dict[str, dict[str, Any]] = {}
    for peer in peers:
        if peer in SHIFT_PEERS and n_qubits > args.shift_max_qubits:
            pre_skipped[peer] = {
                "status": "skipped",
                "batch": sb,
                "reason": (
                    f"{TOO_SLOW_SHIFT}: {2 * n_angles} circuit evaluations of {n_qubits} qubits per "
                    f"sample per backward; n={n_qubits} > --shift-max-qubits {args.shift_max_qubits}"
                ),
            }
    checked = [p for p in peers if p not in pre_skipped]
    log(f"[qnn n={n_qubits}] cross-check ({', '.join(checked)})")
    check_batch = min(args.batch, args.check_batch)
    check = crosscheck(
        n_qubits,
        args.layers,
        checked,
        batch=check_batch,
        seed=args.seed,
        peer_batch={p: min(args.shift_check_batch, check_batch) for p in checked if p in SHIFT_PEERS},
        budget_s=args.budget,
        settings=settings,
    )
    check["peers"].update(pre_skipped)
    res["crosscheck"] = check
    for peer, rec in check["peers"].items():
        if rec["status"] == "ok":
            log(
                f"    {peer:22s} max|diff| outputs {rec['max_abs_diff_outputs']:.2e} "
                f"grad {rec['max_abs_diff_grad']:.2e}  {'ok' if rec['passed'] else 'MISMATCH'}"
            )
        else:
            log(f"    {peer:22s} not checked: {rec['reason']}")
    if not check["passed"]:
        bad = {p: r["max_abs_diff"] for p, r in check["peers"].items() if not r.get("passed", True)}
        raise CrossCheckError(f"n={n_qubits}: peers disagree with ketml beyond {TOLERANCE:g}: {bad}")

    gen = torch.Generator().manual_seed(args.seed + n_qubits)
    x = torch.rand(args.batch, n_qubits, generator=gen) * math.pi
    target = torch.rand(args.batch, n_qubits, generator=gen) * 2 - 1
    w0 = torch.rand(n_weights, generator=gen) * (2 * math.pi)
    timed = list(peers)
    shift_ok = [p for p in peers if p in SHIFT_PEERS and check["peers"].get(p, {}).get("status") == "ok"]
    if sb != args.batch and shift_ok:
        # ketml on the parameter-shift peers' batch, so that their ratio compares equal work
        timed.insert(timed.index(shift_ok[0]), "ketml_backprop_shift_batch")
    timings: dict[str, Any] = {}
    for peer in timed:
        b = sb if (peer in SHIFT_PEERS or peer == "ketml_backprop_shift_batch") else args.batch
        check_rec = check["peers"].get(peer, {"status": "ok"})
        if check_rec.get("status") != "ok":
            timings[peer] = {"status": "skipped", "batch": b, "reason": check_rec["reason"]}
            continue
        if peer in SHIFT_PEERS and "seconds" in check_rec:
            # the backward pass costs 2 * P evaluations per sample: the cross-check predicts the step
            predicted = check_rec["seconds"] * b / check_rec["batch"]
            if predicted > args.budget:
                timings[peer] = {
                    "status": "skipped",
                    "batch": b,
                    "budget_s": args.budget,
                    "predicted_s": predicted,
                    "reason": (
                        f"{TOO_SLOW_SHIFT}: predicted about {predicted:.0f} s per step of batch {b} from "
                        f"the cross-check's {check_rec['seconds']:.1f} s at batch {check_rec['batch']} "
                        f"> --budget {args.budget:g} s"
                    ),
                }
                log(f"[qnn n={n_qubits}] {peer:26s} skipped: {timings[peer]['reason']}")
                continue
        need = predicted_memory(peer, n_qubits, b)
        avail = available_memory()
        if need is not None and avail and need > args.memory_fraction * avail:
            timings[peer] = {
                "status": "skipped",
                "batch": b,
                "reason": (
                    f"out of memory (predicted): needs about {need / 2**30:.1f} GiB "
                    f"(~{DEFAULT_QUBIT_STATE_COPIES} complex128 states of batch {b}) "
                    f"> --memory-fraction {args.memory_fraction:g} of the "
                    f"{avail / 2**30:.1f} GiB available"
                ),
            }
            log(f"[qnn n={n_qubits}] {peer}: skipped, {timings[peer]['reason']}")
            continue
        try:
            model = build_model(peer, n_qubits, args.layers, w0, settings)
        except Exception as exc:  # noqa: BLE001
            timings[peer] = {"status": "skipped", "batch": b, "reason": _reason(exc)}
            continue
        extra: dict[str, Any] = {"batch": b}
        if peer == "lightning_qubit":
            extra["batching"] = lightning_batching(model, x)
        step = make_step(model, x[:b], target[:b])
        if peer in SHIFT_PEERS:
            repeats = min(args.repeats, args.shift_repeats)
        elif n_qubits >= 16 and peer not in KETML_PEERS:
            repeats = args.repeats_slow
        else:
            repeats = args.repeats
        rec = time_call(
            step,
            repeats=repeats,
            warmup=args.warmup,
            budget_s=args.budget,
            total_budget_s=args.peer_total_budget,
        )
        rec.update(extra)
        timings[peer] = rec
        del model, step
        gc.collect()
        if rec["status"] == "ok":
            log(
                f"[qnn n={n_qubits}] {peer:26s} batch {b:4d} median {rec['median_s']:.4f} s "
                f"({rec['repeats']} repeats)"
            )
        else:
            log(f"[qnn n={n_qubits}] {peer:26s} skipped: {rec['reason']}")
    res["peers"] = timings
    res["ratios"] = ratios(timings, args.batch)
    res["target"] = target_verdict(n_qubits, timings)
    return res


def _median(rec: dict[str, Any] | None) -> float | None:
    if rec and rec.get("status") == "ok":
        return rec["median_s"]
    return None


def ratios(timings: dict[str, Any], batch: int | None = None) -> dict[str, Any]:
    """peer median / ketml median, against each ketml method and the faster of the two, on the
    same batch: peers timed on the shift batch are compared with ``ketml_backprop_shift_batch``."""
    out: dict[str, Any] = {}
    kb, ka = _median(timings.get("ketml_backprop")), _median(timings.get("ketml_adjoint"))
    best = min((t for t in (kb, ka) if t is not None), default=None)
    full = {"ketml_backprop": kb, "ketml_adjoint": ka, "ketml_best": best}
    ksb = _median(timings.get("ketml_backprop_shift_batch"))
    small = {"ketml_backprop": ksb, "ketml_adjoint": None, "ketml_best": ksb}
    for peer in COMPARED_PEERS:
        rec = timings.get(peer)
        if rec is None:
            continue
        t = _median(rec)
        on_small = batch is not None and rec.get("batch", batch) != batch
        refs = small if on_small else full
        out[peer] = {ref: (t / r if (t is not None and r) else None) for ref, r in refs.items()}
        out[peer]["batch"] = rec.get("batch", batch)
        out[peer]["reference"] = "ketml_backprop_shift_batch" if on_small else "ketml_best"
    out["ketml_best_method"] = None if best is None else ("backprop" if best == kb else "adjoint")
    out["ketml_adjoint_over_backprop"] = ka / kb if (ka and kb) else None
    return out


def target_verdict(n_qubits: int, timings: dict[str, Any]) -> dict[str, Any]:
    """Project target: ketml >= 5x faster than default.qubit for n <= 12, never slower above.
    ketml's time is the faster of its two diff methods. If default.qubit was skipped for time
    or memory while ketml ran, ketml is faster than it can be measured (a lower bound on the
    ratio is given where the budget gives one)."""
    need = 5.0 if n_qubits <= 12 else 1.0
    kb, ka = _median(timings.get("ketml_backprop")), _median(timings.get("ketml_adjoint"))
    best = min((t for t in (kb, ka) if t is not None), default=None)
    dq = timings.get("default_qubit") or {}
    verdict: dict[str, Any] = {"required_ratio": need, "ketml_s": best}
    if best is None:
        verdict.update(passed=False, ratio=None, note="ketml did not run")
    elif dq.get("status") == "ok":
        r = dq["median_s"] / best
        verdict.update(passed=r >= need, ratio=r, note="")
    else:
        reason = dq.get("reason", "not run")
        bound = dq.get("budget_s") / best if reason.startswith("timeout") else None
        ok = reason.startswith("timeout") or reason.startswith("out of memory")
        verdict.update(
            passed=ok and (bound is None or bound >= need),
            ratio=None,
            ratio_lower_bound=bound,
            note=f"default.qubit skipped ({reason.split(':')[0]})",
        )
    return verdict


# ------------------------------------------------------------------------------ throughput


def throughput_circuit(n_qubits: int, n_layers: int, seed: int):
    """Fixed random layered circuit: per layer RX, RY, RZ on every qubit, then CX(i, i+1)."""
    import numpy as np
    from qiskit import QuantumCircuit

    rng = np.random.default_rng(seed)
    qc = QuantumCircuit(n_qubits, name=f"layered_{n_qubits}")
    for _ in range(n_layers):
        for q in range(n_qubits):
            a, b, c = rng.uniform(0, 2 * np.pi, 3)
            qc.rx(a, q)
            qc.ry(b, q)
            qc.rz(c, q)
        for q in range(n_qubits - 1):
            qc.cx(q, q + 1)
    return qc


def _ketml_engine(engine: str, **options):
    """``circuits.engines.get(engine, **options)``, or ``PeerUnavailable`` saying why not."""
    from circuits import engines

    status = engine_status(engine)
    if status != "ok":
        raise PeerUnavailable(f"unavailable: ketml engine {engine!r}: {' '.join(status.split())}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return engines.get(engine, **options)


def simulator_runner(sim: str, qc, precision: str, threads: int) -> Callable[[], Any]:
    """A function that computes ``qc``'s final state on ``sim`` and returns it (a torch tensor,
    numpy array or Aer ``Statevector``). Engines and devices are built here, outside the timer.
    Raises ``PeerUnavailable`` when ``sim`` cannot run here or not in ``precision``."""
    import numpy as np
    import torch

    import circuits

    dtype = {"single": "complex64", "double": "complex128"}[precision]
    if sim in ("ketml", "torch_cuda"):
        options: dict[str, Any] = {"dtype": dtype}
        if sim == "torch_cuda":
            if not torch.cuda.is_available():
                raise PeerUnavailable(
                    f"unavailable: no CUDA GPU visible to torch {torch.__version__} "
                    "(torch.cuda.is_available() is False)"
                )
            options["device"] = "cuda"
        engine = _ketml_engine("torch", **options)

        def run_torch():
            with torch.no_grad():
                state = circuits.statevector(qc, engine=engine)
            if sim == "torch_cuda":
                torch.cuda.synchronize()
            return state

        return run_torch
    if sim in ("aer", "aer_gpu"):
        from qiskit import transpile
        from qiskit_aer import AerSimulator

        device = "GPU" if sim == "aer_gpu" else "CPU"
        devices = AerSimulator().available_devices()
        if device not in devices:
            raise PeerUnavailable(
                f"unavailable: qiskit-aer has no {device} device here (available: {', '.join(devices)}); "
                "the GPU device needs qiskit-aer-gpu and an NVIDIA GPU"
            )
        aer = AerSimulator(
            method="statevector", device=device, precision=precision, max_parallel_threads=threads
        )
        qc_aer = qc.copy()
        qc_aer.save_statevector()
        tqc = transpile(qc_aer, aer, optimization_level=0)

        def run_aer():
            return aer.run(tqc).result().get_statevector(tqc)

        return run_aer
    if sim in ("lightning_qubit", "lightning_gpu", "default_qubit"):
        device = {"lightning_qubit": "lightning.qubit", "lightning_gpu": "lightning.gpu"}.get(
            sim, "default.qubit"
        )
        options = {"pennylane_device": device}
        if sim == "default_qubit":
            if precision != "double":
                raise PeerUnavailable("n/a: default.qubit simulates in double precision only")
        else:
            options["c_dtype"] = np.complex64 if precision == "single" else np.complex128
        engine = _ketml_engine("pennylane", **options)
        return lambda: circuits.statevector(qc, engine=engine)
    if sim in ("cudaq_qpp", "cudaq_nvidia"):
        if sim == "cudaq_qpp":
            if precision != "double":
                raise PeerUnavailable("n/a: CUDA-Q qpp-cpu simulates in double precision only")
            options = {"target": "qpp-cpu"}
        else:
            options = (
                {"target": "nvidia"} if precision == "single" else {"target": "nvidia", "option": "fp64"}
            )
        engine = _ketml_engine("cudaq", **options)
        return lambda: circuits.statevector(qc, engine=engine)
    raise ValueError(f"unknown simulator {sim!r}")


def _as_vector(state) -> Any:
    """A simulator's state as a flat complex128 numpy vector (on the host)."""
    import numpy as np

    if hasattr(state, "detach"):
        state = state.detach().reshape(-1).cpu().numpy()
    elif hasattr(state, "data") and not isinstance(state, np.ndarray):
        state = state.data
    return np.asarray(state, dtype=np.complex128).reshape(-1)


PROBE_QUBITS_BELOW = 4


def probe_simulator(args, sim: str, n_qubits: int, precision: str) -> dict[str, Any]:
    """Time ``sim`` twice on the layered circuit at ``n_qubits - 4`` qubits (the first call
    compiles) and extrapolate to ``n_qubits``: x 2^4 for the state, x n ratio for the gates.
    Keeps a slow simulator (CUDA-Q qpp-cpu, default.qubit) from spending minutes in one
    uninterruptible call."""
    n_probe = n_qubits - PROBE_QUBITS_BELOW
    qc = throughput_circuit(n_probe, args.throughput_layers, args.seed)
    runner = simulator_runner(sim, qc, precision, args.threads)
    times = []
    with deadline(args.budget):
        for _ in range(2):
            t0 = time.perf_counter()
            runner()
            times.append(time.perf_counter() - t0)
    best = min(times)
    predicted = best * 2**PROBE_QUBITS_BELOW * n_qubits / n_probe
    return {"n_qubits": n_probe, "seconds": best, "predicted_s": predicted}


def throughput_row(
    args,
    n_qubits: int,
    precision: str,
    sims: tuple[str, ...],
    reference: str,
    history: dict[tuple[str, str], tuple[int, float]],
) -> dict[str, Any]:
    """Time ``sims`` on the layered circuit; fidelity of each final state against
    ``reference``'s (the first of ``sims``). ``history`` holds each simulator's last median per
    precision, so a size predicted to take more than ``--throughput-skip-above`` seconds is
    skipped rather than run; a simulator's first size >= 12 is predicted by a probe 4 qubits
    smaller. The reference always runs (under ``--budget``)."""
    import numpy as np

    qc = throughput_circuit(n_qubits, args.throughput_layers, args.seed)
    gates = qc.size()
    state_bytes = (2**n_qubits) * (8 if precision == "single" else 16)
    res: dict[str, Any] = {
        "n_qubits": n_qubits,
        "precision": precision,
        "layers": args.throughput_layers,
        "gates": gates,
        "state_bytes": state_bytes,
        "simulators": list(sims),
        "reference": reference,
        "over_reference": {},
        "fidelities": {},
    }
    repeats = args.repeats if n_qubits < 24 else max(2, min(args.repeats, 3))
    ref_state = None
    for sim in sims:
        log(f"[throughput n={n_qubits} {precision}] {sim}")
        prev = history.get((sim, precision))
        if prev is not None and prev[0] < n_qubits and sim != reference:
            predicted = prev[1] * 2 ** (n_qubits - prev[0]) * n_qubits / prev[0]
            if predicted > args.throughput_skip_above:
                res[sim] = {
                    "status": "skipped",
                    "budget_s": args.throughput_skip_above,
                    "reason": (
                        f"too slow (predicted): about {predicted:.3g} s per state from "
                        f"{prev[1]:.3g} s at n={prev[0]} (x 2^dn x n ratio) "
                        f"> --throughput-skip-above {args.throughput_skip_above:g} s"
                    ),
                }
                log(f"    skipped: {res[sim]['reason']}")
                continue
        keep: dict[str, Any] = {}
        try:
            runner = simulator_runner(sim, qc, precision, args.threads)
            probe = None
            if prev is None and n_qubits - PROBE_QUBITS_BELOW >= 8 and sim != reference:
                probe = probe_simulator(args, sim, n_qubits, precision)
        except Exception as exc:  # noqa: BLE001 - a simulator that cannot start is a skip
            res[sim] = {"status": "skipped", "reason": _reason(exc)}
            if _is_timeout(exc):
                res[sim]["reason"] = (
                    f"too slow: the probe at n={n_qubits - PROBE_QUBITS_BELOW} exceeded "
                    f"--budget {args.budget:g} s"
                )
                history[(sim, precision)] = (n_qubits, math.inf)
            log(f"    skipped: {res[sim]['reason']}")
            continue
        if probe is not None and probe["predicted_s"] > args.throughput_skip_above:
            history[(sim, precision)] = (probe["n_qubits"], probe["seconds"])
            res[sim] = {
                "status": "skipped",
                "budget_s": args.throughput_skip_above,
                "probe": probe,
                "reason": (
                    f"too slow (predicted): about {probe['predicted_s']:.3g} s per state from "
                    f"{probe['seconds']:.3g} s at n={probe['n_qubits']} (x 2^dn x n ratio) "
                    f"> --throughput-skip-above {args.throughput_skip_above:g} s"
                ),
            }
            log(f"    skipped: {res[sim]['reason']}")
            del runner
            continue

        def fn(runner=runner, keep=keep):
            keep["state"] = runner()

        rec = time_call(
            fn,
            repeats=repeats,
            warmup=args.warmup,
            budget_s=args.budget,
            total_budget_s=args.peer_total_budget,
        )
        del runner
        if probe is not None:
            rec["probe"] = probe
        if rec["status"] == "ok":
            rec["bandwidth_GBps"] = gates * 2 * state_bytes / rec["median_s"] / 1e9
            history[(sim, precision)] = (n_qubits, rec["median_s"])
            log(f"    median {rec['median_s']:.4f} s, {rec['bandwidth_GBps']:.1f} GB/s effective")
            state = _as_vector(keep.pop("state"))
            if sim == reference:
                ref_state = state
            elif ref_state is not None:
                fid = float(abs(np.vdot(ref_state, state)) ** 2)
                res["fidelities"][sim] = fid
                res["over_reference"][sim] = rec["median_s"] / res[reference]["median_s"]
                if n_qubits <= args.fidelity_max_qubits and fid <= 0.999:
                    raise CrossCheckError(
                        f"throughput n={n_qubits} {precision}: {SIM_LABELS[sim]} and "
                        f"{SIM_LABELS[reference]} states differ (fidelity {fid:.6f})"
                    )
            del state
        else:
            if rec["reason"].startswith("timeout"):
                history[(sim, precision)] = (n_qubits, args.budget)
            log(f"    skipped: {rec['reason']}")
        res[sim] = rec
        keep.clear()
        gc.collect()
    del ref_state
    gc.collect()
    if "aer" in res["over_reference"]:  # the schema-1 names
        res["aer_over_ketml"] = res["over_reference"]["aer"]
        res["fidelity"] = res["fidelities"]["aer"]
    return res


def throughput_benchmark(args, n_qubits: int, precision: str, history=None) -> dict[str, Any]:
    """CPU simulators: ketml's torch engine (the reference), Aer, and through ketml's engines
    lightning.qubit, default.qubit and CUDA-Q qpp-cpu."""
    sims = tuple(s for s in THROUGHPUT_SIMS if s not in args.skip_simulators)
    if "ketml" not in sims:
        sims = ("ketml",) + sims
    return throughput_row(args, n_qubits, precision, sims, "ketml", {} if history is None else history)


def gpu_throughput_benchmark(args, n_qubits: int, precision: str, history=None) -> dict[str, Any]:
    """GPU simulators, each against ketml's torch engine on CUDA (the reference); every one is
    recorded as skipped with the reason where there is no GPU or the package is missing."""
    sims = tuple(s for s in GPU_SIMS if s not in args.skip_simulators or s == "torch_cuda")
    return throughput_row(args, n_qubits, precision, sims, "torch_cuda", {} if history is None else history)


# ------------------------------------------------------------------------------ reporting


def _fmt_s(rec: dict[str, Any] | None) -> str:
    if not rec:
        return "-"
    if rec.get("status") == "ok":
        t = rec["median_s"]
        return f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"
    reason = rec.get("reason", "")
    if reason.startswith("timeout"):
        return f"skipped (> {rec.get('budget_s', 0):g} s)"
    if reason.startswith("out of memory (predicted)"):
        return "skipped (OOM, predicted)"
    if reason.startswith("out of memory"):
        return "skipped (OOM)"
    if reason.startswith("too slow"):
        return "skipped (too slow)"
    if reason.startswith("n/a"):
        return "n/a"
    return f"skipped ({reason.split(':')[0] or 'error'})"


def _fmt_peer_ratio(rec: dict[str, Any] | None, ratio: float | None, best: float | None) -> str:
    """peer / ketml, or a lower bound when the peer ran past its time budget."""
    if ratio is not None:
        return _fmt_ratio(ratio)
    if rec and best and rec.get("budget_s"):
        reason = str(rec.get("reason", ""))
        if reason.startswith("timeout") or (reason.startswith("too slow") and "predicted" in reason):
            return f">{rec['budget_s'] / best:.0f}x"
    return "n/a"


def _fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.1f}x" if r >= 10 else f"{r:.2f}x"


def _peer_cell(rec: dict[str, Any] | None, ratio: float | None, ref_s: float | None) -> str:
    """ "time (ratio)" for a peer, the ratio against ketml on the same batch."""
    text = _fmt_s(rec)
    if not rec:
        return text
    if rec.get("status") == "ok":
        return f"{text} ({_fmt_ratio(ratio)})" if ratio is not None else text
    bound = _fmt_peer_ratio(rec, None, ref_s)
    return f"{text} ({bound})" if bound.startswith(">") else text


def _qnn_markdown(report: dict[str, Any]) -> list[str]:
    cfg = report["config"]
    rows = report["qnn_step"]
    lines: list[str] = []
    lines.append(
        f"## Hybrid-QNN training step (batch {cfg['batch']}, {cfg['layers']} strongly "
        "entangling layers, RX encoding, <Z> on every qubit; median time per step "
        "(peer time / ketml time))"
    )
    lines.append("")
    present = {p for r in rows for p in r.get("peers", {})}
    batches = {r.get("shift_batch", cfg["batch"]) for r in rows}
    sb = min(batches) if batches else cfg["batch"]
    small = sb != cfg["batch"]

    def label(peer: str) -> str:
        base = PEER_LABELS.get(peer, peer)
        if peer in SHIFT_PEERS or peer == "ketml_backprop_shift_batch":
            return f"{base} (b={sb})" if small else base
        return base

    ketml_cols = ["ketml_backprop", "ketml_adjoint"]
    if "ketml_backprop_c128" in present:
        ketml_cols.append("ketml_backprop_c128")
    if "ketml_backprop_shift_batch" in present:
        ketml_cols.append("ketml_backprop_shift_batch")
    peer_cols = [p for p in COMPARED_PEERS if p in present]
    head = ["n"] + [label(p) for p in ketml_cols + peer_cols] + ["max abs diff", "target"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for r in rows:
        p, rat, tgt = r["peers"], r["ratios"], r["target"]
        kb, ka = _median(p.get("ketml_backprop")), _median(p.get("ketml_adjoint"))
        best_s = min((t for t in (kb, ka) if t is not None), default=None)
        ksb = _median(p.get("ketml_backprop_shift_batch"))
        row = [str(r["n_qubits"])]
        row += [_fmt_s(p.get(peer)) for peer in ketml_cols]
        for peer in peer_cols:
            rec = p.get(peer)
            ratio = (rat.get(peer) or {}).get("ketml_best")
            on_small = rec is not None and rec.get("batch", cfg["batch"]) != cfg["batch"]
            row.append(_peer_cell(rec, ratio, ksb if on_small else best_s))
        verdict = ("PASS" if tgt["passed"] else "FAIL") + f" (>= {tgt['required_ratio']:g}x)"
        row += [f"{r['crosscheck']['max_abs_diff']:.1e}", verdict]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    ref_txt = (
        f"; the parameter-shift peers (b={sb}) run on the first {sb} samples and are compared with "
        f"ketml backprop timed on those same {sb} samples (column ketml backprop (b={sb}))"
        if small
        else ""
    )
    lines.append(
        "In brackets: peer time / ketml time on the same batch (above 1: ketml is faster), ketml "
        f"being the faster of its backprop and adjoint methods{ref_txt}. Target: ketml >= 5x faster "
        "than default.qubit for n <= 12, never slower above. max abs diff: largest difference of "
        "outputs and weight gradients of any peer against ketml backprop (tolerance "
        f"{TOLERANCE:g}). Precision: ketml complex64, every other peer complex128."
    )
    notes = []
    batching: dict[str, list[str]] = {}
    reasons: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        for peer, rec in r["peers"].items():
            if rec.get("status") != "ok":
                reasons.setdefault((peer, rec["reason"]), []).append(str(r["n_qubits"]))
        light = r["peers"].get("lightning_qubit", {}).get("batching")
        if light:
            batching.setdefault(light["note"], []).append(str(r["n_qubits"]))
    for (peer, reason), ns in reasons.items():
        if reason.startswith(TOO_SLOW_SHIFT) and "--shift-max-qubits" in reason:
            reason = TOO_SLOW_SHIFT + f" (n > --shift-max-qubits {cfg.get('shift_max_qubits')})"
        notes.append(f"- n={', '.join(ns)} {PEER_LABELS.get(peer, peer)}: {reason}")
    for note, ns in batching.items():
        notes.append(f"- lightning.qubit (n={', '.join(ns)}): {note}")
    if notes:
        lines.append("")
        lines.extend(notes)
    return lines


def _throughput_markdown(rows: list[dict[str, Any]], title: str) -> list[str]:
    lines = [title, ""]
    sims: list[str] = []
    for r in rows:
        sims += [s for s in r.get("simulators", ["ketml", "aer"]) if s not in sims]
    reference = rows[0].get("reference", "ketml")
    ref_label = SIM_LABELS.get(reference, reference)
    head = ["n", "precision", "gates", "state MiB"]
    head += [SIM_LABELS.get(s, s) for s in sims]
    head += [f"{ref_label} GB/s", "best peer GB/s", "min fidelity"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    notes: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        row = [str(r["n_qubits"]), r["precision"], str(r["gates"]), f"{r['state_bytes'] / 2**20:.3g}"]
        for s in sims:
            rec = r.get(s)
            if rec and rec.get("status") == "ok":
                ratio = r.get("over_reference", {}).get(s)
                cell = _fmt_s(rec)
                row.append(f"{cell} ({_fmt_ratio(ratio)})" if ratio is not None else cell)
            else:
                row.append(_fmt_s(rec))
                if rec and not str(rec.get("reason", "")).startswith("n/a"):
                    notes.setdefault((s, rec["reason"]), []).append(f"{r['n_qubits']} {r['precision']}")
        ref = r.get(reference) or {}
        row.append(f"{ref['bandwidth_GBps']:.1f}" if ref.get("status") == "ok" else "-")
        peers_bw = [
            (r[s]["bandwidth_GBps"], s)
            for s in sims
            if s != reference and (r.get(s) or {}).get("status") == "ok"
        ]
        if peers_bw:
            bw, s = max(peers_bw)
            row.append(f"{bw:.1f} ({SIM_LABELS.get(s, s)})")
        else:
            row.append("-")
        fids = r.get("fidelities") or ({"aer": r["fidelity"]} if "fidelity" in r else {})
        row.append(f"{min(fids.values()):.6f}" if fids else "-")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append(
        f"Time per final state (median); in brackets the time over {ref_label}'s (above 1: "
        f"{ref_label} is faster). n/a: the simulator has no such precision. Effective bandwidth = "
        "gates x 2 x state bytes / seconds, counting the circuit's gates as written; the "
        "simulators fuse gates, so this can exceed the memory's real bandwidth. min fidelity: "
        f"lowest |<ref|peer>|^2 of any peer's state against {ref_label}'s."
    )
    if notes:
        lines.append("")
        for (s, reason), where in notes.items():
            lines.append(f"- {SIM_LABELS.get(s, s)} ({', '.join(where)}): {reason}")
    return lines


def markdown(report: dict[str, Any]) -> str:
    lines: list[str] = []
    m = report["machine"]
    cfg = report["config"]
    v = m["versions"]
    lines.append("# Engine benchmark")
    lines.append("")
    lines.append(
        f"{m['cpu_model']}, {m['cpu_count']} cores, torch threads {m['torch_threads']}; "
        f"torch {v['torch']}, pennylane {v['pennylane']} (lightning {v['pennylane_lightning']}), "
        f"qiskit {v.get('qiskit')}, qiskit-aer {v['qiskit-aer']}, cudaq {v.get('cudaq')}, "
        f"qiskit-machine-learning {v.get('qiskit-machine-learning')}; {m['date_utc']}; load average "
        f"at start {', '.join(f'{x:.1f}' for x in m['load_average_start'] or [])}."
    )
    if report.get("qnn_step"):
        lines.append("")
        lines.extend(_qnn_markdown(report))
    if report.get("throughput"):
        lines.append("")
        lines.extend(
            _throughput_markdown(
                report["throughput"],
                f"## State-vector throughput (batch 1, {cfg['throughput_layers']} layers of "
                "RX/RY/RZ on every qubit + CX ladder)",
            )
        )
    if report.get("gpu_throughput"):
        lines.append("")
        lines.extend(
            _throughput_markdown(
                report["gpu_throughput"],
                f"## GPU state-vector throughput (same circuit, {cfg['throughput_layers']} layers)",
            )
        )
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ driver


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="engine_bench",
        description=(
            "Benchmark ketml's torch engine against PennyLane (default.qubit, lightning.qubit), "
            "the same QuantumLayer on ketml's pennylane / aer / cudaq engines and Qiskit Machine "
            "Learning's EstimatorQNN on a hybrid-QNN training step, and against Aer, lightning, "
            "default.qubit and CUDA-Q on state-vector throughput (--gpu: GPU simulators too). "
            "Writes engine_bench.json and engine_bench.md under --out."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--qubits",
        type=int,
        nargs="+",
        default=None,
        help="QNN qubit counts (default 4 8 12; --quick: 4)",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed steps per measurement, median reported (default 5; --quick: 2)",
    )
    p.add_argument(
        "--repeats-slow", type=int, default=3, help="timed steps for PennyLane peers at 16+ qubits"
    )
    p.add_argument("--warmup", type=int, default=1, help="untimed warm-up calls")
    p.add_argument("--batch", type=int, default=None, help="QNN batch size (default 256; --quick: 32)")
    p.add_argument("--layers", type=int, default=4, help="strongly entangling layers")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: n=4, 2 repeats, batch 32, shift batch 2, throughput at 10 and 12 qubits",
    )
    p.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="output folder")
    p.add_argument("--skip-throughput", action="store_true", help="skip the Aer throughput part")
    p.add_argument("--skip-qnn", action="store_true", help="skip the QNN training-step part")
    p.add_argument(
        "--skip-peers",
        nargs="*",
        default=[],
        choices=list(PEERS),
        help="QNN peers to leave out (e.g. qiskit_ml, the slowest, in a smoke run)",
    )
    p.add_argument(
        "--skip-simulators",
        nargs="*",
        default=[],
        choices=[s for s in THROUGHPUT_SIMS + GPU_SIMS if s not in ("ketml", "torch_cuda")],
        help="throughput simulators to leave out",
    )
    p.add_argument(
        "--shift-max-qubits",
        type=int,
        default=12,
        help="parameter-shift QNN peers (ketml_aer, ketml_cudaq, qiskit_ml) are skipped as too "
        "slow above this many qubits",
    )
    p.add_argument(
        "--shift-batch",
        type=int,
        default=None,
        help="batch of the parameter-shift QNN peers, timed against ketml on the same batch "
        "(default 8; --quick: 2; at most --batch)",
    )
    p.add_argument(
        "--shift-repeats", type=int, default=2, help="timed steps of the parameter-shift QNN peers (at most)"
    )
    p.add_argument(
        "--shift-check-batch",
        type=int,
        default=1,
        help="cross-check batch of the parameter-shift QNN peers",
    )
    p.add_argument(
        "--qiskit-ml-estimator",
        choices=["aer", "statevector"],
        default="aer",
        help="Estimator V2 under qiskit-ml's EstimatorQNN: qiskit_aer.primitives.EstimatorV2 or "
        "qiskit.primitives.StatevectorEstimator",
    )
    p.add_argument(
        "--ketml-complex128",
        action="store_true",
        help="also time ketml backprop in complex128 (the PennyLane peers run complex128)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch / OpenMP / Aer threads (default: all usable cores)",
    )
    p.add_argument(
        "--throughput-qubits",
        type=int,
        nargs="+",
        default=None,
        help="throughput qubit counts (default 20 24; --quick: 10 12)",
    )
    p.add_argument("--throughput-layers", type=int, default=10, help="layers of the throughput circuit")
    p.add_argument(
        "--throughput-skip-above",
        type=float,
        default=60.0,
        help="skip a throughput simulator predicted (from its time at a smaller size, or a probe "
        "4 qubits smaller) to take more than this many seconds per state",
    )
    p.add_argument(
        "--gpu",
        action="store_true",
        help="also time the GPU simulators (torch CUDA, lightning.gpu, Aer GPU, CUDA-Q nvidia) at "
        "--gpu-qubits; each is recorded as skipped with the reason where it cannot run",
    )
    p.add_argument(
        "--gpu-qubits", type=int, nargs="+", default=[20, 24, 28], help="GPU throughput qubit counts"
    )
    p.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="seconds one step may take before the peer is recorded as skipped",
    )
    p.add_argument(
        "--peer-total-budget",
        type=float,
        default=300.0,
        help="seconds of timed steps per peer and size; fewer repeats beyond it",
    )
    p.add_argument("--check-batch", type=int, default=16, help="batch of the cross-check")
    p.add_argument(
        "--fidelity-max-qubits",
        type=int,
        default=20,
        help="throughput sizes up to this: every simulator's state must agree with ketml's "
        "(fidelity > 0.999) or the run aborts",
    )
    p.add_argument(
        "--memory-fraction",
        type=float,
        default=0.6,
        help="fraction of available RAM a peer is predicted to need before it is skipped",
    )
    p.add_argument(
        "--omp-wait-policy",
        default="PASSIVE",
        help="OMP_WAIT_POLICY for the process (torch and lightning each bring an OpenMP "
        "runtime; spinning threads of one starve the other); 'keep' leaves it alone",
    )
    p.add_argument(
        "--no-memory-cap",
        action="store_true",
        help="do not cap the address space (then an OOM may kill the run)",
    )
    p.add_argument("--seed", type=int, default=1234)
    args = p.parse_args(argv)
    if args.qubits is None:
        args.qubits = [4] if args.quick else [4, 8, 12]
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    if args.batch is None:
        args.batch = 32 if args.quick else 256
    if args.throughput_qubits is None:
        args.throughput_qubits = [10, 12] if args.quick else [20, 24]
    args.throughput_qubits = sorted(args.throughput_qubits)
    args.gpu_qubits = sorted(args.gpu_qubits)
    if args.shift_batch is None:
        args.shift_batch = 2 if args.quick else 8
    if args.threads is None:
        try:
            args.threads = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover
            args.threads = os.cpu_count() or 1
    if args.quick:
        args.repeats_slow = min(args.repeats_slow, args.repeats)
    return args


@contextlib.contextmanager
def configured_environment(args: argparse.Namespace):
    """Thread settings for the run (OpenMP variables only reach runtimes not loaded yet);
    restored afterwards, so that calling ``run`` from a test leaves the process as it was."""
    import torch

    saved_env = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    saved_threads = torch.get_num_threads()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    if args.omp_wait_policy.lower() != "keep":
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy.upper()
    torch.set_num_threads(args.threads)
    try:
        yield
    finally:
        torch.set_num_threads(saved_threads)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmarks described by ``args``; write and return the report."""
    with configured_environment(args):
        return _run(args)


def _run(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    cap = None if args.no_memory_cap else cap_address_space(0.9)
    report: dict[str, Any] = {
        "benchmark": "engine_bench",
        "schema_version": SCHEMA_VERSION,
        "machine": machine_info(args.threads),
        "config": {
            "qubits": args.qubits,
            "batch": args.batch,
            "layers": args.layers,
            "repeats": args.repeats,
            "repeats_slow": args.repeats_slow,
            "warmup": args.warmup,
            "quick": args.quick,
            "threads": args.threads,
            "budget_s": args.budget,
            "peer_total_budget_s": args.peer_total_budget,
            "throughput_qubits": [] if args.skip_throughput else args.throughput_qubits,
            "throughput_layers": args.throughput_layers,
            "throughput_skip_above_s": args.throughput_skip_above,
            "skip_peers": args.skip_peers,
            "skip_simulators": args.skip_simulators,
            "shift_peers": list(SHIFT_PEERS),
            "shift_batch": shift_batch(args),
            "shift_repeats": args.shift_repeats,
            "shift_check_batch": args.shift_check_batch,
            "shift_max_qubits": args.shift_max_qubits,
            "qiskit_ml_estimator": args.qiskit_ml_estimator,
            "check_batch": args.check_batch,
            "gpu": args.gpu,
            "gpu_qubits": args.gpu_qubits if args.gpu else [],
            "peer_info": PEER_INFO,
            "simulator_info": SIM_INFO,
            "ketml_dtype": "complex64",
            "step": "optimizer.zero_grad(); out = layer(x); mse_loss(out, target).backward(); "
            "optimizer.step()  (SGD, lr 1e-3)",
            "address_space_cap_bytes": cap,
            "seed": args.seed,
            "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
        },
        "qnn_step": [],
        "throughput": [],
        "gpu_throughput": [],
    }
    _ENGINE_STATUS.clear()
    report["machine"]["engines"] = {
        name: engine_status(name) for name in ("torch", "pennylane", "aer", "cudaq")
    }
    t_start = time.perf_counter()
    if not args.skip_qnn:
        for n in args.qubits:
            report["qnn_step"].append(qnn_step_benchmark(args, n))
    if not args.skip_throughput:
        history: dict[tuple[str, str], tuple[int, float]] = {}
        for n in args.throughput_qubits:
            for precision in ("single", "double"):
                report["throughput"].append(throughput_benchmark(args, n, precision, history))
    if args.gpu:
        history = {}
        for n in args.gpu_qubits:
            for precision in ("single", "double"):
                report["gpu_throughput"].append(gpu_throughput_benchmark(args, n, precision, history))
    report["machine"]["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    report["machine"]["torch_threads_end"] = torch.get_num_threads()
    report["wall_s"] = time.perf_counter() - t_start
    report["crosscheck_passed"] = all(r["crosscheck"]["passed"] for r in report["qnn_step"])
    report["crosscheck_peers"] = sorted(
        {p for r in report["qnn_step"] for p, c in r["crosscheck"]["peers"].items() if c["status"] == "ok"}
    )
    report["crosscheck_max_abs_diff"] = max(
        (r["crosscheck"]["max_abs_diff"] for r in report["qnn_step"]), default=None
    )
    report["target_passed"] = all(r["target"]["passed"] for r in report["qnn_step"])
    md = markdown(report)
    report["markdown"] = md
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "engine_bench.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "engine_bench.md").write_text(md)
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        report = run(args)
    except CrossCheckError as exc:
        print(f"CROSS-CHECK FAILED: {exc}", file=sys.stderr, flush=True)
        return 2
    print()
    print(report["markdown"], flush=True)
    print(f"wrote {Path(args.out) / 'engine_bench.json'} and {Path(args.out) / 'engine_bench.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
