"""``batching="by-length"``: each window of batches sorted by sequence length, so a batch pads
little; ``random`` keeps the seeded permutation it always was."""

from __future__ import annotations

import pytest
import torch

from circuits.errors import ConfigurationError
from qml.training.config import TrainConfig
from qml.training.loop import LENGTH_WINDOW, Hooks, epoch_order, train_loop


class Sequences(Hooks):
    """Samples of random lengths, the loss of a linear model (enough to drive the loop)."""

    def __init__(self, n: int, lengths: bool = True) -> None:
        self.n_train = n
        self._lengths = torch.randint(5, 500, (n,), generator=torch.Generator().manual_seed(1))
        self.has_lengths = lengths

    def lengths(self):
        return self._lengths if self.has_lengths else None

    def batch_loss(self, model, idx, generator):
        return model(self._lengths[idx, None].float() / 500).square().mean()


def test_random_batching_is_the_seeded_permutation():
    hooks, config = Sequences(300), TrainConfig(batch_size=8)
    order = epoch_order(hooks, config, torch.Generator().manual_seed(3))
    assert torch.equal(order, torch.randperm(300, generator=torch.Generator().manual_seed(3)))


def test_by_length_sorts_each_window_into_batches_in_random_order():
    n, batch = 1010, 4  # 1010: the last batch is partial
    hooks, config = Sequences(n), TrainConfig(batch_size=batch, batching="by-length")
    order = epoch_order(hooks, config, torch.Generator().manual_seed(3))
    assert sorted(order.tolist()) == list(range(n))
    window = LENGTH_WINDOW * batch
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(3))  # the windows' members
    lengths, swept = hooks.lengths(), 0
    for i in range(0, n, window):
        got = order[i : i + window]
        assert set(got.tolist()) == set(perm[i : i + window].tolist())
        # cut into batches of neighbouring lengths: the window sorted, split, then reordered
        ranked = sorted(lengths[got].tolist(), reverse=True)
        expected = sorted(tuple(ranked[j : j + batch]) for j in range(0, len(ranked), batch))
        batches = [tuple(lengths[got[j : j + batch]].tolist()) for j in range(0, len(got), batch)]
        assert sorted(batches) == expected
        assert all(list(b) == sorted(b, reverse=True) for b in batches)
        maxima = [b[0] for b in batches[: len(got) // batch]]
        swept += len(got) == window and maxima == sorted(maxima, reverse=True)
    assert swept == 0  # no full window's steps run from its longest batch to its shortest
    assert len(batches[-1]) == n % batch  # the partial batch stays last, the cuts aligned
    # the windows stay random: the first window is not the longest samples overall
    assert lengths[order[:window]].min() < torch.sort(lengths, descending=True).values[window - 1]

    def padded(o):  # what a batch of rows padded to its longest costs
        return sum(int(hooks.lengths()[o[i : i + batch]].max()) * batch for i in range(0, n, batch))

    random_order = epoch_order(hooks, TrainConfig(batch_size=batch), torch.Generator().manual_seed(3))
    assert padded(order) < 0.85 * padded(random_order)


def test_by_length_needs_lengths(tmp_path):
    config = TrainConfig(epochs=1, batch_size=8, batching="by-length")
    with pytest.raises(ConfigurationError, match="needs samples with lengths"):
        train_loop(
            torch.nn.Linear(1, 1), Sequences(32, lengths=False), config, out_dir=tmp_path, progress=False
        )
    with pytest.raises(ConfigurationError, match="batching must be one of"):
        TrainConfig(batching="sorted")
    metrics = train_loop(
        torch.nn.Linear(1, 1), Sequences(32), config, out_dir=tmp_path / "ok", progress=False
    )
    assert metrics["config"]["batching"] == "by-length"
