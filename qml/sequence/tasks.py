"""The sequence tasks: *regression* (a time series cut into windows -> next value; test MSE) and
*qrnn* (bit sequences in Bausch's encoding, trained by postselected teacher forcing; test
accuracy), both through the shared loop with the hooks of :mod:`.training`."""

from __future__ import annotations

import inspect

import torch

import data
from data import sequences as seq
from qml.registry import register_task
from qml.training.task import Prepared, Task

from .training import QRNNHooks, RegressionHooks


def load_series(dataset: str, seed: int = 0) -> torch.Tensor:
    """A catalogued time series (``seed`` reaches generators that take one; of a driven system
    such as NARMA, which returns ``(input, output)``, the output)."""
    loader = data.get(dataset).loader
    out = loader(**({"seed": seed} if "seed" in inspect.signature(loader).parameters else {}))
    return out[-1] if isinstance(out, tuple) else out


def regression_data(dataset: str, window: int = 4, train_fraction: float = 0.67, seed: int = 0):
    """``((x_train, y_train), (x_test, y_test))`` windows of a catalogued time series, split in
    time order, float64."""
    series = load_series(dataset, seed)
    x, y = seq.window(series, window)
    (x_train, y_train), (x_test, y_test) = seq.time_split(x, y, train_fraction)
    as64 = lambda t: torch.as_tensor(t, dtype=torch.float64)  # noqa: E731
    return (as64(x_train), as64(y_train)), (as64(x_test), as64(y_test))


class SequenceRegression(Task):
    name = "regression"
    kind = "time series"
    metric = "test_mse"
    metric_label = "test MSE"
    description = "time-series windows -> next value (MSE on the last step; test MSE)"

    def load(self, dataset, *, seed=0, subset=None, test_subset=None, data_root=None, window: int = 4):
        train, test = regression_data(dataset, window, seed=seed)
        dims = {"input_size": train[0].shape[2], "output_size": train[1].shape[1]}
        return Prepared(train, None, test, dims)

    def build(self, spec, dims, engine, options):
        """In double precision (complex128 states): the series' small differences matter."""
        return spec.build(dims, engine=engine, **{"dtype": "complex128", **options}).double()

    def hooks(self, prepared, config):
        return RegressionHooks(prepared.train, prepared.test)


def qrnn_data(dataset: str, seed: int = 0, subset: int | None = None, data_root: str | None = None):
    """``(train, test)`` triples ``(inputs, targets, mask)`` for the QRNN: 256 (or ``subset``)
    training and 64 test sequences of the generated tasks; MNIST pixel tasks from the image files
    (``subset`` training images, a quarter of it, at least 200, for the test)."""
    entry = data.get(dataset)
    if not entry.built_from:  # generated: (n_sequences, length, seed)
        return entry.loader(subset or 256, 36, seed), entry.loader(64, 36, seed + 1)
    out = []
    for split in ("train", "test"):
        ds = data.load_images(entry.built_from[0], split, root=data_root)
        x, y, m, _labels = entry.loader(ds.images, ds.labels)
        limit = subset if split == "train" else (None if subset is None else max(200, subset // 4))
        if limit is not None and limit < len(x):
            keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:limit]
            x, y, m = x[keep], y[keep], m[keep]
        out.append((x, y, m))
    return out[0], out[1]


class QRNNBits(Task):
    name = "qrnn"
    kind = "bit sequences"
    metric = "test_accuracy"
    metric_label = "test accuracy"
    description = "bit sequences, postselected teacher forcing (Bausch's QRNN; sampled test accuracy)"

    def load(self, dataset, *, seed=0, subset=None, test_subset=None, data_root=None):
        train, test = qrnn_data(dataset, seed, subset, data_root)
        width = train[0].shape[2]
        return Prepared(train, None, test, {"input_size": width, "output_size": width})

    def hooks(self, prepared, config):
        return QRNNHooks(prepared.train, prepared.test, config)


register_task(SequenceRegression())
register_task(QRNNBits())
