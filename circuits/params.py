"""Turn user parameter values into one ``(B, P)`` tensor in ``circuit.parameters`` order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter, ParameterVector, ParameterVectorElement

from .errors import ParameterError

ParameterValues = torch.Tensor | np.ndarray | Mapping[Any, Any] | list | tuple | None


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
    ``Parameter`` name (value ``(B,)`` or scalar); as in Qiskit's ``assign_parameters``, keys may
    also be ``Parameter`` objects (vector elements included: ``{theta[0]: 0.3}``), element names
    (``"theta[0]"``) or ``ParameterVector`` objects. Gradients flow through. NaN or infinite
    values are refused with a :class:`ParameterError` naming the parameter.
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
        t, shared = _from_mapping(params, values)
        check_finite(t, params)
        return t, shared
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
    check_finite(t, params)
    return t, None


def check_finite(values: torch.Tensor, params: list[Parameter]) -> None:
    """Refuse NaN or infinite values, naming the first such parameter and row: they would only
    turn every result into NaN. One ``isfinite().all()`` per call; the search runs on failure."""
    if values.numel() == 0 or bool(torch.isfinite(values.detach()).all()):
        return
    bad = (~torch.isfinite(values.detach())).nonzero()
    row, col = (int(i) for i in bad[0])
    name = params[col].name if col < len(params) else f"column {col}"
    more = f" ({len(bad)} values in all)" if len(bad) > 1 else ""
    raise ParameterError(
        f"parameter {name} has the non-finite value {float(values[row, col])} in row {row}{more}; "
        "parameter values must be finite numbers"
    )


def _from_mapping(params: list[Parameter], values: Mapping[Any, Any]) -> tuple[torch.Tensor, list[bool]]:
    """Values keyed as Qiskit's ``assign_parameters`` accepts them: by name (a vector's, an
    element's like ``"theta[0]"``, or a plain parameter's), by ``Parameter`` object (vector
    elements included) or by ``ParameterVector`` (a sequence, or ``(B, len)``)."""
    known = set(params)
    column = {p: col for col, p in enumerate(params)}
    by_name = {p.name: p for p in params}
    vectors: dict[str, list[tuple[int, int]]] = {}
    for col, p in enumerate(params):
        if isinstance(p, ParameterVectorElement):
            vectors.setdefault(p.vector.name, []).append((col, p.index))
    units: list[tuple[str, Any, list[int | None], bool]] = []  # (label, value, columns, is a vector)
    unknown: list[str] = []
    for key, value in values.items():
        if isinstance(key, ParameterVector):
            if not any(e in known for e in key):
                unknown.append(f"{key.name} (a ParameterVector the circuit does not use)")
                continue
            units.append((key.name, value, [column.get(e) for e in key], True))
        elif isinstance(key, Parameter):
            if key not in known:
                same = by_name.get(key.name)
                unknown.append(
                    f"{key.name} (a different Parameter object from the circuit's one of that name)"
                    if same is not None
                    else key.name
                )
                continue
            units.append((key.name, value, [column[key]], False))
        elif isinstance(key, str) and key in vectors and key not in by_name:
            members = vectors[key]
            slots: list[int | None] = [None] * (max(i for _, i in members) + 1)
            for col, i in members:
                slots[i] = col
            units.append((key, value, slots, True))
        elif isinstance(key, str) and key in by_name:
            units.append((key, value, [column[by_name[key]]], False))
        else:
            unknown.append(repr(key) if not isinstance(key, str) else key)
    if unknown:
        names = sorted({_group_key(p)[0] for p in params})
        raise ParameterError(f"unknown parameter name(s) {unknown}; the circuit has {names}")
    owner: dict[int, str] = {}
    for label, _, cols, _ in units:
        for col in cols:
            if col is None:
                continue
            if col in owner:
                raise ParameterError(
                    f"parameter {params[col].name} is given twice (by {owner[col]!r} and by {label!r})"
                )
            owner[col] = label
    missing = sorted({_group_key(p)[0] for col, p in enumerate(params) if col not in owner})
    if missing:
        raise ParameterError(f"no values given for parameter(s) {missing}")
    batch = 1
    tensors = []
    for label, value, cols, is_vector in units:
        t = _as_tensor(value, f"values for {label!r}")
        if is_vector:
            if t.ndim == 1:
                t = t.unsqueeze(0)
            if t.ndim != 2 or t.shape[1] != len(cols):
                got = tuple(value.shape) if hasattr(value, "shape") else tuple(t.shape)
                raise ParameterError(
                    f"values for vector {label!r} must have shape (B, {len(cols)}) or ({len(cols)},); "
                    f"got {got}"
                )
        else:
            if t.ndim == 0:
                t = t.reshape(1)
            if t.ndim == 2 and t.shape[1] == 1:
                t = t[:, 0]
            if t.ndim != 1:
                raise ParameterError(f"values for parameter {label!r} must be a scalar or have shape (B,)")
            t = t.unsqueeze(1)
        if t.shape[0] != 1:
            if batch != 1 and t.shape[0] != batch:
                raise ParameterError(
                    f"batch sizes disagree: {label!r} has {t.shape[0]} rows, another has {batch}"
                )
            batch = t.shape[0]
        tensors.append((t, cols))
    if not tensors:
        return torch.zeros(1, 0), []
    dtype = tensors[0][0].dtype
    for t, _ in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    columns: list[torch.Tensor | None] = [None] * len(params)
    shared = [False] * len(params)
    for t, cols in tensors:
        once = t.shape[0] == 1
        t = t.to(dtype).expand(batch, -1)
        for j, col in enumerate(cols):
            if col is not None:
                columns[col] = t[:, j]
                shared[col] = once
    return torch.stack(columns, dim=1), shared  # type: ignore[arg-type]
