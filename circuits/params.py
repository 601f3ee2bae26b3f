"""Turn user parameter values into one ``(B, P)`` tensor in ``circuit.parameters`` order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter, ParameterVectorElement

from .errors import ParameterError

ParameterValues = torch.Tensor | np.ndarray | Mapping[str, Any] | list | tuple | None


def _as_tensor(value: Any, what: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        t = value
    else:
        try:
            t = torch.as_tensor(np.asarray(value, dtype=np.float64))
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"{what} is not numeric: {exc}") from None
    if t.is_complex():
        raise ParameterError(f"{what} is complex; parameter values must be real")
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    return t


def _group_key(p: Parameter) -> tuple[str, int | None]:
    if isinstance(p, ParameterVectorElement):
        return p.vector.name, p.index
    return p.name, None


def parameter_values(circuit: QuantumCircuit, values: ParameterValues) -> torch.Tensor:
    """Return a ``(B, P)`` float tensor of values in ``circuit.parameters`` order (see
    :func:`split_parameter_values`)."""
    return split_parameter_values(circuit, values)[0]


def split_parameter_values(
    circuit: QuantumCircuit, values: ParameterValues
) -> tuple[torch.Tensor, list[bool] | None]:
    """Return ``(values, shared)``: a ``(B, P)`` tensor in ``circuit.parameters`` order and,
    for dict input, which columns were given once for the whole batch (else None).

    ``values`` is a ``(B, P)`` or ``(P,)`` tensor/array, or a dict keyed by
    ``ParameterVector`` name (value ``(B, len)`` or ``(len,)``) or by plain
    ``Parameter`` name (value ``(B,)`` or scalar). Gradients flow through.
    """
    params = list(circuit.parameters)
    n_par = len(params)
    if values is None:
        if n_par:
            names = ", ".join(p.name for p in params[:6]) + (" ..." if n_par > 6 else "")
            raise ParameterError(
                f"the circuit has {n_par} unbound parameter(s) ({names}) but no values were given"
            )
        return torch.zeros(1, 0), None
    if isinstance(values, Mapping):
        return _from_mapping(params, values)
    t = _as_tensor(values, "parameter values")
    if t.ndim == 0:
        t = t.reshape(1)
    if t.ndim == 1:
        t = t.unsqueeze(0)
    if t.ndim != 2:
        raise ParameterError(
            f"parameter values must have shape (B, {n_par}) or ({n_par},); got {tuple(t.shape)}"
        )
    if t.shape[1] != n_par:
        raise ParameterError(
            f"the circuit has {n_par} parameter(s) but {t.shape[1]} value(s) per sample were given"
        )
    return t, None


def _from_mapping(params: list[Parameter], values: Mapping[str, Any]) -> tuple[torch.Tensor, list[bool]]:
    groups: dict[str, list[tuple[int, int | None]]] = {}
    for col, p in enumerate(params):
        name, idx = _group_key(p)
        groups.setdefault(name, []).append((col, idx))
    unknown = [k for k in values if k not in groups]
    if unknown:
        raise ParameterError(f"unknown parameter name(s) {unknown}; the circuit has {sorted(groups)}")
    missing = [k for k in groups if k not in values]
    if missing:
        raise ParameterError(f"no values given for parameter(s) {missing}")
    columns: list[torch.Tensor | None] = [None] * len(params)
    batch = 1
    tensors = {}
    for name, members in groups.items():
        t = _as_tensor(values[name], f"values for {name!r}")
        is_vector = members[0][1] is not None
        if is_vector:
            length = max(i for _, i in members) + 1
            if t.ndim == 1:
                t = t.unsqueeze(0)
            if t.ndim != 2 or t.shape[1] != length:
                raise ParameterError(
                    f"values for vector {name!r} must have shape (B, {length}) or ({length},); "
                    f"got {tuple(values[name].shape) if hasattr(values[name], 'shape') else t.shape}"
                )
        else:
            if t.ndim == 0:
                t = t.reshape(1)
            if t.ndim == 2 and t.shape[1] == 1:
                t = t[:, 0]
            if t.ndim != 1:
                raise ParameterError(f"values for parameter {name!r} must be a scalar or have shape (B,)")
            t = t.unsqueeze(1)
        tensors[name] = t
        if t.shape[0] != 1:
            if batch != 1 and t.shape[0] != batch:
                raise ParameterError(
                    f"batch sizes disagree: {name!r} has {t.shape[0]} rows, another has {batch}"
                )
            batch = t.shape[0]
    dtype = (
        torch.promote_types(*(t.dtype for t in tensors.values()))
        if len(tensors) > 1
        else next(iter(tensors.values())).dtype
    )
    shared = [False] * len(params)
    for name, members in groups.items():
        t = tensors[name].to(dtype)
        once = t.shape[0] == 1
        t = t.expand(batch, -1)
        for col, idx in members:
            columns[col] = t[:, idx if idx is not None else 0]
            shared[col] = once
    return torch.stack(columns, dim=1), shared  # type: ignore[arg-type]
