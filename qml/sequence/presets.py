"""Training settings the sequence models share: the QLSTM/QFWP papers' regression setting and
the A2C setting of the RL experiments (``epochs`` counts episodes there)."""

from __future__ import annotations

from qml.registry import Preset

#: RMSprop on windows of 4, batches of 10, 100 epochs (arXiv 2009.01783, 2402.17760)
SERIES_TRAINING = {"epochs": 100, "batch_size": 10, "lr": 0.01, "optimizer": "rmsprop", "val_fraction": 0.0}
#: A2C: episodes, Adam's learning rate and the gradient clip
RL_PRESET = Preset(train={"epochs": 2000, "lr": 0.01, "grad_clip": 1.0})
