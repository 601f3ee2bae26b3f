"""The markdown tables of the engine benchmark (``engine_bench.md`` and the report's
``markdown``): the QNN step, the CPU and the GPU throughput, each with its notes.
"""

from __future__ import annotations

from typing import Any

from .peers import COMPARED_PEERS, PEER_LABELS, SHIFT_PEERS
from .qnn_step import TOLERANCE, TOO_SLOW_SHIFT, recorded_median
from .simulators import SIM_LABELS


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
        kb, ka = recorded_median(p.get("ketml_backprop")), recorded_median(p.get("ketml_adjoint"))
        best_s = min((t for t in (kb, ka) if t is not None), default=None)
        ksb = recorded_median(p.get("ketml_backprop_shift_batch"))
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
    """The report as markdown: the machine line, then each part's table and its notes."""
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
