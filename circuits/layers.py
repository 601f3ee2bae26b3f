"""``QuantumLayer``: a parametrised circuit as a ``torch.nn.Module``."""

from __future__ import annotations

import math

import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVectorElement

from . import engines
from .errors import ParameterError
from .observables import ObservableLike, as_observables


def _vector_of(p) -> str | None:
    return p.vector.name if isinstance(p, ParameterVectorElement) else None


class QuantumLayer(torch.nn.Module):
    """Expectation values of ``observables`` after ``circuit``: inputs from ``forward``,
    trainable weights as an ``nn.Parameter``; output ``(B, n_obs)``.

    ``inputs`` / ``weights`` name the circuit's ``ParameterVector``s (``None`` when the
    circuit has no such vector). Weights start uniform in [0, 2pi) unless
    ``initial_weights`` is given. Values are not checked for NaN here (a diverging training run is
    reported by the trainer); the functional API (``expval``...) refuses non-finite values.

    Examples:
        >>> import math
        >>> import torch
        >>> from qiskit import QuantumCircuit
        >>> from qiskit.circuit import ParameterVector
        >>> from circuits import QuantumLayer
        >>> x, theta = ParameterVector("x", 2), ParameterVector("theta", 2)
        >>> qc = QuantumCircuit(2)
        >>> for q in range(2):
        ...     _ = qc.ry(x[q], q)
        ...     _ = qc.rx(theta[q], q)
        >>> layer = QuantumLayer(qc, ["IZ", "ZI"], initial_weights=torch.zeros(2))
        >>> layer.n_inputs, layer.n_weights
        (2, 2)
        >>> out = layer(torch.tensor([[0.0, math.pi]]))  # ry(pi) flips qubit 1
        >>> out.detach().round(decimals=6)
        tensor([[ 1., -1.]])
        >>> out.sum().backward()
        >>> layer.weights.grad.shape  # the weights are trainable parameters
        torch.Size([2])
    """

    def __init__(
        self,
        circuit: QuantumCircuit,
        observables: ObservableLike,
        *,
        inputs: str | None = "x",
        weights: str | None = "theta",
        engine: str = "torch",
        initial_weights: torch.Tensor | None = None,
        **engine_options,
    ):
        super().__init__()
        params = list(circuit.parameters)
        names = {_vector_of(p) or p.name for p in params}
        self.input_cols = [i for i, p in enumerate(params) if _vector_of(p) == inputs]
        self.weight_cols = [i for i, p in enumerate(params) if _vector_of(p) == weights]
        if inputs is not None and not self.input_cols and inputs in names:
            self.input_cols = [i for i, p in enumerate(params) if p.name == inputs]
        other = set(range(len(params))) - set(self.input_cols) - set(self.weight_cols)
        if other:
            stray = sorted({_vector_of(params[i]) or params[i].name for i in other})
            raise ParameterError(
                f"circuit parameters {stray} are neither inputs ({inputs!r}) nor weights "
                f"({weights!r}); name the vectors with inputs=/weights="
            )
        # within a vector, order by index so that forward's x[:, j] is x[j]
        self.input_cols.sort(key=lambda i: getattr(params[i], "index", 0))
        self.weight_cols.sort(key=lambda i: getattr(params[i], "index", 0))
        self.circuit = circuit
        self.observables = as_observables(observables, circuit.num_qubits)
        self.n_inputs = len(self.input_cols)
        self.n_weights = len(self.weight_cols)
        self.engine_name = engine
        self.engine_options = dict(engine_options)
        self._engine = engines.get(engine, **engine_options)
        if initial_weights is None:
            initial_weights = torch.rand(self.n_weights) * (2 * math.pi)
        initial_weights = torch.as_tensor(initial_weights, dtype=torch.get_default_dtype())
        if initial_weights.shape != (self.n_weights,):
            raise ParameterError(
                f"initial_weights must have shape ({self.n_weights},), got {tuple(initial_weights.shape)}"
            )
        self.weights = torch.nn.Parameter(initial_weights.clone())
        perm = torch.empty(len(params), dtype=torch.long)
        perm[torch.tensor(self.input_cols + self.weight_cols, dtype=torch.long)] = torch.arange(len(params))
        self.register_buffer("_column_order", perm, persistent=False)
        # weight columns are the same for every sample unless forward gets per-sample weights
        self._shared = [i in set(self.weight_cols) for i in range(len(params))]

    @property
    def n_qubits(self) -> int:
        return self.circuit.num_qubits

    def forward(self, x: torch.Tensor | None = None, weights: torch.Tensor | None = None):
        """``x``: ``(B, n_inputs)`` or ``(n_inputs,)``. ``weights`` overrides the layer's own
        weights, shape ``(n_weights,)`` or per-sample ``(B, n_weights)``."""
        w = self.weights if weights is None else weights
        if x is None:
            if self.n_inputs:
                raise ParameterError(f"this layer needs inputs of width {self.n_inputs}")
            x = w.new_zeros(w.shape[0] if w.ndim == 2 else 1, 0)
        if x.ndim == 1:
            x = x.unsqueeze(0)
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ParameterError(f"inputs must have shape (B, {self.n_inputs}); got {tuple(x.shape)}")
        batch = x.shape[0]
        shared_w = w.ndim == 1
        if w.ndim == 1:
            if w.shape[0] != self.n_weights:
                raise ParameterError(f"weights must have {self.n_weights} entries, got {w.shape[0]}")
            w = w.unsqueeze(0).expand(batch, -1)
        elif w.shape != (batch, self.n_weights):
            raise ParameterError(
                f"per-sample weights must have shape ({batch}, {self.n_weights}); got {tuple(w.shape)}"
            )
        dtype = torch.promote_types(x.dtype, w.dtype)
        values = torch.cat([x.to(dtype), w.to(dtype)], dim=1)[:, self._column_order]
        out = self._engine.expval(
            self.circuit, self.observables, values, shared=self._shared if shared_w else None
        )
        return out.to(dtype=x.dtype if x.is_floating_point() else dtype, device=x.device)

    def _apply(self, fn, *args, **kwargs):
        """Keep the engine on the module's device when the module moves."""
        out = super()._apply(fn, *args, **kwargs)
        device = self.weights.device
        if self.engine_name in ("torch", "auto") and getattr(self._engine, "device", None) != device:
            options = dict(self.engine_options, device=device)
            self._engine = engines.get("torch", **options)
        return out

    def extra_repr(self) -> str:
        return (
            f"n_qubits={self.n_qubits}, n_inputs={self.n_inputs}, n_weights={self.n_weights}, "
            f"n_obs={len(self.observables)}, engine={self.engine_name!r}"
        )


