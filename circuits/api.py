"""The public entry points: ``expval``, ``statevector`` and ``sample`` on any engine."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor

import torch
from qiskit import QuantumCircuit

from . import engines
from .errors import KetmlError
from .observables import ObservableLike, as_observables
from .params import ParameterValues, split_parameter_values
from .scaleout import run_many


def _check_circuit(circuit: QuantumCircuit) -> None:
    if not isinstance(circuit, QuantumCircuit):
        raise KetmlError(
            f"expected a qiskit.QuantumCircuit, got {type(circuit).__name__}; "
            "use circuits.qasm.loads(text) for OpenQASM"
        )


def _check_executor(executor) -> None:
    if executor is not None:
        raise KetmlError("executor= spreads a list of circuits over workers; pass a list of circuits")


def _engine(engine: str | engines.Engine, options: dict) -> engines.Engine:
    if isinstance(engine, engines.Engine):
        return engine
    return engines.get(engine, **options)


def expval(
    circuit: QuantumCircuit | Sequence[QuantumCircuit],
    observables: ObservableLike,
    parameter_values: ParameterValues | list[ParameterValues] = None,
    *,
    engine: str | engines.Engine = "torch",
    shots: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    **engine_options,
) -> torch.Tensor | list[torch.Tensor]:
    """Expectation values ``(B, n_obs)`` of ``observables`` after ``circuit``; differentiable.

    Given a list of circuits (and a list of their parameter values), returns a list of
    results; ``executor=`` (any ``concurrent.futures.Executor``, e.g. Dask's
    ``Client.get_executor()``) spreads them over workers.
    """
    if not isinstance(circuit, QuantumCircuit) and isinstance(circuit, (list, tuple)):
        return run_many("expval", circuit, parameter_values, engine=engine, executor=executor,
                        seed=seed, engine_options=engine_options, observables=observables, shots=shots)
    _check_executor(executor)
    _check_circuit(circuit)
    obs = as_observables(observables, circuit.num_qubits)
    values, shared = split_parameter_values(circuit, parameter_values)
    return _engine(engine, engine_options).expval(
        circuit, obs, values, shots=shots, seed=seed, shared=shared
    )


def statevector(
    circuit: QuantumCircuit,
    parameter_values: ParameterValues = None,
    *,
    engine: str | engines.Engine = "torch",
    **engine_options,
) -> torch.Tensor:
    """Final state vectors ``(B, 2**n)`` (complex), qubit 0 the least-significant bit."""
    _check_circuit(circuit)
    values, shared = split_parameter_values(circuit, parameter_values)
    return _engine(engine, engine_options).statevector(circuit, values, shared=shared)


def sample(
    circuit: QuantumCircuit | Sequence[QuantumCircuit],
    parameter_values: ParameterValues | list[ParameterValues] = None,
    *,
    shots: int,
    engine: str | engines.Engine = "torch",
    seed: int | None = None,
    executor: Executor | None = None,
    **engine_options,
) -> list[dict[str, int]] | list[list[dict[str, int]]]:
    """Counts of ``shots`` measurements per batch entry; bitstrings in Qiskit order.

    Bitstrings cover the circuit's classical bits when it measures into them,
    otherwise all qubits (qubit 0 right-most). A list of circuits gives a list of
    results, spread over ``executor=`` when one is given.
    """
    if not isinstance(shots, int) or isinstance(shots, bool) or shots < 1:
        raise KetmlError(f"shots must be a positive integer, got {shots!r}")
    if not isinstance(circuit, QuantumCircuit) and isinstance(circuit, (list, tuple)):
        return run_many("sample", circuit, parameter_values, engine=engine, executor=executor,
                        seed=seed, engine_options=engine_options, shots=shots)
    _check_executor(executor)
    _check_circuit(circuit)
    values, shared = split_parameter_values(circuit, parameter_values)
    return _engine(engine, engine_options).sample(
        circuit, values, shots=shots, seed=seed, shared=shared
    )
