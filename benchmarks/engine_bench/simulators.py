"""The state-vector simulators of the throughput benchmark, each as a function that returns
the final state of a circuit: ketml's torch engine (CPU, CUDA), Aer natively (CPU, GPU), and
through ketml's engines PennyLane lightning.qubit / lightning.gpu / default.qubit and CUDA-Q.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from benchmarks.harness import PeerUnavailable, require_engine

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

    require_engine(engine)
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


def as_vector(state) -> Any:
    """A simulator's state as a flat complex128 numpy vector (on the host)."""
    import numpy as np

    if hasattr(state, "detach"):
        state = state.detach().reshape(-1).cpu().numpy()
    elif hasattr(state, "data") and not isinstance(state, np.ndarray):
        state = state.data
    return np.asarray(state, dtype=np.complex128).reshape(-1)
