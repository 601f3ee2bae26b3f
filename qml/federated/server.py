"""The Flower ``ServerApp``: rounds of FedAvg / FedProx on the VQC with a checkpoint per round.

Each round the server sends the global weights to the sampled SuperNodes, waits at most
``round_timeout`` seconds, drops (and logs) replies that are errors (a client crashed), absent
(it timed out) or of the wrong shape (its model differs), aggregates the rest with Flower's
strategy, evaluates the global model on the pooled test set, and writes ``checkpoint.pt`` and
``metrics.json``. A restarted server resumes after the last checkpointed round.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

import torch
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MessageType, RecordDict
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg, FedProx

from circuits.errors import ConfigurationError, KetmlError
from qml.training.runs import save_torch, write_json

from .config import FedConfig
from .local import build_model, evaluate, shape_mismatch
from .partition import partition
from .pool import load_pool

__all__ = ["FederationError", "accept_replies", "make_server_app", "run_server", "wait_for_nodes"]

log = logging.getLogger("ketml.federated")


class FederationError(KetmlError, RuntimeError):
    """The federation cannot go on (no SuperNodes connected in time)."""


def wait_for_nodes(grid: Grid, needed: int, timeout: float) -> list[int]:
    """The connected node ids once ``needed`` are there; FederationError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        nodes = sorted(grid.get_node_ids())
        if len(nodes) >= needed:
            return nodes
        if time.monotonic() > deadline:
            raise FederationError(
                f"only {len(nodes)} of {needed} SuperNodes connected within {timeout:g} s; check that "
                "the SuperNodes run and reach the SuperLink's Fleet API address"
            )
        time.sleep(0.5)


