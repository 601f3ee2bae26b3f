"""Wide and gradient-heavy rows of issue 22, each measured beside its peer in one process:

* ``lightcone``: <Z_0> of a 24-qubit circuit (20 layers of random rotations + CNOT bricks),
  complex64: ketml's torch engine (simulates the observable's backward light cone only) vs
  Qiskit Aer (statevector, single precision, ``save_expectation_value`` on qubit 0: Aer drops
  the qubits outside the cone, not the gates). Target: ketml <= Aer.
* ``adjoint``: energy + gradient of a 20-term Pauli sum on 12 qubits, 100 parameters (RY/RZ
  layers + CNOT ladders), complex128: ketml ``diff_method="adjoint"`` vs a PennyLane
  ``lightning.qubit`` QNode with ``diff_method="adjoint"`` (torch interface); ketml backprop
  for reference. Target: ketml adjoint <= lightning.qubit.
* ``width``: the final state vector of the ``lightcone`` circuit, complex64: ketml vs a
  ``lightning.qubit`` QNode (``c_dtype=complex64``) returning ``state()``; the achieved memory
  bandwidth (fused passes x 2 x state bytes / time) against a measured copy ceiling
  (``Tensor.copy_`` of a state-sized buffer). Target: ketml <= lightning.qubit.
* ``pennylane``: the hybrid-QNN step of ``engine_bench`` (RX encoding, 4 strongly entangling
  layers, <Z_i>, batch 256, SGD) through ketml's ``pennylane`` engine on ``default.qubit``
  vs the same QNode written natively in PennyLane. Target: ketml's engine <= 1.5x native.

Every peer is cross-checked against ketml (``require_agreement``) before anything is timed;
then the peers of a row are timed **interleaved** (one call of each per round), and the
medians of wall time and of process CPU time are reported with their ratios, with the load
average: on a shared machine the CPU-time ratio is the steadier of the two at one thread.
``--only ROW ...`` runs some rows and keeps the others' previous results in the JSON.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import (  # noqa: E402
    add_out,
    add_quick,
    add_threads,
    log,
    machine_info,
    max_abs_diff,
    median,
    new_parser,
    package_version,
    require_agreement,
    run_main,
    write_results,
)
from benchmarks.harness.machine import load_average  # noqa: E402

ROWS = ("lightcone", "adjoint", "width", "pennylane")
NAME = "perf_wide"


# ------------------------------------------------------------------------------ circuits
def brick_circuit(n: int, layers: int, seed: int = 0):
    """``layers`` x (two random rotations from RX/RY/RZ on every qubit, then CNOTs (q, q+1) on
    even q in even layers and odd q in odd layers); one parameter per rotation."""
    import numpy as np
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector

    rng = np.random.default_rng(seed)
    theta = ParameterVector("theta", 2 * n * layers)
    qc = QuantumCircuit(n)
    k = 0
    for layer in range(layers):
        for q in range(n):
            for _ in range(2):
                getattr(qc, str(rng.choice(["rx", "ry", "rz"])))(theta[k], q)
                k += 1
        for q in range(layer % 2, n - 1, 2):
            qc.cx(q, q + 1)
    return qc


def ladder_circuit(n: int, n_params: int):
    """RY (even layers) or RZ (odd layers) on every qubit, each layer followed by a CNOT ladder
    (q, q+1), until ``n_params`` rotations; returns the circuit and its gate list."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector

    theta = ParameterVector("theta", n_params)
    qc = QuantumCircuit(n)
    spec: list[tuple[str, int, int]] = []
    k = layer = 0
    while k < n_params:
        gate = "ry" if layer % 2 == 0 else "rz"
        for q in range(n):
            if k == n_params:
                break
            getattr(qc, gate)(theta[k], q)
            spec.append((gate, q, k))
            k += 1
        for q in range(n - 1):
            qc.cx(q, q + 1)
            spec.append(("cx", q, q + 1))
        layer += 1
    return qc, spec


def random_pauli_sum(n: int, terms: int, seed: int = 0):
    """``terms`` distinct random Pauli strings on ``n`` qubits with normal coefficients."""
    import numpy as np
    from qiskit.quantum_info import SparsePauliOp

    rng = np.random.default_rng(seed)
    labels: set[str] = set()
    while len(labels) < terms:
        labels.add("".join(rng.choice(list("IXYZ"), n)))
    return SparsePauliOp(sorted(labels), coeffs=rng.normal(size=terms))


