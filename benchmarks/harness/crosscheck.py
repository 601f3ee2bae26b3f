"""Cross-checks: a peer is timed only after its numbers agree with ketml's on the same inputs.

A disagreement raises ``CrossCheckError``; ``cli.run_main`` turns it into ``CROSS-CHECK FAILED``
on stderr and exit status 2, so a benchmark never reports timings of two different models.
"""

from __future__ import annotations

from typing import Any


class CrossCheckError(AssertionError):
    """A peer's outputs or gradients disagree with ketml's."""


def max_abs_diff(a: Any, b: Any) -> float:
    """Largest ``|a - b|`` over all entries (torch tensors or numpy arrays of one shape)."""
    if tuple(a.shape) != tuple(b.shape):
        raise CrossCheckError(f"shapes differ: {tuple(a.shape)} and {tuple(b.shape)}")
    return float(abs(a - b).max())


def require_agreement(what: str, diff: float, tolerance: float) -> float:
    """Return ``diff`` when it is below ``tolerance``, else raise ``CrossCheckError`` naming
    ``what`` disagreed (a NaN difference fails too)."""
    if not diff < tolerance:
        raise CrossCheckError(
            f"{what} disagree: largest difference {diff:.2e} >= tolerance {tolerance:g}; "
            "not timing different models"
        )
    return diff
