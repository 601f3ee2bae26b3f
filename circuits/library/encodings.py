"""Data encodings (feature maps): classical vectors -> parametrised state-preparation circuits.

Every builder returns a ``qiskit.QuantumCircuit`` whose free parameters form one
``ParameterVector`` (``"x"`` unless the caller names or passes another). Qubit ``i`` is
PennyLane wire ``i``; amplitudes follow Qiskit's little-endian order (qubit 0 is the
least-significant bit of a basis index).
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

from ..errors import ConfigurationError, ParameterError
from ._common import ParameterSpec, check_axis, check_int, choose, parameters, rotate

__all__ = [
    "amplitude_angles",
    "amplitude_encoding",
    "angle_encoding",
    "iqp_encoding",
]


# --------------------------------------------------------------------------- angle encoding


def angle_encoding(
    n_qubits: int,
    rotation: str = "Y",
    *,
    inputs: ParameterSpec = "x",
    scale: float = 1.0,
) -> QuantumCircuit:
    """One feature per qubit as a rotation angle: ``R_rotation(scale * x_i)`` on qubit ``i``.

    Same as PennyLane's ``AngleEmbedding`` (with ``scale=1``); ``rotation`` is "X", "Y" or "Z".
    """
    n = check_int(n_qubits, "n_qubits")
    axis = check_axis(rotation)
    if not isinstance(scale, numbers.Real) or isinstance(scale, bool) or not math.isfinite(scale):
        raise ConfigurationError(f"scale must be a finite real number; got {scale!r}")
    x = parameters(inputs, n, "inputs")
    qc = QuantumCircuit(n, name=f"angle_encoding_{axis}")
    for q in range(n):
        rotate(qc, axis, x[q] if scale == 1 else scale * x[q], q)
    return qc


# ----------------------------------------------------------------------- amplitude encoding


def _gray(i: int) -> int:
    return i ^ (i >> 1)


def _multiplexer_matrix(k: int) -> np.ndarray:
    """``M[j, i] = (-1)^popcount(j & gray(i))``: RY angle seen by control pattern ``j``."""
    size = 1 << k
    return np.array(
        [[(-1) ** bin(j & _gray(i)).count("1") for i in range(size)] for j in range(size)],
        dtype=np.float64,
    )


def amplitude_encoding(
    n_qubits: int,
    amplitudes: Any = None,
    *,
    inputs: ParameterSpec = "x",
) -> QuantumCircuit:
    """State preparation of a real ``2**n`` vector by a tree of (uniformly controlled) RY gates.

    Moettoenen et al. (2004) decomposition restricted to real amplitudes: qubit ``n-1`` gets
    one RY, qubit ``t`` a ``2**(n-1-t)``-fold multiplexed RY controlled by qubits ``t+1..n-1``,
    each multiplexer written as RY gates and CNOTs (Gray-code order), so only RY/CX appear.
    The circuit has ``2**n - 1`` parameters, one per RY gate (the multiplexer angles, ordered
    qubit ``n-1`` first); :func:`amplitude_angles` computes them from data, differentiably.

    With ``amplitudes`` (an array of ``2**n`` real numbers, any sign, not necessarily
    normalised) the parameters are bound and the returned circuit prepares
    ``amplitudes / ||amplitudes||`` exactly (no global phase). Complex amplitudes would need
    an extra RZ tree and are rejected.
    """
    n = check_int(n_qubits, "n_qubits")
    theta = parameters(inputs, (1 << n) - 1, "inputs")
    qc = QuantumCircuit(n, name="amplitude_encoding")
    pos = 0
    for t in range(n - 1, -1, -1):
        k = n - 1 - t  # controls: qubits t+1 .. n-1 (bit b of a pattern <-> qubit t+1+b)
        size = 1 << k
        if k == 0:
            qc.ry(theta[pos], t)
        else:
            for i in range(size):
                qc.ry(theta[pos + i], t)
                changed = _gray(i) ^ _gray((i + 1) % size)
                qc.cx(t + 1 + changed.bit_length() - 1, t)
        pos += size
    if amplitudes is None:
        return qc
    values = _real_array(amplitudes, "amplitudes")
    if values.ndim != 1:
        raise ParameterError(f"amplitudes must be one vector; got shape {values.shape}")
    angles = amplitude_angles(torch.as_tensor(values, dtype=torch.float64), n)
    return qc.assign_parameters(dict(zip(theta, angles.tolist(), strict=True)))


def _real_array(values: Any, what: str) -> np.ndarray:
    arr = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values)
    if np.iscomplexobj(arr):
        if np.any(np.abs(arr.imag) > 1e-12):
            raise ParameterError(f"{what} are complex; amplitude_encoding supports real amplitudes only")
        arr = arr.real
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"{what} are not numeric") from None


def amplitude_angles(
    vectors: Any,
    n_qubits: int | None = None,
    *,
    pad_with: float | None = None,
) -> torch.Tensor:
    """RY angles of :func:`amplitude_encoding` for a batch of real vectors, differentiably in torch.

    ``vectors`` has shape ``(B, 2**n)`` or ``(2**n,)``; the result has shape ``(B, 2**n - 1)``
    or ``(2**n - 1,)``, in the circuit's parameter order, same dtype and device. Rows need not
    be normalised (the angles are scale invariant), so e.g. ``softmax(logits)`` of 16 features
    feeds a 4-qubit encoding directly (it prepares the L2-normalised vector). Shorter rows are
    padded with ``pad_with`` if given. Zero rows cannot be encoded (``ParameterError``).
    Gradients are finite everywhere, also where amplitudes vanish.
    """
    if isinstance(vectors, torch.Tensor):
        t = vectors
    else:
        t = torch.as_tensor(_real_array(vectors, "vectors"))
    if t.is_complex():
        raise ParameterError("vectors are complex; amplitude_encoding supports real amplitudes only")
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    single = t.ndim == 1
    if single:
        t = t.unsqueeze(0)
    if t.ndim != 2:
        raise ParameterError(f"vectors must have shape (B, 2**n) or (2**n,); got {tuple(t.shape)}")
    length = t.shape[1]
    if length == 0:
        raise ParameterError("vectors are empty")
    if n_qubits is None:
        n = max(1, math.ceil(math.log2(length)))
    else:
        n = check_int(n_qubits, "n_qubits")
    dim = 1 << n
    if length != dim:
        if pad_with is None or length > dim:
            raise ParameterError(
                f"vectors have length {length} but {n} qubit(s) need {dim} amplitudes"
                + ("" if length > dim else "; pass pad_with=0.0 to pad them")
            )
        pad = t.new_full((t.shape[0], dim - length), float(pad_with))
        t = torch.cat([t, pad], dim=1)
    with torch.no_grad():
        if not torch.isfinite(t).all():
            raise ParameterError("vectors contain NaN or infinite values")
        zero_rows = (t == 0).all(dim=1).nonzero().flatten().tolist()
    if zero_rows:
        raise ParameterError(f"vector(s) at row(s) {zero_rows[:8]} are all zero and cannot be encoded")

    batch = t.shape[0]
    tiny = torch.finfo(t.dtype).tiny
    out = []
    for q in range(n - 1, -1, -1):
        k = n - 1 - q
        blocks = t.reshape(batch, 1 << k, 2, 1 << q)
        if q == 0:
            left, right = blocks[..., 0, 0], blocks[..., 1, 0]  # signed leaf amplitudes
            both_zero = (left == 0) & (right == 0)
            left = torch.where(both_zero, torch.ones_like(left), left)
        else:
            norms = blocks.square().sum(-1).clamp_min(tiny).sqrt()
            left, right = norms[..., 0], norms[..., 1]
        alpha = 2.0 * torch.atan2(right, left)  # tree angle per control pattern, (B, 2**k)
        m = torch.as_tensor(_multiplexer_matrix(k), dtype=t.dtype, device=t.device)
        out.append(alpha @ m / (1 << k))
    angles = torch.cat(out, dim=1)
    return angles[0] if single else angles


# ------------------------------------------------------------------------------ IQP encoding

_PAIR_MAPS = {"product": "product", "pi_minus": "pi_minus", "havlicek": "pi_minus"}


def _pairs(spec: str | Sequence[Sequence[int]], n: int) -> list[tuple[int, int]]:
    if isinstance(spec, str):
        kind = choose(spec, {"full": "full", "linear": "linear", "ring": "ring"}, "pairs")
        if kind == "full":
            return list(itertools.combinations(range(n), 2))
        linear = [(i, i + 1) for i in range(n - 1)]
        return linear + ([(n - 1, 0)] if kind == "ring" and n > 2 else [])
    out = []
    for pair in spec:
        try:
            a, b = (int(v) for v in pair)
        except (TypeError, ValueError):
            raise ConfigurationError(f"pairs must hold (i, j) qubit pairs; got {pair!r}") from None
        if not (0 <= a < n and 0 <= b < n) or a == b:
            raise ConfigurationError(f"pair {tuple(pair)} is not two distinct qubits of 0..{n - 1}")
        out.append((a, b))
    return out


def iqp_encoding(
    n_qubits: int,
    reps: int = 2,
    *,
    inputs: ParameterSpec = "x",
    pairs: str | Sequence[Sequence[int]] = "full",
    pair_map: str = "product",
) -> QuantumCircuit:
    """IQP feature map (Havlicek et al. 2019): ``reps`` times [H on all, RZ(x_i), RZZ(phi_ij)].

    ``phi_ij = x_i * x_j`` ("product": PennyLane's ``IQPEmbedding`` exactly, ``MultiRZ`` =
    ``RZZ``) or ``(pi - x_i) * (pi - x_j)`` ("pi_minus", the data map of Havlicek / Qiskit's
    ``ZZFeatureMap``; alias "havlicek"). ``pairs`` is "full" (all i<j, the default),
    "linear", "ring" or an explicit list of qubit pairs. The pair angles are
    ``ParameterExpression``s of ``x``. ``reps`` defaults to 2 as in Havlicek et al.
    """
    n = check_int(n_qubits, "n_qubits")
    r = check_int(reps, "reps")
    kind = choose(pair_map, _PAIR_MAPS, "pair_map")
    pair_list = _pairs(pairs, n)
    x = parameters(inputs, n, "inputs")

    def phi(a: Parameter, b: Parameter):
        return a * b if kind == "product" else (math.pi - a) * (math.pi - b)

    qc = QuantumCircuit(n, name="iqp_encoding")
    for _ in range(r):
        for q in range(n):
            qc.h(q)
            qc.rz(x[q], q)
        for a, b in pair_list:
            qc.rzz(phi(x[a], x[b]), a, b)
    return qc
