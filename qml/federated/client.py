"""The Flower ``ClientApp``: each SuperNode trains the global VQC on its own partition.

The partition comes from ``context.node_config`` (``partition-id``, ``num-partitions``: Flower's
simulation engine sets them, a deployed SuperNode gets them with ``--node-config``); the
settings from the run config (deployment) or the :class:`FedConfig` the app was made with.
"""

from __future__ import annotations

import functools
import time

import torch
from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from circuits.errors import ConfigurationError

from .config import FedConfig, parse_faults
from .local import build_model, check_state, evaluate, local_train
from .partition import partition
from .pool import load_pool

__all__ = ["client_data", "handle_evaluate", "handle_train", "make_client_app"]


@functools.lru_cache(maxsize=4)
def _split(dataset: str, clients: int, spec: str, seed: int):
    pool = load_pool(dataset, seed=seed)
    return pool, partition(pool.y_train.numpy(), clients, spec, seed=seed)


def client_data(config: FedConfig, partition_id: int, num_partitions: int):
    """``(x, y, n_classes, dims)`` of one client's partition (cached per process)."""
    if num_partitions != config.clients:
        raise ConfigurationError(
            f"this SuperNode says num-partitions={num_partitions} but the run has clients={config.clients}"
        )
    if not 0 <= partition_id < num_partitions:
        raise ConfigurationError(f"partition-id {partition_id} is outside 0..{num_partitions - 1}")
    pool, parts = _split(config.dataset, config.clients, config.partition, config.seed)
    idx = torch.as_tensor(parts[partition_id])
    return pool.x_train[idx], pool.y_train[idx], pool.n_classes, pool.dims


def _node(context: Context) -> tuple[int, int]:
    cfg = context.node_config
    try:
        return int(cfg["partition-id"]), int(cfg["num-partitions"])
    except KeyError as exc:
        raise ConfigurationError(
            f"the SuperNode has no {exc.args[0]!r} in its node config; start it with "
            "--node-config 'partition-id=K num-partitions=N'"
        ) from None


def _config(context: Context, config: FedConfig | None) -> FedConfig:
    return config if config is not None else FedConfig.from_run_config(context.run_config)


def _model_from(msg: Message, config: FedConfig, dims):
    model = build_model(config, dims)
    state = msg.content["arrays"].to_torch_state_dict()
    check_state(model, state, "the server")
    model.load_state_dict(state)
    return model


def handle_train(msg: Message, context: Context, config: FedConfig | None = None) -> Message:
    """Local training on the received global weights; replies arrays + metrics."""
    cfg = _config(context, config)
    pid, n_parts = _node(context)
    sent = msg.content["config"]
    server_round = int(sent.get("server-round", 0))
    faults = {(kind, rnd, client) for kind, rnd, client in parse_faults(cfg.faults)}
    if ("crash", server_round, pid) in faults:
        raise RuntimeError(f"injected crash of client {pid} in round {server_round}")
    if ("slow", server_round, pid) in faults:
        time.sleep(cfg.round_timeout + 2.0)
    x, y, _, dims = client_data(cfg, pid, n_parts)
    model = _model_from(msg, cfg, dims)
    metrics = local_train(
        model,
        x,
        y,
        epochs=int(sent.get("local-epochs", cfg.local_epochs)),
        batch_size=cfg.batch_size,
        lr=float(sent.get("lr", cfg.lr)),
        seed=cfg.seed * 100_003 + server_round * 1009 + pid,
        proximal_mu=float(sent.get("proximal-mu", 0.0)),
    )
    state = model.state_dict()
    if ("shape", server_round, pid) in faults:
        state["head.weight"] = state["head.weight"][:, :-1]
    reply = RecordDict(
        {
            "arrays": ArrayRecord(state),
            "metrics": MetricRecord({**metrics, "num-examples": len(x), "partition-id": pid}),
        }
    )
    return Message(reply, reply_to=msg)


def handle_evaluate(msg: Message, context: Context, config: FedConfig | None = None) -> Message:
    """Accuracy of the received global weights on this client's partition."""
    cfg = _config(context, config)
    pid, n_parts = _node(context)
    x, y, n_classes, dims = client_data(cfg, pid, n_parts)
    scores = evaluate(_model_from(msg, cfg, dims), x, y, n_classes)
    metrics = {"local_accuracy": scores["accuracy"], "local_loss": scores["loss"], "num-examples": len(x)}
    return Message(RecordDict({"metrics": MetricRecord(metrics)}), reply_to=msg)


def make_client_app(config: FedConfig | None = None) -> ClientApp:
    """A ClientApp with the train and evaluate handlers; ``config=None`` reads the run config."""
    app = ClientApp()

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        return handle_train(msg, context, config)

    @app.evaluate()
    def evaluate_(msg: Message, context: Context) -> Message:
        return handle_evaluate(msg, context, config)

    return app