class ParallelQuantumLayer(torch.nn.Module):
    """``copies`` independent instances of one circuit, each with its own weights, side by side.

    Input ``(B, copies * n_inputs)`` is split into ``copies`` groups of ``n_inputs``; group
    ``g`` runs through the circuit with weights ``weights[g]``; the outputs are concatenated to
    ``(B, copies * n_obs)``. All ``copies * B`` evaluations are one engine call (per-sample
    weights), so parallel circuits cost one batched simulation, not a Python loop.
    """

    def __init__(
        self,
        circuit: QuantumCircuit,
        observables: ObservableLike,
        copies: int,
        *,
        inputs: str | None = "x",
        weights: str | None = "theta",
        engine: str = "torch",
        initial_weights: torch.Tensor | None = None,
        **engine_options,
    ):
        super().__init__()
        if not isinstance(copies, int) or isinstance(copies, bool) or copies < 1:
            raise ParameterError(f"copies must be a positive integer; got {copies!r}")
        self.layer = QuantumLayer(
            circuit, observables, inputs=inputs, weights=weights, engine=engine, **engine_options
        )
        self.copies = copies
        n_w = self.layer.n_weights
        if initial_weights is None:
            initial_weights = torch.rand(copies, n_w) * (2 * math.pi)
        initial_weights = torch.as_tensor(initial_weights, dtype=torch.get_default_dtype())
        if initial_weights.shape != (copies, n_w):
            raise ParameterError(
                f"initial_weights must have shape ({copies}, {n_w}), got {tuple(initial_weights.shape)}"
            )
        # the inner layer's own weights are unused (each copy has its row here): keep a
        # placeholder buffer so the layer still follows the module's device, outside state_dict
        del self.layer.weights
        self.layer.register_buffer("weights", torch.zeros(n_w), persistent=False)
        self.weights = torch.nn.Parameter(initial_weights.clone())

    @property
    def n_qubits(self) -> int:
        return self.layer.n_qubits

    @property
    def n_inputs(self) -> int:
        return self.copies * self.layer.n_inputs

    @property
    def n_outputs(self) -> int:
        return self.copies * len(self.layer.observables)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 1:
            x = x.unsqueeze(0)
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ParameterError(
                f"inputs must have shape (B, {self.n_inputs}) = (B, copies * n_inputs); got {tuple(x.shape)}"
            )
        batch, g = x.shape[0], self.copies
        # copy-major rows: row g * B + b is sample b through copy g
        n_in, n_w, n_obs = self.layer.n_inputs, self.layer.n_weights, len(self.layer.observables)
        # explicit sizes, not -1: an empty batch has no elements to infer them from
        xs = x.reshape(batch, g, n_in).transpose(0, 1).reshape(g * batch, n_in)
        ws = self.weights.unsqueeze(1).expand(g, batch, n_w).reshape(g * batch, n_w)
        out = self.layer(xs, ws)  # (g * B, n_obs)
        return out.reshape(g, batch, n_obs).transpose(0, 1).reshape(batch, g * n_obs)

    def extra_repr(self) -> str:
        return f"copies={self.copies}"
