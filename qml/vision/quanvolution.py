"""The quanvolutional layer: every k x k image patch through one trainable circuit.

Henderson et al. (2020) style, as used by HQNN-Quanv: each patch's pixels are rotation angles
(one qubit per pixel and channel), a trainable entangling ansatz follows, and the ``<Z_i>`` of
the qubits are the output channels. All patches of all images go to the engine as one batch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from circuits import QuantumLayer
from circuits.errors import ConfigurationError, DataError
from circuits.library import angle_encoding, basic_entangler_layers, strongly_entangling_layers

__all__ = ["Quanvolution", "quanvolution_circuit"]


def quanvolution_circuit(n_qubits: int, n_layers: int, rotation: str = "Y", ansatz: str = "basic"):
    """Angle encoding of one patch (``R_rotation(x_i)`` on qubit ``i``) followed by the ansatz:
    ``"basic"`` (RX + CNOT ring, PennyLane's BasicEntanglerLayers) or ``"strong"``."""
    if ansatz == "basic":
        body = basic_entangler_layers(n_qubits, n_layers)
    elif ansatz == "strong":
        body = strongly_entangling_layers(n_qubits, n_layers)
    else:
        raise ConfigurationError(f"ansatz must be 'basic' or 'strong'; got {ansatz!r}")
    return angle_encoding(n_qubits, rotation).compose(body)


class Quanvolution(nn.Module):
    """``(B, C, H, W)`` images -> ``(B, C*k*k, H', W')`` feature maps, one qubit per patch value.

    ``scale`` multiplies pixel values before encoding (``pi``: pixels in [0, 1] span a half
    turn). ``H' = (H - k) // stride + 1``. Channel ``i`` of the output is ``<Z_i>``.
    """

    def __init__(
        self,
        in_channels: int = 1,
        kernel_size: int = 2,
        stride: int | None = None,
        n_layers: int = 4,
        *,
        rotation: str = "Y",
        ansatz: str = "basic",
        scale: float = math.pi,
        engine: str = "torch",
        **engine_options,
    ):
        super().__init__()
        if kernel_size < 1 or in_channels < 1:
            raise ConfigurationError(
                f"kernel_size and in_channels must be >= 1; got {kernel_size}, {in_channels}"
            )
        self.in_channels = in_channels
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.scale = float(scale)
        n_qubits = in_channels * kernel_size * kernel_size
        if n_qubits > 16:
            raise ConfigurationError(
                f"a {kernel_size}x{kernel_size} kernel over {in_channels} channel(s) needs {n_qubits} "
                "qubits per patch; use a smaller kernel (at most 16 qubits)"
            )
        circuit = quanvolution_circuit(n_qubits, n_layers, rotation, ansatz)
        observables = ["I" * (n_qubits - 1 - q) + "Z" + "I" * q for q in range(n_qubits)]
        self.circuit = QuantumLayer(circuit, observables, engine=engine, **engine_options)
        self.out_channels = n_qubits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise DataError(f"expected images (B, {self.in_channels}, H, W); got {tuple(x.shape)}")
        b, _, h, w = x.shape
        k, s = self.kernel_size, self.stride
        if h < k or w < k:
            raise DataError(f"images of {h}x{w} are smaller than the {k}x{k} kernel")
        h_out, w_out = (h - k) // s + 1, (w - k) // s + 1
        patches = F.unfold(x, k, stride=s)  # (B, C*k*k, L)
        flat = patches.transpose(1, 2).reshape(-1, patches.shape[1]) * self.scale
        out = self.circuit(flat)  # (B*L, n_qubits): one engine call for every patch
        return out.reshape(b, h_out * w_out, -1).transpose(1, 2).reshape(b, -1, h_out, w_out)

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
