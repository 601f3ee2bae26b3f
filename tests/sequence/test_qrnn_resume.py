"""Step-based QRNN training (:mod:`qml.sequence.qrnn_steps`): a run interrupted and resumed from
its checkpoint ends with the same weights, optimiser state and history as an uninterrupted one."""

from __future__ import annotations

import torch

from qml.sequence.qrnn import QRNN
from qml.sequence.qrnn_steps import StepConfig, evaluate, train_steps


def _data(n: int, seed: int):
    """Two classes of short bit sequences that differ in their first bit; label on the last step."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    x = torch.randint(0, 2, (n, 5, 2), generator=g)
    x[:, 0, 0] = labels
    y = torch.zeros_like(x)
    y[:, -1, 1] = labels
    m = torch.zeros(n, 5, dtype=torch.bool)
    m[:, -1] = True
    return x, y, m, labels


def _model():
    torch.manual_seed(0)
    return QRNN(2, 2, 1, 1, 2)


def test_interrupted_and_resumed_run_ends_where_an_uninterrupted_one_does(tmp_path):
    train, val = _data(40, 0), _data(20, 1)
    config = StepConfig(lr=0.05, steps=7, batch_per_class=4, eval_every=3, eval_size=20, checkpoint_every=2)
    whole = _model()
    h_whole = train_steps(whole, train, val, config, tmp_path / "whole", log=None)
    part = _model()
    h_first = train_steps(part, train, val, config, tmp_path / "split", stop_after=4, log=None)
    assert h_first["step"] == [1, 2, 3, 4]
    resumed = _model()  # a fresh process: new model, state from the checkpoint only
    h_split = train_steps(resumed, train, val, config, tmp_path / "split", log=None)
    assert h_split["step"] == list(range(1, 8))
    for a, b in zip(whole.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)
    for key in ("loss", "grad_norm", "val_accuracy", "val_argmax_accuracy", "eval_step"):
        assert h_split[key] == h_whole[key]
    # training moved the weights (the equality above is not that of two untouched models)
    assert any(not torch.equal(a, b) for a, b in zip(whole.parameters(), _model().parameters(), strict=True))
    assert (tmp_path / "split" / "best.pt").is_file()
    # a finished run resumed again does nothing more
    again = train_steps(_model(), train, val, config, tmp_path / "split", log=None)
    assert again["step"] == h_split["step"]


def test_balanced_batches_and_evaluation_counts():
    train = _data(30, 2)
    ev = evaluate(_model(), train, seed=0, batch_size=7)
    assert 0.0 <= ev["accuracy"] <= 1.0 and 0.0 <= ev["argmax_accuracy"] <= 1.0
    from qml.sequence.qrnn_steps import _batch

    idx = _batch(train[3], 6, torch.Generator().manual_seed(0))
    assert train[3][idx].bincount().tolist() == [6, 6]
