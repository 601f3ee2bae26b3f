"""The ClientApp and ServerApp pieces without a running federation: local training, the shape
check on both sides, and the server's choice of replies to aggregate."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from circuits.errors import ConfigurationError
from qml.federated.client import client_data, handle_train
from qml.federated.config import FedConfig, parse_faults
from qml.federated.local import build_model, evaluate, local_train
from qml.federated.pool import load_pool
from qml.federated.server import accept_replies

CFG = FedConfig(dataset="gaussian-classes", clients=3, rounds=2, partition="iid", qubits=3, layers=1)


def _context(cfg: FedConfig, pid: int):
    from flwr.app import Context, RecordDict

    node = {"partition-id": pid, "num-partitions": cfg.clients}
    return Context(
        run_id=1, node_id=pid, node_config=node, state=RecordDict(), run_config=cfg.to_run_config()
    )


def _train_message(model, rnd: int = 1):
    from flwr.app import ArrayRecord, ConfigRecord, Message, MessageType, RecordDict

    content = RecordDict(
        {"arrays": ArrayRecord(model.state_dict()), "config": ConfigRecord({"server-round": rnd})}
    )
    return Message(content, dst_node_id=7, message_type=MessageType.TRAIN)


def test_local_training_lowers_the_loss_and_fedprox_stays_closer():
    pool = load_pool("gaussian-classes")
    x, y = pool.x_train[:200], pool.y_train[:200]
    start = build_model(CFG, pool.dims)
    before = evaluate(start, x, y, pool.n_classes)["loss"]
    plain, prox = build_model(CFG, pool.dims), build_model(CFG, pool.dims)
    local_train(plain, x, y, epochs=3, batch_size=16, lr=0.05, seed=0)
    local_train(prox, x, y, epochs=3, batch_size=16, lr=0.05, seed=0, proximal_mu=10.0)
    assert evaluate(plain, x, y, pool.n_classes)["loss"] < before

    def drift(m):
        return sum((a - b).square().sum() for a, b in zip(m.parameters(), start.parameters(), strict=True))

    assert drift(prox) < drift(plain)


def test_config_round_trips_through_flower_run_config():
    assert FedConfig.from_run_config(CFG.to_run_config()) == CFG
    assert parse_faults("crash:1:0, slow:2:1") == [("crash", 1, 0), ("slow", 2, 1)]
    with pytest.raises(ConfigurationError, match="KIND:ROUND:CLIENT"):
        parse_faults("explode:1:0")


def test_client_trains_on_its_own_partition(flower_task):
    pool = load_pool("gaussian-classes")
    model = build_model(CFG, pool.dims)
    reply = handle_train(_train_message(model), _context(CFG, 1))
    metrics = reply.content["metrics"]
    x, _, _, _ = client_data(CFG, 1, 3)
    assert metrics["num-examples"] == len(x) == 400 and metrics["partition-id"] == 1
    new = reply.content["arrays"].to_torch_state_dict()
    assert not torch.equal(new["quantum.weights"], model.state_dict()["quantum.weights"])


def test_client_with_another_model_shape_refuses_clearly(flower_task):
    pool = load_pool("gaussian-classes")
    server_model = build_model(FedConfig(**{**CFG.to_dict(), "qubits": 2}), pool.dims)
    with pytest.raises(ConfigurationError, match="model shape mismatch with the server: .*qubits/encoding"):
        handle_train(_train_message(server_model), _context(CFG, 0))


def test_server_drops_wrong_shape_errors_and_timeouts_and_says_why(flower_task, caplog):
    from flwr.app import ArrayRecord, Message, MetricRecord, RecordDict

    pool = load_pool("gaussian-classes")
    model = build_model(CFG, pool.dims)
    expected = model.state_dict()
    request = _train_message(model)
    good = Message(
        RecordDict({"arrays": ArrayRecord(expected), "metrics": MetricRecord({"num-examples": 3})}),
        reply_to=request,
    )
    bad_state = dict(expected, **{"head.weight": expected["head.weight"][:, :-1]})
    bad = Message(
        RecordDict({"arrays": ArrayRecord(bad_state), "metrics": MetricRecord({"num-examples": 3})}),
        reply_to=request,
    )
    with caplog.at_level("WARNING", logger="ketml.federated"):
        kept, events = accept_replies([good, bad], sent=[7, 8], expected=expected, server_round=4)
    assert kept == [good]
    kinds = sorted(e["kind"] for e in events)
    assert kinds == ["shape", "timeout"]
    assert "head.weight has shape (4, 2), expected (4, 3)" in caplog.text
    assert "round 4: client on node 8 left out (timeout" in caplog.text


def test_client_partition_must_match_the_run():
    with pytest.raises(ConfigurationError, match="num-partitions=5 but the run has clients=3"):
        client_data(CFG, 0, 5)
    assert np.isfinite(len(client_data(CFG, 2, 3)[0]))