def pennylane_ops(spec_or_circuit, n: int):
    """PennyLane gate calls ``(name, wires, parameter index)`` for a circuit of rx/ry/rz/cx
    (Qiskit qubit q is wire n-1-q, so both number basis states alike)."""
    out = []
    for inst in spec_or_circuit.data:
        name = inst.operation.name
        qubits = [spec_or_circuit.find_bit(q).index for q in inst.qubits]
        wires = [n - 1 - q for q in qubits]
        index = inst.operation.params[0].index if inst.operation.params else None
        out.append((name, wires, index))
    return out


def pennylane_observable(op, n: int):
    """A Qiskit ``SparsePauliOp`` as a PennyLane operator on wires ``n-1-q``."""
    import pennylane as pnl
    from pennylane.pauli import PauliSentence, PauliWord

    sentence = PauliSentence()
    for label, c in zip(op.paulis.to_labels(), op.coeffs, strict=True):
        sentence[PauliWord({i: ch for i, ch in enumerate(label) if ch != "I"})] = float(c.real)
    del pnl
    return sentence.operation(wire_order=list(range(n)))


def _apply_ops(ops, angles):
    import pennylane as pnl

    table = {"rx": pnl.RX, "ry": pnl.RY, "rz": pnl.RZ}
    for name, wires, index in ops:
        if name == "cx":
            pnl.CNOT(wires=wires)
        else:
            table[name](angles[index], wires=wires)


