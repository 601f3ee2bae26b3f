"""The shared trainer: learning, metrics.json, reproducibility, resume, early stopping, config errors."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from qml.training import TrainConfig, fit
from qml.training.augment import random_affine


def _blobs(n, seed):
    """Two classes of 1x4x4 images: bright top half or bright bottom half, with noise."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.rand(n, 1, 4, 4, generator=g) * 0.3
    x[y == 0, :, :2] += 0.6
    x[y == 1, :, 2:] += 0.6
    return x.clamp(0, 1), y


def _model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 2))


def _fit(tmp_path, name, epochs=3, resume=False, model=None, **cfg):
    config = TrainConfig(**{"epochs": epochs, "batch_size": 16, "lr": 0.05, "seed": 1, **cfg})
    return fit(
        model or _model(),
        _blobs(128, 0),
        _blobs(64, 1),
        _blobs(64, 2),
        config,
        out_dir=tmp_path / name,
        n_classes=2,
        progress=False,
        resume=resume,
    )


def test_learns_and_writes_metrics_and_plots(tmp_path):
    metrics = _fit(tmp_path, "run")
    assert metrics["test_accuracy"] > 0.9
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    for key in ("test_accuracy", "n_parameters", "epochs", "seconds_per_epoch", "history", "confusion"):
        assert key in saved
    assert saved["n_parameters"] == 16 * 8 + 8 + 8 * 2 + 2 and saved["epochs"] == 3
    assert sum(map(sum, saved["confusion"])) == 64
    for png in ("curves.png", "confusion.png"):
        assert (tmp_path / "run" / png).read_bytes()[:4] == b"\x89PNG"


def test_same_seed_same_history_and_resume_continues_exactly(tmp_path):
    a = _fit(tmp_path, "a", epochs=3)
    b = _fit(tmp_path, "b", epochs=3)
    assert a["history"]["train_loss"] == b["history"]["train_loss"]
    _fit(tmp_path, "c", epochs=2)
    c = _fit(tmp_path, "c", epochs=3, resume=True)
    assert c["epochs"] == 3
    assert c["history"]["train_loss"] == pytest.approx(a["history"]["train_loss"], abs=1e-6)
    assert c["test_accuracy"] == a["test_accuracy"]


def test_early_stopping_stops_when_validation_stalls(tmp_path):
    metrics = _fit(
        tmp_path, "stall", epochs=10, patience=2, model=_model(), optimizer="sgd", momentum=0.0, lr=1e-12
    )
    assert metrics["stopped_early"] and metrics["epochs"] == 3 and metrics["best_epoch"] == 1


def test_schedules_and_augmentation_run(tmp_path):
    for scheduler, opts in (
        ("cosine", {}),
        ("onecycle", {"max_lr": 0.1}),
        ("cosine-restarts", {"T_0": 1}),
        ("step", {}),
    ):
        m = _fit(
            tmp_path,
            scheduler,
            epochs=2,
            scheduler=scheduler,
            scheduler_options=opts,
            augment="affine",
            grad_clip=1.0,
            label_smoothing=0.1,
        )
        assert len(m["history"]["lr"]) == 2
    assert m["history"]["lr"][1] < 0.05  # the step schedule lowered the rate


def test_random_affine_identity_and_bounds():
    x = torch.rand(3, 1, 8, 8)
    torch.testing.assert_close(random_affine(x, degrees=0.0, translate=0.0), x, atol=1e-6, rtol=0)
    moved = random_affine(x, generator=torch.Generator().manual_seed(0))
    assert moved.shape == x.shape and not torch.allclose(moved, x)
    assert moved.min() >= 0 and moved.max() <= 1


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="lbfgs")
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="val_fraction"):
        TrainConfig(val_fraction=1.0)
    with pytest.raises(ValueError, match="unknown training settings"):
        TrainConfig.from_dict({"epochs": 1, "learning_rate": 0.1})


def test_resume_without_checkpoint_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="checkpoint"):
        _fit(tmp_path, "none", resume=True)


def test_diverging_loss_is_reported(tmp_path):
    model = _model()
    with torch.no_grad():
        model[1].weight.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="loss"):
        _fit(tmp_path, "nan", model=model)


def test_writing_plots_keeps_the_users_matplotlib_backend(tmp_path):
    """A notebook's inline backend survives training: the run's PNGs are drawn without pyplot."""
    import os
    import subprocess
    import sys

    code = (
        "import matplotlib, pathlib, sys\n"
        "from qml.training.plots import plot_curves\n"
        "from qml.rl.a2c import _plot_returns\n"
        "d = pathlib.Path(sys.argv[1])\n"
        "plot_curves({'train_loss': [1.0, 0.5], 'val_loss': [1.1, 0.6]}, d / 'c.png')\n"
        "_plot_returns([1.0, 2.0, 3.0], 2, 3.0, d / 'r.png', 'returns')\n"
        "import matplotlib.pyplot as plt\n"
        "print(matplotlib.get_backend(), len(plt.get_fignums()), (d / 'c.png').stat().st_size > 0)\n"
    )
    env = {**os.environ, "MPLBACKEND": "svg"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["svg", "0", "True"]
