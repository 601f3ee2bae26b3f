"""The hybrid-QNN training step benchmark (``qnn_step`` in the JSON).

Every peer is first cross-checked against ketml backprop (outputs and weight gradients on the
same inputs and weights), then timed: one step is ``zero_grad`` + forward + MSE + backward +
``SGD.step``. The parameter-shift peers run on ``--shift-batch`` samples against ketml timed on
that same batch, and not at all above ``--shift-max-qubits``.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from typing import Any

from benchmarks.harness import (
    CrossCheckError,
    available_memory,
    deadline,
    is_timeout,
    log,
    skip_reason,
    time_call,
)

from .peers import COMPARED_PEERS, KETML_PEERS, PEERS, SHIFT_PEERS, build_model, lightning_batching

# default.qubit's backprop keeps roughly this many complex128 batched states alive per step
# (peak RSS measured at batch 256: 61 states at 14 qubits, 64 at 15); used to skip runs that
# cannot fit in RAM rather than let the kernel's OOM killer end the run.
DEFAULT_QUBIT_STATE_COPIES = 64
TOLERANCE = 1e-4
TOO_SLOW_SHIFT = "too slow (parameter shift: 2*P evaluations per sample)"


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
            if is_timeout(exc):
                reason = f"timeout: the cross-check (batch {b}) exceeded the {budget_s:g} s budget"
            else:
                reason = skip_reason(exc)
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
    """One training step of ``model`` on ``(x, target)``: zero_grad, forward, MSE, backward, SGD."""
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
    """The parameter-shift peers' batch: ``--shift-batch``, at least 1 and at most ``--batch``."""
    return max(1, min(args.shift_batch, args.batch))


def qnn_step_benchmark(args, n_qubits: int) -> dict[str, Any]:
    """Cross-check, then time every peer at ``n_qubits``: the ``qnn_step`` record of one size."""
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
            timings[peer] = {"status": "skipped", "batch": b, "reason": skip_reason(exc)}
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


def recorded_median(rec: dict[str, Any] | None) -> float | None:
    """A timing record's median in seconds, or None when the peer was skipped."""
    if rec and rec.get("status") == "ok":
        return rec["median_s"]
    return None


def ratios(timings: dict[str, Any], batch: int | None = None) -> dict[str, Any]:
    """peer median / ketml median, against each ketml method and the faster of the two, on the
    same batch: peers timed on the shift batch are compared with ``ketml_backprop_shift_batch``."""
    out: dict[str, Any] = {}
    kb, ka = recorded_median(timings.get("ketml_backprop")), recorded_median(timings.get("ketml_adjoint"))
    best = min((t for t in (kb, ka) if t is not None), default=None)
    full = {"ketml_backprop": kb, "ketml_adjoint": ka, "ketml_best": best}
    ksb = recorded_median(timings.get("ketml_backprop_shift_batch"))
    small = {"ketml_backprop": ksb, "ketml_adjoint": None, "ketml_best": ksb}
    for peer in COMPARED_PEERS:
        rec = timings.get(peer)
        if rec is None:
            continue
        t = recorded_median(rec)
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
    kb, ka = recorded_median(timings.get("ketml_backprop")), recorded_median(timings.get("ketml_adjoint"))
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
