"""A model family that lives outside ketml: what a user's package adds (one file), here loaded
through the ``ketml.models`` entry point by ``test_extension_point``."""

from __future__ import annotations

from torch import nn

from qml.registry import Preset, register_model


@register_model(
    "toy-plugin",
    tasks=("image-classification",),
    description="a linear classifier registered through the ketml.models entry point",
    quantum=False,
    defaults={"epochs": 1, "batch_size": 32, "val_fraction": 0.0},
    presets={"digits": Preset(data={"image_size": 8})},
)
class PluginLinear(nn.Module):
    def __init__(self, n_classes: int, in_channels: int, image_size: int):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(in_channels * image_size**2, n_classes))

    def forward(self, x):
        return self.net(x)
