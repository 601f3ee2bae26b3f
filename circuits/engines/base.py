"""The engine interface every simulator or backend implements.

Callers go through :mod:`circuits.api`; an engine receives an already-validated
circuit, a ``(B, P)`` value tensor in ``circuit.parameters`` order and a list of
``SparsePauliOp`` observables, and returns torch tensors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from ..errors import ConfigurationError, KetmlError


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do, declared once beside its registry entry in :mod:`circuits.engines`.

    The API, ``ketml engines`` and the differential tests read these instead of naming engines.
    """

    statevector: bool
    """``statevector()`` returns final state vectors (shot-based hardware has none)."""
    mid_circuit: bool
    """``expval`` and ``sample`` run mid-circuit measurement, reset and ``if_test`` feed-forward."""
    exact: bool
    """Expectation values without ``shots=`` are exact (to 1e-6 in double precision), not estimates."""
    gradient: str
    """How ``expval`` is differentiated: ``"backprop+adjoint"`` (autograd or the adjoint method),
    ``"pennylane"`` (the QNode's own ``diff_method``) or ``"parameter-shift"``."""
    shots: bool = True
    """``expval(..., shots=N)`` gives shot estimates and ``sample`` draws counts."""
    mid_circuit_sample: bool | None = None
    """``sample`` runs such dynamic circuits (counts over every classical bit), even where
    ``expval`` cannot (IBM's SamplerV2 but not its EstimatorV2); ``None`` means "as ``mid_circuit``"."""

    def __post_init__(self) -> None:
        if self.mid_circuit_sample is None:
            object.__setattr__(self, "mid_circuit_sample", self.mid_circuit)
        elif self.mid_circuit and not self.mid_circuit_sample:
            raise ConfigurationError("an engine with mid_circuit=True also samples dynamic circuits")


class Engine(ABC):
    """A way to run circuits. Subclasses set ``name`` and implement the three primitives."""

    name: str = ""

    @classmethod
    def availability(cls) -> str:
        """Return ``"ok"`` or a sentence saying why this engine cannot run here."""
        return "ok"

    # options that put this engine on a GPU; ``gpu_status`` tries each one
    gpu_options: tuple[dict, ...] = ()

    @classmethod
    def gpu_status(cls) -> dict[str, str]:
        """For each GPU option (as ``"key='value'"``): ``"ok"`` or why it cannot run here."""
        out = {}
        for opts in cls.gpu_options:
            label = ", ".join(f"{k}={v!r}" for k, v in opts.items())
            try:
                cls(**opts)
                out[label] = "ok"
            except KetmlError as exc:
                out[label] = str(exc)
        return out

    @abstractmethod
    def expval(
        self,
        circuit: QuantumCircuit,
        observables: list[SparsePauliOp],
        values: torch.Tensor,
        *,
        shots: int | None = None,
        seed: int | None = None,
        shared: Sequence[bool] | None = None,
    ) -> torch.Tensor:
        """Expectation values, shape ``(B, n_obs)``, differentiable w.r.t. ``values``.

        ``shared[j]`` promises that column ``j`` is the same in every row and that only
        the sum over rows of its gradient is needed; engines may use it to save work.
        """

    @abstractmethod
    def statevector(
        self, circuit: QuantumCircuit, values: torch.Tensor, *, shared: Sequence[bool] | None = None
    ) -> torch.Tensor:
        """State vectors, shape ``(B, 2**n)`` complex, Qiskit (little-endian) order."""

    @abstractmethod
    def sample(
        self,
        circuit: QuantumCircuit,
        values: torch.Tensor,
        *,
        shots: int,
        seed: int | None,
        shared: Sequence[bool] | None = None,
    ) -> list[dict[str, int]]:
        """Measurement counts per batch entry, bitstrings in Qiskit order."""


def empty_expval(values: torch.Tensor, n_obs: int, dtype: torch.dtype) -> torch.Tensor:
    """The ``(0, n_obs)`` result of an empty batch, attached to the graph of ``values`` so that a
    training step on it backpropagates (zero-size) gradients like any other batch."""
    return values.sum(dim=1, keepdim=True).to(dtype).expand(0, n_obs)


def empty_statevector(values: torch.Tensor, n_qubits: int, dtype: torch.dtype) -> torch.Tensor:
    """The ``(0, 2**n)`` state vectors of an empty batch (no amplitudes are stored)."""
    return torch.zeros(0, 2**n_qubits, dtype=dtype, device=values.device)


def check_optional_shots(shots: object) -> None:
    """Raise a clear error unless ``shots`` is None (exact) or a positive integer."""
    if shots is not None and (not isinstance(shots, int) or isinstance(shots, bool) or shots < 1):
        raise ConfigurationError(f"shots must be a positive integer, got {shots!r}")
