"""Suite-wide pytest setup: headless plotting, a private job registry, and `gpu` tests skipped
without a CUDA GPU."""

from __future__ import annotations

import os
import tempfile

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# the job registry of the ibm engine: never the user's ~/.ketml during tests
os.environ["KETML_HOME"] = tempfile.mkdtemp(prefix="ketml-test-home-")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(item.get_closest_marker("gpu") for item in items):
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU; torch sees none here")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(skip)
