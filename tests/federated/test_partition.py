"""Partitioning a pool among clients: IID, Dirichlet label skew, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

from circuits.errors import ConfigurationError, DataError
from qml.federated.partition import label_histogram, parse_partition, partition

LABELS = np.repeat(np.arange(10), 50)  # 500 samples, 10 balanced classes


def test_iid_is_a_disjoint_cover_of_equal_parts():
    parts = partition(LABELS, 7, "iid", seed=3)
    joined = np.concatenate(parts)
    assert sorted(joined.tolist()) == list(range(len(LABELS)))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_dirichlet_is_a_disjoint_cover_and_skews_with_small_alpha():
    def skew(alpha: float) -> float:  # mean over clients of the largest class share
        parts = partition(LABELS, 10, f"dirichlet:{alpha}", seed=0)
        assert sorted(np.concatenate(parts).tolist()) == list(range(len(LABELS)))
        h = label_histogram(LABELS, parts, 10)
        return float(np.mean(h.max(1) / h.sum(1)))

    assert skew(0.1) > 0.5 > 0.2 > skew(100.0)  # balanced classes: 0.1 for a perfect IID split


def test_same_seed_same_split_in_another_process_order():
    a = partition(LABELS, 5, "dirichlet:0.5", seed=11)
    b = partition(LABELS, 5, "dirichlet:0.5", seed=11)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize(
    "spec", ["dirichlet", "dirichlet:", "dirichlet:-1", "dirichlet:abc", "pathological:2", ""]
)
def test_unparsable_spec_is_one_clear_error(spec):
    with pytest.raises(ConfigurationError, match="cannot parse partition .*dirichlet:ALPHA"):
        parse_partition(spec)


def test_more_clients_than_samples_is_a_data_error():
    with pytest.raises(
        DataError, match=r"600 clients need at least 1200 samples .* has 500; use at most 250"
    ):
        partition(LABELS, 600, "iid")
