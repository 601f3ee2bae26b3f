"""One circuit on one engine: the checks and engine calls behind ``expval`` and ``sample``.

:mod:`circuits.api` (the public entry points) and :mod:`circuits.scaleout` (many circuits, maybe
on workers) both build on this module, so neither imports the other.
"""

from __future__ import annotations

import torch
from qiskit import QuantumCircuit

from . import engines
from .errors import ConfigurationError, KetmlError
from .observables import ObservableLike, as_observables
from .params import ParameterValues, split_parameter_values


def check_circuit(circuit: QuantumCircuit) -> None:
    """Raise a clear error unless ``circuit`` is a ``qiskit.QuantumCircuit``."""
    if not isinstance(circuit, QuantumCircuit):
        raise KetmlError(
            f"expected a qiskit.QuantumCircuit, got {type(circuit).__name__}; "
            "use circuits.qasm.loads(text) for OpenQASM"
        )


def check_shots(shots: object) -> None:
    """Raise a clear error unless ``shots`` is a positive integer."""
    if not isinstance(shots, int) or isinstance(shots, bool) or shots < 1:
        raise ConfigurationError(f"shots must be a positive integer, got {shots!r}")


def engine_for(engine: str | engines.Engine, options: dict) -> engines.Engine:
    """``engine`` itself when it is an engine object, else the engine of that name built with ``options``."""
    if isinstance(engine, engines.Engine):
        return engine
    return engines.get(engine, **options)


def expval_one(
    circuit: QuantumCircuit,
    observables: ObservableLike,
    parameter_values: ParameterValues,
    *,
    engine: str | engines.Engine,
    shots: int | None,
    seed: int | None,
    engine_options: dict,
) -> torch.Tensor:
    """Expectation values ``(B, n_obs)`` of one circuit; differentiable."""
    check_circuit(circuit)
    obs = as_observables(observables, circuit.num_qubits)
    values, shared = split_parameter_values(circuit, parameter_values)
    return engine_for(engine, engine_options).expval(
        circuit, obs, values, shots=shots, seed=seed, shared=shared
    )


def sample_one(
    circuit: QuantumCircuit,
    parameter_values: ParameterValues,
    *,
    shots: int,
    engine: str | engines.Engine,
    seed: int | None,
    engine_options: dict,
) -> list[dict[str, int]]:
    """Counts of ``shots`` measurements of one circuit, per batch entry."""
    check_shots(shots)
    check_circuit(circuit)
    values, shared = split_parameter_values(circuit, parameter_values)
    return engine_for(engine, engine_options).sample(circuit, values, shots=shots, seed=seed, shared=shared)