def _reason(msg: Message) -> str:
    """The last line of a client's error (Flower wraps the exception in Ray's traceback)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(msg.error.reason))
    lines = [line.strip() for line in text.splitlines() if line.strip() and line.strip() != "^"]
    last = lines[-1] if lines else text
    return last.split("Message: ", 1)[-1].rstrip("'>")


def accept_replies(
    replies: list[Message], sent: list[int], expected: dict[str, torch.Tensor], server_round: int
) -> tuple[list[Message], list[dict[str, Any]]]:
    """The replies fit to aggregate, and one event per client left out (crash, timeout, shape)."""
    good, events = [], []
    answered = set()
    for msg in replies:
        node = msg.metadata.src_node_id
        answered.add(node)
        if msg.has_error():
            events.append({"round": server_round, "node": node, "kind": "error", "detail": _reason(msg)})
            continue
        state = msg.content["arrays"].to_torch_state_dict()
        problem = shape_mismatch(expected, state)
        if problem is not None:
            events.append({"round": server_round, "node": node, "kind": "shape", "detail": problem})
            continue
        good.append(msg)
    for node in sorted(set(sent) - answered):
        events.append({"round": server_round, "node": node, "kind": "timeout", "detail": "no reply in time"})
    for e in events:
        log.warning(
            "round %d: client on node %s left out (%s: %s); the round goes on with the others",
            e["round"],
            e["node"],
            e["kind"],
            e["detail"],
        )
    return good, events


def _strategy(cfg: FedConfig):
    common = {"fraction_train": cfg.fraction, "fraction_evaluate": 0.0, "min_available_nodes": 1}
    if cfg.strategy == "fedprox":
        return FedProx(proximal_mu=cfg.proximal_mu, **common)
    return FedAvg(**common)


def run_server(grid: Grid, cfg: FedConfig, connect_timeout: float = 120.0) -> dict[str, Any]:
    """The whole federated training against ``grid``; returns (and writes) the metrics."""
    out = Path(cfg.out_dir or "federated-run")
    out.mkdir(parents=True, exist_ok=True)
    pool = load_pool(cfg.dataset, seed=cfg.seed)
    partition(pool.y_train.numpy(), cfg.clients, cfg.partition, seed=cfg.seed)  # fails early if impossible
    model = build_model(cfg, pool.dims)
    expected = {k: v.detach().clone() for k, v in model.state_dict().items()}
    history: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    start = 1
    ckpt = out / "checkpoint.pt"
    if cfg.resume and ckpt.is_file():
        saved = torch.load(ckpt, weights_only=False)
        problem = shape_mismatch(expected, saved["model"])
        if problem is not None:
            raise ConfigurationError(f"{ckpt} holds another model ({problem}); use a new --out folder")
        model.load_state_dict(saved["model"])
        history, events, start = saved["history"], saved["events"], saved["round"] + 1
        log.warning("resuming from %s after round %d", ckpt, saved["round"])
    strategy = _strategy(cfg)
    if start == 1:
        scores = evaluate(model, pool.x_test, pool.y_test, pool.n_classes)
        history.append({"round": 0, "test_accuracy": scores["accuracy"], "test_loss": scores["loss"]})
    for rnd in range(start, cfg.rounds + 1):
        t0 = time.perf_counter()
        nodes = wait_for_nodes(grid, cfg.clients, connect_timeout)
        k = max(1, int(round(cfg.fraction * len(nodes))))
        gen = torch.Generator().manual_seed(cfg.seed * 7919 + rnd)
        sampled = [nodes[i] for i in torch.randperm(len(nodes), generator=gen)[:k].tolist()]
        train_cfg = ConfigRecord(
            {"server-round": rnd, "lr": cfg.lr, "local-epochs": cfg.local_epochs, "proximal-mu": 0.0}
        )
        if cfg.strategy == "fedprox":
            train_cfg["proximal-mu"] = cfg.proximal_mu
        arrays = ArrayRecord(model.state_dict())
        messages = [
            Message(
                RecordDict({"arrays": arrays, "config": train_cfg}),
                dst_node_id=n,
                message_type=MessageType.TRAIN,
            )
            for n in sampled
        ]
        replies = list(grid.send_and_receive(messages, timeout=cfg.round_timeout))
        good, left_out = accept_replies(replies, sampled, expected, rnd)
        events.extend(left_out)
        record: dict[str, Any] = {"round": rnd, "clients": len(good), "left_out": len(left_out)}
        if good:
            agg, train_metrics = strategy.aggregate_train(rnd, good)
            model.load_state_dict(agg.to_torch_state_dict())
            record.update({k: float(v) for k, v in (train_metrics or {}).items() if k.startswith("train_")})
        else:
            log.warning("round %d: no usable replies; the global model is kept as it was", rnd)
        scores = evaluate(model, pool.x_test, pool.y_test, pool.n_classes)
        record.update(
            test_accuracy=scores["accuracy"], test_loss=scores["loss"], seconds=time.perf_counter() - t0
        )
        history.append(record)
        log.info("round %d: test accuracy %.4f (%d clients)", rnd, scores["accuracy"], len(good))
        save_torch(ckpt, {"model": model.state_dict(), "round": rnd, "history": history, "events": events})
        _write_metrics(out, cfg, history, events, model)
    save_torch(out / "model.pt", model.state_dict())
    return _write_metrics(out, cfg, history, events, model)


def _write_metrics(out: Path, cfg: FedConfig, history, events, model) -> dict[str, Any]:
    last = history[-1]
    metrics = {
        "config": cfg.to_dict(),
        "rounds_done": last["round"],
        "test_accuracy": last["test_accuracy"],
        "best_test_accuracy": max(h["test_accuracy"] for h in history),
        "n_parameters": sum(p.numel() for p in model.parameters()),
        "history": history,
        "events": events,
    }
    write_json(out / "metrics.json", metrics)
    return metrics


def make_server_app(
    config: FedConfig | None = None, connect_timeout: float = 120.0, errors: list | None = None
) -> ServerApp:
    """A ServerApp running :func:`run_server`; ``config=None`` reads the run config. An
    exception is also appended to ``errors`` (Flower's simulation engine only logs it)."""
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        try:
            cfg = config if config is not None else FedConfig.from_run_config(context.run_config)
            run_server(grid, cfg, connect_timeout)
        except BaseException as exc:
            if errors is not None:
                errors.append(exc)
            raise

    return app
