"""Argument checks and parameter-vector plumbing shared by the circuit library builders."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from qiskit import QuantumCircuit
from qiskit.circuit import Parameter, ParameterExpression, ParameterVector

from ..errors import ConfigurationError, ParameterError

# What a caller may pass for a block of symbolic parameters: a vector name, an existing
# ParameterVector, or any sequence of Parameters (e.g. a slice ``theta[8:20]`` of a larger vector).
ParameterSpec = str | ParameterVector | Sequence[Parameter]

_AXES = {"X": "rx", "Y": "ry", "Z": "rz"}


def check_int(value: object, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int; raise ``ConfigurationError`` unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigurationError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if value < minimum:
        raise ConfigurationError(f"{name} must be an integer >= {minimum}; got {value}")
    return int(value)


def check_axis(rotation: object, name: str = "rotation") -> str:
    """Normalise a rotation axis ("X", "y", "RZ", ...) to "X", "Y" or "Z"."""
    if isinstance(rotation, str):
        axis = rotation.strip().upper()
        if axis.startswith("R") and len(axis) == 2:
            axis = axis[1]
        if axis in _AXES:
            return axis
    raise ConfigurationError(f"unknown {name} {rotation!r}; expected one of 'X', 'Y', 'Z'")


def rotate(qc: QuantumCircuit, axis: str, angle: ParameterExpression | float, qubit: int) -> None:
    """Append RX/RY/RZ(angle) on ``qubit``; ``axis`` must come from :func:`check_axis`."""
    getattr(qc, _AXES[axis])(angle, qubit)


def parameters(spec: ParameterSpec, length: int, role: str) -> list[Parameter]:
    """Turn a parameter spec into exactly ``length`` Parameters (a new vector for a name).

    ``role`` ("inputs" or "weights") only serves the error message.
    """
    if isinstance(spec, str):
        if not spec:
            raise ParameterError(f"{role}: a parameter vector name must be a non-empty string")
        return list(ParameterVector(spec, length))
    if isinstance(spec, ParameterVector) or (
        isinstance(spec, Sequence) and all(isinstance(p, Parameter) for p in spec)
    ):
        params = list(spec)
        if len(params) != length:
            raise ParameterError(
                f"{role}: the circuit needs {length} parameter(s) but {len(params)} were given"
            )
        return params
    raise ParameterError(
        f"{role} must be a vector name, a ParameterVector or a sequence of Parameters; "
        f"got {type(spec).__name__}"
    )


def choose(value: object, options: dict[str, str], name: str) -> str:
    """Look a case-insensitive option up in ``options`` (alias -> canonical) or raise ConfigurationError."""
    key = value.strip().lower() if isinstance(value, str) else None
    if key not in options:
        raise ConfigurationError(f"unknown {name} {value!r}; expected one of {sorted(set(options))}")
    return options[key]
