"""``QuantumReservoir``: a small fixed circuit driven by a time series, read out by Pauli features.

The design follows the summary of Tandon et al. (arXiv 2505.22837, corrosion QRC); no code or
circuit is public, so every knob is *inferred from the abstract* and configurable: the number of
qubits (3-5), the rotation angle of the entangler (moves the spectrum, i.e. the memory
time-scale), the number of mid-circuit measurements with reset (short vs long memory), the data
qubits, and the Pauli features. Features are exact (the channel of :mod:`.channel`) or estimated
from ``shots`` per step (each Pauli from its own ``S`` shots: ``2 Binomial(S, (1 + e) / 2) / S - 1``).
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator

from circuits.errors import ConfigurationError, DataError

from .channel import Channel, feature_labels
from .circuit import dynamic_circuit, entangler, record_means

__all__ = ["QuantumReservoir", "as_batch"]


def as_batch(series, n_inputs: int | None = None) -> torch.Tensor:
    """A series as ``(B, T, n_in)`` float64: ``(T,)`` and ``(T, n_in)`` gain the missing axes.
    :class:`DataError` for NaN/inf, an empty series or more than 3 axes."""
    x = torch.as_tensor(np.asarray(series, dtype=np.float64))
    if x.ndim == 1:
        x = x[None, :, None]
    elif x.ndim == 2:
        x = x[None]
    elif x.ndim != 3:
        raise DataError(f"a series has shape (T,), (T, n_inputs) or (B, T, n_inputs); got {tuple(x.shape)}")
    if x.shape[1] == 0:
        raise DataError("the series is empty")
    if not torch.isfinite(x).all():
        bad = (~torch.isfinite(x)).nonzero()[0].tolist()
        raise DataError(f"the series has NaN or infinite values (first at index {bad}); clean or impute it")
    if n_inputs is not None and x.shape[2] != n_inputs:
        raise DataError(f"the reservoir takes {n_inputs} input(s) per step; the series has {x.shape[2]}")
    return x


class QuantumReservoir:
    """A fixed ``n_qubits`` reservoir: per step reset + ``RY(pi x)`` on ``data_qubits``, the
    ``entangler`` of ``angle`` and ``layers`` (:func:`.circuit.entangler`), features, then measure and reset
    qubits ``0..measurements-1``; qubits ``measurements..n-1`` carry the memory.

    Inputs are expected in [0, 1] (the tasks min-max scale them); with ``n_inputs`` larger than
    ``data_qubits`` a fixed random convex combination (from ``seed``) maps them to the data qubits.
    ``paulis``/``pairs`` choose the features (:func:`.channel.feature_labels`)."""

    def __init__(
        self,
        n_qubits: int = 4,
        angle: float = 0.5,
        *,
        measurements: int = 1,
        data_qubits: int = 1,
        n_inputs: int = 1,
        paulis: str = "Z",
        pairs: bool = True,
        entangler: str = "ising",
        layers: int = 3,
        seed: int = 0,
    ):
        if n_qubits < 2:
            raise ConfigurationError(f"a reservoir needs at least 2 qubits; got {n_qubits}")
        if not 1 <= data_qubits <= n_qubits:
            raise ConfigurationError(f"data_qubits must be in 1..{n_qubits}; got {data_qubits}")
        if measurements > n_qubits:
            raise ConfigurationError(
                f"{measurements} mid-circuit measurements on a {n_qubits}-qubit reservoir: at most "
                f"{n_qubits} (qubits 0..m-1 are measured)"
            )
        if measurements < data_qubits:
            raise ConfigurationError(
                f"measurements ({measurements}) must be at least data_qubits ({data_qubits}): the data "
                "qubits are measured and reset every step"
            )
        if not paulis or set(paulis) - set("XYZ"):
            raise ConfigurationError(f"paulis must be letters of 'XYZ'; got {paulis!r}")
        self.n_qubits, self.angle, self.measurements = n_qubits, float(angle), measurements
        self.data_qubits, self.n_inputs, self.seed = data_qubits, n_inputs, seed
        self.kind, self.layers = entangler, layers
        self.entangler()  # checks kind and layers
        self.labels = feature_labels(n_qubits, paulis, pairs)
        rng = np.random.default_rng(seed + 7919)
        w = np.eye(n_inputs)
        if n_inputs != data_qubits:
            w = rng.uniform(0.2, 1.0, size=(data_qubits, n_inputs))
        self.input_weights = w / w.sum(axis=1, keepdims=True)

    @property
    def n_features(self) -> int:
        return len(self.labels)

    def entangler(self) -> QuantumCircuit:
        """The fixed step unitary (:func:`.circuit.entangler`)."""
        return entangler(self.n_qubits, self.angle, self.seed, self.kind, self.layers)

    @functools.cached_property
    def channel(self) -> Channel:
        """The exact step map (built on first use)."""
        Channel.check_size(self.n_qubits, self.measurements)
        unitary = Operator(self.entangler()).data
        return Channel.build(unitary, self.n_qubits, self.data_qubits, self.measurements, self.labels)

    def encode(self, series) -> torch.Tensor:
        """``(B, T, data_qubits)``: the inputs mapped to the data qubits, clipped to [0, 1]."""
        x = as_batch(series, self.n_inputs)
        w = torch.as_tensor(self.input_weights)
        return (x @ w.T).clamp(0.0, 1.0)

    def features(
        self, series, *, shots: int | None = None, seed: int = 0, device: str = "cpu"
    ) -> torch.Tensor:
        """``(B, T, n_features)`` (or ``(T, n_features)`` for an unbatched series): the Pauli
        expectations at every step, exact or from ``shots`` per step."""
        batched = np.ndim(series) == 3
        f = self.channel.run(self.encode(series), device=device).cpu()
        if shots is not None:
            f = shot_noise(f, shots, seed)
        return f if batched else f[0]

    def spectrum(self, x: float = 0.5) -> np.ndarray:
        """Eigenvalues of the step map for a constant input ``x`` (the onion picture)."""
        return self.channel.spectrum(np.full(self.data_qubits, x))

    def circuit(self, steps: int, *, final_measure: bool = True) -> QuantumCircuit:
        """The same reservoir as a dynamic circuit of ``steps`` steps (:func:`.circuit.dynamic_circuit`)."""
        return dynamic_circuit(
            self.n_qubits,
            steps,
            self.angle,
            data_qubits=self.data_qubits,
            measurements=self.measurements,
            seed=self.seed,
            kind=self.kind,
            layers=self.layers,
            final_measure=final_measure,
        )

    def run_dynamic(
        self, series, *, shots: int, engine: str = "aer", seed: int | None = 0, **engine_options
    ) -> np.ndarray:
        """``(T, measurements)``: the per-step means of ``Z`` on the measured qubits, from ``shots``
        runs of the dynamic circuit on ``engine`` (one whose capabilities include
        ``mid_circuit_sample``: "aer", "torch", or "ibm" with e.g. ``backend="fake_manila"``, through
        the job registry; :meth:`isa_circuit` shows the hardware circuit); one unbatched series."""
        import circuits

        x = self.encode(series)
        if x.shape[0] != 1:
            raise DataError("run_dynamic takes one series, not a batch")
        steps = x.shape[1]
        qc = self.circuit(steps)
        values = x[0].reshape(1, -1)
        counts = circuits.sample(qc, values, shots=shots, engine=engine, seed=seed, **engine_options)[0]
        return record_means(counts, steps, self.measurements)

    def isa_circuit(self, steps: int, backend="fake_manila", *, optimization_level: int = 1, seed: int = 0):
        """The dynamic circuit transpiled for an IBM ``backend`` (a backend or a fake backend's
        name): mid-circuit ``measure`` and ``reset`` kept, ready for ``SamplerV2``."""
        from qiskit import transpile

        from circuits.engines.ibm_engine import fake_backend

        target = fake_backend(backend) if isinstance(backend, str) else backend
        return transpile(
            self.circuit(steps), backend=target, optimization_level=optimization_level, seed_transpiler=seed
        )

    def measured_z(self) -> list[int]:
        """Indices into the features of ``Z`` on each measured qubit (what :meth:`run_dynamic` estimates)."""
        out = []
        for i in range(self.measurements):
            label = "".join("Z" if q == i else "I" for q in reversed(range(self.n_qubits)))
            if label not in self.labels:
                raise ConfigurationError("the features hold no single-qubit Z (use paulis with 'Z')")
            out.append(self.labels.index(label))
        return out


def shot_noise(features: torch.Tensor, shots: int, seed: int = 0) -> torch.Tensor:
    """Features estimated from ``shots`` per step and observable: ``2 Binomial(S, p) / S - 1``
    with ``p = (1 + e) / 2``."""
    if not isinstance(shots, int) or isinstance(shots, bool) or shots < 1:
        raise ConfigurationError(f"shots must be a positive integer; got {shots!r}")
    rng = np.random.default_rng(seed)
    p = np.clip((1 + features.numpy()) / 2, 0.0, 1.0)
    return torch.from_numpy(2 * rng.binomial(shots, p) / shots - 1)
