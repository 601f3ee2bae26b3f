"""The public entry points: ``expval``, ``statevector`` and ``sample`` on any engine."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor

import torch
from qiskit import QuantumCircuit

from . import engines
from .errors import ConfigurationError, UnsupportedOperationError
from .evaluate import check_circuit, check_shots, engine_for, expval_one, sample_one
from .observables import ObservableLike
from .params import ParameterValues, split_parameter_values
from .scaleout import run_many


def _check_executor(executor) -> None:
    if executor is not None:
        raise ConfigurationError("executor= spreads a list of circuits over workers; pass a list of circuits")


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

    Examples:
        A Bell state: ``ZZ`` and ``XX`` are +1, a single ``Z`` averages to 0 (Pauli labels
        are in Qiskit order, qubit 0 right-most):

        >>> from qiskit import QuantumCircuit
        >>> from circuits import expval
        >>> bell = QuantumCircuit(2)
        >>> _ = bell.h(0)
        >>> _ = bell.cx(0, 1)
        >>> expval(bell, ["ZZ", "XX", "ZI"]).round(decimals=6)
        tensor([[1., 1., 0.]])

        A batch of parameter values gives one row each:

        >>> import math
        >>> from qiskit.circuit import Parameter
        >>> a = Parameter("a")
        >>> qc = QuantumCircuit(1)
        >>> _ = qc.ry(a, 0)
        >>> expval(qc, "Z", [[0.0], [math.pi / 2], [math.pi]]).round(decimals=6)
        tensor([[ 1.],
                [ 0.],
                [-1.]])
    """
    if not isinstance(circuit, QuantumCircuit) and isinstance(circuit, (list, tuple)):
        return run_many(
            "expval",
            circuit,
            parameter_values,
            engine=engine,
            executor=executor,
            seed=seed,
            engine_options=engine_options,
            observables=observables,
            shots=shots,
        )
    _check_executor(executor)
    return expval_one(
        circuit,
        observables,
        parameter_values,
        engine=engine,
        shots=shots,
        seed=seed,
        engine_options=engine_options,
    )


def statevector(
    circuit: QuantumCircuit,
    parameter_values: ParameterValues = None,
    *,
    engine: str | engines.Engine = "torch",
    **engine_options,
) -> torch.Tensor:
    """Final state vectors ``(B, 2**n)`` (complex), qubit 0 the least-significant bit.

    Raises ``UnsupportedOperationError`` on an engine whose capabilities declare no state
    vector (see ``circuits.engines.capabilities()``).

    Examples:
        >>> from qiskit import QuantumCircuit
        >>> from circuits import statevector
        >>> bell = QuantumCircuit(2)
        >>> _ = bell.h(0)
        >>> _ = bell.cx(0, 1)
        >>> state = statevector(bell)
        >>> state.shape, state.dtype
        (torch.Size([1, 4]), torch.complex64)
        >>> state.abs().square().round(decimals=6)  # |00> and |11>, each with probability 1/2
        tensor([[0.5000, 0.0000, 0.0000, 0.5000]])
    """
    check_circuit(circuit)
    eng = engine_for(engine, engine_options)
    caps = engines.capabilities_of(eng)
    if caps is not None and not caps.statevector:
        able = [name for name, c in engines.capabilities().items() if c.statevector]
        raise UnsupportedOperationError(
            f"the {eng.name} engine has no state vector (it returns samples and expectation "
            f"values); use expval or sample, or an engine that has one: {', '.join(able)}"
        )
    values, shared = split_parameter_values(circuit, parameter_values)
    return eng.statevector(circuit, values, shared=shared)


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

    Examples:
        >>> from qiskit import QuantumCircuit
        >>> from circuits import sample
        >>> qc = QuantumCircuit(2)
        >>> _ = qc.x(0)  # qubit 0 is the right-most character
        >>> sample(qc, shots=100, seed=1)
        [{'01': 100}]
    """
    check_shots(shots)
    if not isinstance(circuit, QuantumCircuit) and isinstance(circuit, (list, tuple)):
        return run_many(
            "sample",
            circuit,
            parameter_values,
            engine=engine,
            executor=executor,
            seed=seed,
            engine_options=engine_options,
            shots=shots,
        )
    _check_executor(executor)
    return sample_one(
        circuit, parameter_values, shots=shots, engine=engine, seed=seed, engine_options=engine_options
    )
