"""The sequence training loops: regression on windows (QFWP) and the QRNN's teacher forcing."""

from __future__ import annotations

import json

import torch

from qml.sequence.qfwp import QFWP
from qml.sequence.qrnn import QRNN
from qml.sequence.training import fit_qrnn, fit_regression
from qml.training import TrainConfig


def _windows():
    t = torch.linspace(0, 12, 160, dtype=torch.float64)
    s = torch.sin(t) * torch.exp(-0.05 * t)
    x = torch.stack([s[i : i + 4] for i in range(len(s) - 4)]).unsqueeze(-1)
    y = s[4:].unsqueeze(-1)
    n = int(0.67 * len(x))
    return (x[:n], y[:n]), (x[n:], y[n:])


def test_regression_learns_writes_and_resumes(tmp_path):
    train, test = _windows()
    config = TrainConfig(epochs=4, batch_size=10, lr=0.01, optimizer="rmsprop", seed=3)

    def run(name, epochs, resume=False):
        torch.manual_seed(0)
        model = QFWP(n_qubits=4, a_dim=2, dtype="complex128").double()
        return fit_regression(
            model,
            train,
            test,
            config.updated(epochs=epochs),
            out_dir=tmp_path / name,
            progress=False,
            resume=resume,
        )

    full = run("full", 4)
    baseline = float(test[1].var())  # predicting the mean
    assert full["test_mse"] < baseline / 3
    saved = json.loads((tmp_path / "full" / "metrics.json").read_text())
    assert saved["test_mse"] == full["test_mse"] and saved["n_quantum_parameters"] == 0
    assert saved["n_parameters"] == (1 * 8 + 8) + (8 * 2 + 2) + (8 * 4 + 4) + (2 + 1)
    for png in ("curves.png", "prediction.png"):
        assert (tmp_path / "full" / png).read_bytes()[:4] == b"\x89PNG"
    run("part", 2)
    resumed = run("part", 4, resume=True)
    assert resumed["history"]["train_loss"] == full["history"]["train_loss"]


def test_qrnn_learns_to_copy_its_input(tmp_path):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    inputs = torch.randint(0, 2, (64, 6, 1), generator=g)
    mask = torch.ones(64, 6, dtype=torch.bool)
    model = QRNN(1, 2, 1, 2, 2)
    metrics = fit_qrnn(
        model,
        (inputs, inputs, mask),
        (inputs[:16], inputs[:16], mask[:16]),
        TrainConfig(epochs=15, batch_size=8, lr=0.05, grad_clip=0.5),
        out_dir=tmp_path / "q",
        progress=False,
    )
    assert metrics["history"]["test_accuracy"][0] < 0.8
    assert metrics["test_accuracy"] > 0.9 and metrics["test_argmax_accuracy"] > 0.9
    assert 0 < metrics["history"]["min_postselection_prob"][-1] <= 1
    assert (tmp_path / "q" / "postselection.png").is_file()
