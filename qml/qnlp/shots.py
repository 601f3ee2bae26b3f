"""A trained model on shot-based engines: Aer with shots, an IBM (fake) backend with its noise.

Postselection becomes measurement: each shape's circuit measures its postselected qubits and the
readout qubit, and only the shots whose postselected bits match are kept (as lambeq's
``TketModel`` does); the class probabilities are the readout frequencies among them. With few
kept shots the estimate is noisy; with none it is (0.5, 0.5), reported by ``kept``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from qiskit.circuit import ParameterVector

from circuits import sample

from .model import QNLPModel

__all__ = ["shot_probabilities"]


@torch.no_grad()
def shot_probabilities(
    model: QNLPModel,
    texts: Sequence[str],
    *,
    shots: int = 8192,
    engine: str = "aer",
    seed: int | None = None,
    **engine_options: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(probabilities (B, 2), kept (B,))``: class frequencies among the postselected shots and
    the fraction of shots kept, one ``circuits.sample`` call per circuit shape."""
    texts = list(texts)
    groups: dict = {}
    for row, text in enumerate(texts):
        shape, own, _, _ = model._slots(text)
        groups.setdefault(shape, []).append((row, own))
    probs = torch.full((len(texts), 2), 0.5, dtype=torch.float64)
    kept = torch.zeros(len(texts), dtype=torch.float64)
    weights = model.weights.detach().cpu().double()
    for shape, items in groups.items():
        circuit = shape.circuit(ParameterVector("w", shape.n_slots), measured=True)
        values = weights[torch.tensor([own for _, own in items], dtype=torch.long)]
        counts = sample(circuit, {"w": values}, shots=shots, engine=engine, seed=seed, **engine_options)
        want = [v for _, v in shape.postselect]
        for (row, _), row_counts in zip(items, counts, strict=True):
            hits = [0, 0]
            for bits, count in row_counts.items():
                bits = bits.replace(" ", "")
                clbits = bits[::-1]  # clbit i at index i
                if all(int(clbits[i]) == v for i, v in enumerate(want)):
                    hits[int(clbits[len(want)])] += count
            total = sum(hits)
            kept[row] = total / shots
            if total:
                probs[row] = torch.tensor(hits, dtype=torch.float64) / total
    return probs, kept
