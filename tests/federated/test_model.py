"""The VQC: encodings' frequency spectra, the overparameterisation count, the registered model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from circuits import QuantumLayer
from circuits.errors import ConfigurationError
from qml import registry
from qml.federated.circuit import max_frequency, overparameterised_layers, vqc_circuit
from qml.federated.model import VQCClassifier


def _spectrum(encoding: str, degree: int, n_qubits: int) -> np.ndarray:
    """|Fourier coefficients| of f(x_0) = <Z_0> with the other inputs fixed."""
    torch.manual_seed(0)
    layer = QuantumLayer(
        vqc_circuit(n_qubits, encoding, degree, 2), ["I" * (n_qubits - 1) + "Z"], dtype="complex128"
    )
    grid = torch.linspace(0, 2 * math.pi, 64 + 1, dtype=torch.float64)[:-1]
    x = torch.full((64, n_qubits), 0.7, dtype=torch.float64)
    x[:, 0] = grid
    f = layer(x)[:, 0].detach().numpy()
    return np.abs(np.fft.rfft(f)) / 64


@pytest.mark.parametrize(("encoding", "degree"), [("angle", 1), ("repeated", 3), ("exponential", 3)])
def test_spectrum_reaches_the_max_frequency_and_stops_there(encoding, degree):
    spec = _spectrum(encoding, degree, 2)
    top = max_frequency(encoding, degree)
    assert spec[top] > 1e-4  # generic weights reach the top frequency
    assert np.all(spec[top + 1 :] < 1e-10)


def test_overparameterised_layers_reach_su_dimension():
    for n in (1, 2, 3):
        layers = overparameterised_layers(n)
        assert 2 * n * layers >= 4**n - 1 > 2 * n * (layers - 1)


def test_registered_vqc_builds_and_classifies_digit_shaped_inputs():
    spec = registry.get("vqc")
    assert "image-classification" in spec.tasks and "vector-classification" in spec.tasks
    model = spec.build({"n_classes": 10, "in_channels": 1, "image_size": 8}, qubits=3, layers=1, seed=0)
    logits = model(torch.rand(5, 1, 8, 8))
    assert logits.shape == (5, 10)
    again = spec.build({"n_classes": 10, "in_channels": 1, "image_size": 8}, qubits=3, layers=1, seed=0)
    assert torch.allclose(again(torch.ones(1, 1, 8, 8)), model(torch.ones(1, 1, 8, 8)))  # seeded


def test_bad_options_are_clear_errors():
    with pytest.raises(ConfigurationError, match="unknown encoding"):
        VQCClassifier(4, 2, encoding="fourier")
    with pytest.raises(ConfigurationError, match="angle encoding has degree 1"):
        VQCClassifier(4, 2, qubits=2, encoding="angle", degree=2)
    with pytest.raises(ConfigurationError, match="one feature per qubit"):
        VQCClassifier(2, 2, qubits=4, inputs="direct")


def test_vector_task_trains_the_vqc_centrally(tmp_path):
    from qml.training.experiment import train

    _, metrics = train(
        "vqc",
        "gaussian-classes",
        out=tmp_path,
        epochs=2,
        progress=False,
        model_options={"qubits": 3, "layers": 1},
    )
    assert metrics["test_accuracy"] > 0.4  # 4 balanced classes: chance is 0.25