# ------------------------------------------------------------------------------ timing
def interleaved(fns: dict[str, Any], repeats: int, warmup: int = 1) -> dict[str, dict[str, Any]]:
    """Warm each of ``fns`` up, then ``repeats`` rounds of one timed call of each; wall and
    process-CPU seconds per call, medians."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            wall[k].append(time.perf_counter() - t0)
            cpu[k].append(time.process_time() - c0)
    return {
        k: {
            "times_s": wall[k],
            "cpu_s": cpu[k],
            "median_s": median(wall[k]),
            "median_cpu_s": median(cpu[k]),
            "repeats": repeats,
        }
        for k in fns
    }


def _ratios(peers: dict[str, dict], ours: str, theirs: str) -> dict[str, float]:
    """ketml's time over the peer's (below 1: ketml is faster), wall and CPU."""
    return {
        "wall": peers[ours]["median_s"] / peers[theirs]["median_s"],
        "cpu": peers[ours]["median_cpu_s"] / peers[theirs]["median_cpu_s"],
    }


# ------------------------------------------------------------------------------ rows
def row_lightcone(args) -> dict[str, Any]:
    import numpy as np
    import torch
    from qiskit import transpile
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_aer import AerSimulator

    from circuits.engines.torch_engine.engine import TorchEngine, compile_circuit

    n, layers = args.wide_qubits, args.layers
    qc = brick_circuit(n, layers, seed=args.seed)
    values = np.random.default_rng(args.seed + 1).uniform(-np.pi, np.pi, qc.num_parameters)
    obs = [SparsePauliOp.from_sparse_list([("Z", [0], 1.0)], n)]
    engine = TorchEngine(dtype="complex64")
    v = torch.tensor(values[None], dtype=torch.float32)
    sim = AerSimulator(method="statevector", precision="single", max_parallel_threads=args.threads)
    aqc = qc.assign_parameters(values)
    aqc.save_expectation_value(SparsePauliOp("Z"), [0])
    tqc = transpile(aqc, sim, optimization_level=0)

    def ketml():
        with torch.no_grad():
            return engine.expval(qc, obs, v)

    def aer():
        return sim.run(tqc).result()

    ours = float(ketml()[0, 0])
    res = aer()
    theirs = float(np.real(res.data()["expectation_value"]))
    diff = require_agreement("lightcone <Z_0>: ketml vs Aer", abs(ours - theirs), 1e-4)
    red = next(v for k, v in compile_circuit(qc).cones.items() if k != "last")
    cone = {
        "parts": [len(p.qubits) for p in red.parts] if red else None,
        "ops_in_cone": [len(p.ops) for p in red.parts] if red else None,
        "ops_total": len(compile_circuit(qc).body),
        "aer_active_qubits": len(res.results[0].metadata.get("active_input_qubits", [])) or None,
    }
    log(f"lightcone: cone {cone}; timing {args.repeats_lightcone} rounds")
    peers = interleaved({"ketml": ketml, "aer": aer}, args.repeats_lightcone)
    return {
        "what": f"<Z_0>, {n} qubits, {layers} layers of random rotations + CNOT bricks, complex64",
        "values": {"ketml": ours, "aer": theirs},
        "max_abs_diff": diff,
        "cone": cone,
        "peers": peers,
        "ratio": _ratios(peers, "ketml", "aer"),
        "target": "ketml <= Aer",
        "peer": "aer",
    }


def row_adjoint(args) -> dict[str, Any]:
    import numpy as np
    import pennylane as pnl
    import torch

    from circuits.engines.torch_engine.engine import TorchEngine

    n, n_params = args.adjoint_qubits, args.adjoint_params
    qc, _ = ladder_circuit(n, n_params)
    ham = random_pauli_sum(n, args.adjoint_terms, seed=args.seed)
    w0 = np.random.default_rng(args.seed + 2).uniform(-np.pi, np.pi, n_params)
    ops = pennylane_ops(qc, n)
    h_pl = pennylane_observable(ham, n)
    dev = pnl.device("lightning.qubit", wires=n)

    @pnl.qnode(dev, diff_method="adjoint", interface="torch")
    def energy(w):
        _apply_ops(ops, w)
        return pnl.expval(h_pl)

    w_pl = torch.tensor(w0, requires_grad=True)
    v = torch.tensor(w0[None], requires_grad=True)
    engines = {m: TorchEngine(dtype="complex128", diff_method=m) for m in ("adjoint", "backprop")}

    def lightning():
        e = energy(w_pl)
        (g,) = torch.autograd.grad(e, w_pl)
        return e.detach(), g

    def ketml(method):
        def step():
            e = engines[method].expval(qc, [ham], v)
            (g,) = torch.autograd.grad(e.sum(), v)
            return e.detach()[0, 0], g[0]

        return step

    fns = {
        "ketml_adjoint": ketml("adjoint"),
        "ketml_backprop": ketml("backprop"),
        "lightning_qubit": lightning,
    }
    ref_e, ref_g = fns["lightning_qubit"]()
    diffs = {}
    for k in ("ketml_adjoint", "ketml_backprop"):
        e, g = fns[k]()
        d = max(abs(float(e) - float(ref_e)), max_abs_diff(g, ref_g))
        diffs[k] = require_agreement(f"adjoint energy/gradient: {k} vs lightning.qubit", d, 1e-8)
    log(f"adjoint: timing {args.repeats_adjoint} rounds")
    peers = interleaved(fns, args.repeats_adjoint, warmup=3)
    return {
        "what": (
            f"energy + gradient, {n} qubits, {n_params} parameters, "
            f"{args.adjoint_terms} Pauli terms, complex128"
        ),
        "max_abs_diff": diffs,
        "peers": peers,
        "ratio": _ratios(peers, "ketml_adjoint", "lightning_qubit"),
        "ratio_backprop": _ratios(peers, "ketml_backprop", "lightning_qubit"),
        "target": "ketml adjoint <= lightning.qubit adjoint",
        "peer": "lightning_qubit",
    }


def copy_ceiling(n: int, threads: int, rounds: int = 7) -> dict[str, float]:
    """Best GB/s of ``dst.copy_(src)`` and of ``torch.mul(src, c, out=dst)`` on a complex64 state
    of ``n`` qubits (each moves 2 x state bytes: one read, one write); timed in process CPU time
    at one thread (the machine is shared), else in wall time."""
    import torch

    src = torch.randn(1 << n, dtype=torch.complex64)
    dst = torch.empty_like(src)
    nbytes = 2 * src.numel() * src.element_size()
    out = {}
    for name, fn in (
        ("copy", lambda: dst.copy_(src)),
        ("scale", lambda: torch.mul(src, 0.5, out=dst)),
    ):
        fn()
        best = min(_timed(fn, cpu=threads == 1) for _ in range(rounds))
        out[f"{name}_GBps"] = nbytes / best / 1e9
    out["ceiling_GBps"] = max(out.values())
    out["threads"] = threads
    return out


def gemm_ceiling(n: int, threads: int, d: int = 32, rounds: int = 3) -> float:
    """Best GFLOP/s of applying one ``d x d`` complex64 matrix to a state of ``n`` qubits as one
    GEMM (``(2**n / d, d) @ (d, d)``, 8 real flops per complex multiply-add): the compute
    ceiling of a fused dense pass."""
    import torch

    src = torch.randn((1 << n) // d, d, dtype=torch.complex64)
    m = torch.randn(d, d, dtype=torch.complex64)
    torch.matmul(src, m)
    best = min(_timed(lambda: torch.matmul(src, m), cpu=threads == 1) for _ in range(rounds))
    return 8 * d * (1 << n) / best / 1e9


def plan_flops(steps, n: int) -> float:
    """Real flops of a plan's passes: a dense step on k qubits does 2**k complex multiply-adds per
    amplitude (8 flops each), a diagonal one complex multiply (6 flops); gathers none."""
    total = 0.0
    for s in steps:
        if s.kind == "dense":
            total += 8 * (1 << len(s.qubits)) * (1 << n)
        elif s.kind == "diag":
            total += 6 * (1 << n)
    return total


def _timed(fn, cpu: bool = False) -> float:
    clock = time.process_time if cpu else time.perf_counter
    t0 = clock()
    fn()
    return clock() - t0


def row_width(args) -> dict[str, Any]:
    import numpy as np
    import pennylane as pnl
    import torch

    from circuits.engines.torch_engine.engine import TorchEngine, compile_circuit

    n, layers = args.wide_qubits, args.layers
    qc = brick_circuit(n, layers, seed=args.seed)
    values = np.random.default_rng(args.seed + 1).uniform(-np.pi, np.pi, qc.num_parameters)
    engine = TorchEngine(dtype="complex64")
    v = torch.tensor(values[None], dtype=torch.float32)
    ops = pennylane_ops(qc, n)
    dev = pnl.device("lightning.qubit", wires=n, c_dtype=np.complex64)

    @pnl.qnode(dev, diff_method=None)
    def state(w):
        _apply_ops(ops, w)
        return pnl.state()

    def ketml():
        with torch.no_grad():
            return engine.statevector(qc, v)

    def lightning():
        return state(values)

    a = ketml()[0].numpy()
    b = np.asarray(lightning()).reshape(-1)
    fidelity = float(abs(np.vdot(a.astype(np.complex128), b.astype(np.complex128))) ** 2)
    require_agreement("width: 1 - fidelity of ketml's and lightning.qubit's states", 1 - fidelity, 1e-4)
    plan = compile_circuit(qc).plan("sv", v, None, None)
    passes = len(plan.steps)
    state_bytes = (1 << n) * 8
    ceiling = copy_ceiling(n, args.threads)
    gflops = gemm_ceiling(n, args.threads)
    flops = plan_flops(plan.steps, n)
    log(f"width: {passes} fused passes for {len(qc.data)} gates; timing {args.repeats_width} rounds")
    peers = interleaved({"ketml": ketml, "lightning_qubit": lightning}, args.repeats_width, warmup=1)
    # at one thread the ceilings are CPU-time figures, so the achieved ones are too
    t = peers["ketml"]["median_cpu_s" if args.threads == 1 else "median_s"]
    bandwidth = {
        "gates": len(qc.data),
        "fused_passes": passes,
        "state_bytes": state_bytes,
        "achieved_GBps": passes * 2 * state_bytes / t / 1e9,
        "per_gate_effective_GBps": len(qc.data) * 2 * state_bytes / t / 1e9,
        "lightning_per_gate_effective_GBps": len(qc.data)
        * 2
        * state_bytes
        / peers["lightning_qubit"]["median_cpu_s" if args.threads == 1 else "median_s"]
        / 1e9,
        "clock": "process CPU time" if args.threads == 1 else "wall time",
        **ceiling,
    }
    bandwidth["fraction_of_ceiling"] = bandwidth["achieved_GBps"] / ceiling["ceiling_GBps"]
    bandwidth["flops"] = flops
    bandwidth["achieved_GFLOPs"] = flops / t / 1e9
    bandwidth["gemm_ceiling_GFLOPs"] = gflops
    bandwidth["compute_floor_s"] = flops / (gflops * 1e9)
    bandwidth["floor_s"] = passes * 2 * state_bytes / (ceiling["ceiling_GBps"] * 1e9)
    bound = "compute" if bandwidth["compute_floor_s"] > bandwidth["floor_s"] else "memory"
    note = (
        f"{bound}-bound: at the measured ceilings the fused passes need at least "
        f"{_ms(bandwidth['compute_floor_s'])} of arithmetic and {_ms(bandwidth['floor_s'])} of memory "
        "traffic; "
        f"ketml takes {_ms(t)}"
    )
    return {
        "what": f"state vector, {n} qubits, {layers} layers of random rotations + CNOT bricks, complex64",
        "fidelity": fidelity,
        "peers": peers,
        "ratio": _ratios(peers, "ketml", "lightning_qubit"),
        "bandwidth": bandwidth,
        "note": note,
        "target": "ketml <= lightning.qubit",
        "peer": "lightning_qubit",
    }


def row_pennylane(args, n: int) -> dict[str, Any]:
    import warnings

    import torch

    from benchmarks.engine_bench.peers import build_model

    layers, batch = 4, args.batch
    gen = torch.Generator().manual_seed(args.seed)
    w0 = torch.rand(3 * layers * n, generator=gen, dtype=torch.float64) * 2 * torch.pi
    x = torch.rand(batch, n, generator=gen, dtype=torch.float64) * torch.pi
    target = torch.rand(batch, n, generator=gen, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = {
            "ketml_pennylane_dq": build_model("ketml_pennylane_dq", n, layers, w0),
            "default_qubit": build_model("default_qubit", n, layers, w0),
        }
    probe = torch.randn(16, n, generator=gen, dtype=torch.float64)
    outs = {}
    for k, m in models.items():
        out = m(x[:16]).double()
        (g,) = torch.autograd.grad((out * probe).sum(), list(m.parameters()))
        outs[k] = (out.detach(), g.reshape(-1))
    d = max(
        max_abs_diff(outs["ketml_pennylane_dq"][0], outs["default_qubit"][0]),
        max_abs_diff(outs["ketml_pennylane_dq"][1], outs["default_qubit"][1]),
    )
    diff = require_agreement(f"pennylane n={n}: outputs/gradients of ketml's engine vs native", d, 1e-5)

    def step_of(model):
        opt = torch.optim.SGD(model.parameters(), lr=0.01)

        def step():
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x).double(), target)
            loss.backward()
            opt.step()

        return step

    repeats = args.repeats_pennylane if n <= 8 else max(3, args.repeats_pennylane // 3)
    log(f"pennylane n={n}: timing {repeats} rounds")
    peers = interleaved({k: step_of(m) for k, m in models.items()}, repeats)
    return {
        "what": f"hybrid-QNN step, n={n}, batch {batch}, 4 strongly entangling layers, "
        "default.qubit backprop",
        "n": n,
        "max_abs_diff": diff,
        "peers": peers,
        "ratio": _ratios(peers, "ketml_pennylane_dq", "default_qubit"),
        "target": "ketml pennylane engine <= 1.5x native",
        "peer": "default_qubit",
    }


# ------------------------------------------------------------------------------ report
def _ms(s: float) -> str:
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def _verdict(ratio: float, limit: float) -> str:
    return "met" if ratio <= limit else "NOT met"


def summary_rows(rows: dict[str, Any]) -> list[list[str]]:
    """One table line per timed comparison: ketml, peer, ratios, target."""
    out = []
    specs = [
        ("lightcone", "ketml", "aer", "Aer", 1.0),
        ("adjoint", "ketml_adjoint", "lightning_qubit", "lightning.qubit adjoint", 1.0),
        ("width", "ketml", "lightning_qubit", "lightning.qubit", 1.0),
    ]
    for row, ours, theirs, label, limit in specs:
        r = rows.get(row)
        if r is None:
            continue
        p = r["peers"]
        out.append(
            [
                row,
                r["what"],
                f"{_ms(p[ours]['median_s'])} ({_ms(p[ours]['median_cpu_s'])} CPU)",
                f"{label}: {_ms(p[theirs]['median_s'])} ({_ms(p[theirs]['median_cpu_s'])} CPU)",
                f"{r['ratio']['wall']:.2f}x / {r['ratio']['cpu']:.2f}x",
                f"<= {limit:g}x: {_verdict(r['ratio']['wall'], limit)} / "
                f"{_verdict(r['ratio']['cpu'], limit)}",
            ]
        )
    for key in sorted((k for k in rows if k.startswith("pennylane_")), key=lambda k: rows[k]["n"]):
        r = rows[key]
        p = r["peers"]
        out.append(
            [
                key,
                r["what"],
                f"{_ms(p['ketml_pennylane_dq']['median_s'])} "
                f"({_ms(p['ketml_pennylane_dq']['median_cpu_s'])} CPU)",
                f"PennyLane native: {_ms(p['default_qubit']['median_s'])} "
                f"({_ms(p['default_qubit']['median_cpu_s'])} CPU)",
                f"{r['ratio']['wall']:.2f}x / {r['ratio']['cpu']:.2f}x",
                f"<= 1.5x: {_verdict(r['ratio']['wall'], 1.5)} / {_verdict(r['ratio']['cpu'], 1.5)}",
            ]
        )
    return out


def render(data: dict[str, Any]) -> list[str]:
    from benchmarks.harness import markdown_table

    m = data["machine"]
    rows = data["rows"]
    lines = [
        "# perf_wide: light cones, adjoint, width, the pennylane engine (issue 22)",
        "",
        f"{m['cpu_model']}, {m['cpus_usable']} usable cores, {data['config']['threads']} thread(s) for every "
        f"peer; torch {m['versions'].get('torch')}, qiskit-aer {m['versions'].get('qiskit-aer')}, "
        f"pennylane {m['versions'].get('pennylane')} (lightning {m['versions'].get('pennylane-lightning')}); "
        f"{m['date_utc']}; load average per row below (the machine is shared).",
        "",
    ]
    by_command: dict[str, list[str]] = {}
    for key, r in rows.items():
        by_command.setdefault(r.get("command", data["config"]["command"]), []).append(key)
    for command, keys in by_command.items():
        lines.append(f"Command ({', '.join(keys)}): `nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/{command}`")
    lines.append("")
    lines += markdown_table(
        ["row", "what", "ketml (median)", "peer (median)", "ketml / peer (wall / CPU)", "target"],
        summary_rows(rows),
    )
    lines += [
        "",
        "Peers timed interleaved (one call of each per round) after agreeing with ketml "
        "(`require_agreement`); medians of wall time and of process CPU time. Ratio below 1: ketml "
        "is faster. Target verdicts: on the wall-time ratio / on the CPU-time ratio (every peer runs "
        "one thread, so CPU time is its compute; wall time also holds waiting for the other jobs).",
        "",
    ]
    for key, r in rows.items():
        extra = []
        if key == "lightcone":
            c = r["cone"]
            extra.append(
                f"light cone: {c['parts']} qubits, {c['ops_in_cone']} of {c['ops_total']} ops simulated; "
                f"Aer simulated {c['aer_active_qubits']} active qubits (all their gates)"
            )
        if key == "adjoint":
            p = r["peers"]
            extra.append(
                f"ketml backprop: {_ms(p['ketml_backprop']['median_s'])} "
                f"({r['ratio_backprop']['wall']:.2f}x / {r['ratio_backprop']['cpu']:.2f}x lightning.qubit)"
            )
        if key == "width":
            b = r["bandwidth"]
            extra.append(
                f"{b['gates']} gates in {b['fused_passes']} fused passes over a {b['state_bytes'] >> 20} MiB "
                f"state: ketml moves {b['achieved_GBps']:.1f} GB/s = "
                f"{100 * b['fraction_of_ceiling']:.0f}% of "
                f"the measured copy ceiling {b['ceiling_GBps']:.1f} GB/s (copy {b['copy_GBps']:.1f}, scale "
                f"{b['scale_GBps']:.1f}); floor at the ceiling {_ms(b['floor_s'])}; per-gate effective "
                f"bandwidth ketml {b['per_gate_effective_GBps']:.1f} GB/s, lightning.qubit "
                f"{b['lightning_per_gate_effective_GBps']:.1f} GB/s; compute: {b['flops'] / 1e9:.1f} GFLOP "
                f"at {b['achieved_GFLOPs']:.1f} GFLOP/s against a {b['gemm_ceiling_GFLOPs']:.1f} GFLOP/s "
                f"GEMM ceiling (floor {_ms(b['compute_floor_s'])}); rates in {b.get('clock', 'wall time')}"
            )
        if r.get("note"):
            extra.append(r["note"])
        load = r.get("load_average")
        lines.append(
            f"- {key}: load average {load[0]:.1f} at the start" + ("; " + "; ".join(extra) if extra else "")
            if load
            else f"- {key}: " + "; ".join(extra)
        )
    return lines


# ------------------------------------------------------------------------------ main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = new_parser(__doc__)
    add_out(parser)
    add_quick(parser, "smoke settings: 12 qubits x 6 layers, n=4 QNN, 2 repeats")
    add_threads(parser, "threads of every peer (torch, OpenMP, Aer); default 1")
    parser.add_argument("--only", nargs="*", choices=ROWS, help="rows to run (others kept from the JSON)")
    parser.add_argument("--wide-qubits", type=int, default=24)
    parser.add_argument("--layers", type=int, default=20)
    parser.add_argument("--adjoint-qubits", type=int, default=12)
    parser.add_argument("--adjoint-params", type=int, default=100)
    parser.add_argument("--adjoint-terms", type=int, default=20)
    parser.add_argument("--pennylane-qubits", type=int, nargs="*", default=[4, 8])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats-lightcone", type=int, default=7)
    parser.add_argument("--repeats-adjoint", type=int, default=21)
    parser.add_argument("--repeats-width", type=int, default=3)
    parser.add_argument("--repeats-pennylane", type=int, default=9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--summarize", action="store_true", help="only re-render the markdown from the JSON")
    args = parser.parse_args(argv)
    if args.threads is None:
        args.threads = 1
    if args.quick:
        args.wide_qubits, args.layers = 12, 6
        args.adjoint_qubits, args.adjoint_params, args.adjoint_terms = 6, 20, 5
        args.pennylane_qubits, args.batch = [4], 32
        args.repeats_lightcone = args.repeats_adjoint = args.repeats_width = args.repeats_pennylane = 2
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import json

    import torch

    torch.set_num_threads(args.threads)
    versions = {
        name: package_version(name)
        for name in ("torch", "qiskit", "qiskit-aer", "pennylane", "pennylane-lightning")
    }
    command = "python benchmarks/perf_wide.py " + " ".join(argv if argv is not None else sys.argv[1:])
    path = Path(args.out) / f"{NAME}.json"
    if args.summarize:
        data = json.loads(path.read_text())
        data["markdown"] = "\n".join(render(data))
        write_results(Path(args.out), NAME, data, data["markdown"])
        print(data["markdown"])
        return 0
    old = json.loads(path.read_text()) if args.only and path.exists() else {}
    rows: dict[str, Any] = dict(old.get("rows", {}))
    commands = dict(old.get("commands", {}))
    wanted = args.only or list(ROWS)
    t_start = time.perf_counter()
    for row in wanted:
        runs = [(f"pennylane_{n}", n) for n in args.pennylane_qubits] if row == "pennylane" else [(row, None)]
        for key, n in runs:
            load = load_average()
            log(f"row {key} (load average {load})")
            rec = row_pennylane(args, n) if row == "pennylane" else globals()[f"row_{row}"](args)
            rec["load_average"] = load
            rec["load_average_end"] = load_average()
            rec["command"] = command
            rows[key] = rec
            commands[key] = command
    data = {
        "machine": machine_info(args.threads, versions),
        "config": {
            **{k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "command": command,
        },
        "rows": rows,
        "commands": commands,
        "wall_s": time.perf_counter() - t_start,
    }
    data["markdown"] = "\n".join(render(data))
    write_results(Path(args.out), NAME, data, data["markdown"])
    print(data["markdown"])
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
