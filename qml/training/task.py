"""``Task``: what is specific to a kind of problem, so that one ``train`` serves every model family.

A task loads a dataset through :mod:`data` into a :class:`Prepared` (the fit's inputs and the
``dims`` the model is built from), builds a registered model, runs its fit procedure (usually
:func:`qml.training.loop.train_loop` with the task's hooks; a genuinely different procedure such
as A2C or a ridge readout is the task's own ``fit``), names its headline metric and writes its
plots. A family adds a task by subclassing this and calling :func:`qml.registry.register_task`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from circuits.errors import ConfigurationError

from .config import TrainConfig
from .loop import Hooks, train_loop

if TYPE_CHECKING:
    from torch import nn

    from ..registry import ModelSpec


@dataclass
class Prepared:
    """A dataset ready for a task's fit: ``train``/``val``/``test`` in the task's own form, the
    ``dims`` the model is built from, and ``record``: what run.json keeps to load the same again."""

    train: Any
    val: Any = None
    test: Any = None
    dims: dict[str, Any] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)
    classes: list[str] | None = None


class Task:
    """Base class of the tasks. Subclasses set the class attributes and implement :meth:`load`
    and either :meth:`hooks` (the shared loop) or, for a genuinely different procedure, :meth:`fit`."""

    #: registry name, used in ``ModelSpec.tasks``
    name: str = ""
    #: the data catalogue's kind of the datasets it trains on ("images", "time series", ...)
    kind: str = ""
    #: key of the headline number in metrics.json, and how it is printed
    metric: str = ""
    metric_label: str = ""
    description: str = ""

    def datasets(self) -> tuple[str, ...]:
        """The dataset names this task trains on: the data catalogue's entries of its kind."""
        import data

        return data.names(self.kind)

    def load(
        self,
        dataset: str,
        *,
        seed: int = 0,
        subset: int | None = None,
        test_subset: int | None = None,
        data_root: str | None = None,
        **options: Any,
    ) -> Prepared:
        """The dataset prepared for the fit. ``subset``/``test_subset`` limit the samples where
        the task has a use for them; ``options`` are the task's data options (from presets)."""
        raise NotImplementedError

    def build(self, spec: ModelSpec, dims: dict[str, Any], engine: str, options: dict[str, Any]) -> nn.Module:
        """The model for ``dims``; tasks that wrap the model (an RL agent) override this."""
        return spec.build(dims, engine=engine, **options)

    def fit(
        self,
        model: nn.Module,
        prepared: Prepared,
        config: TrainConfig,
        *,
        out_dir: Path,
        title: str,
        progress: bool,
        resume: bool,
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        """Train ``model`` and write ``metrics.json`` (holding :attr:`metric`) into ``out_dir``:
        by default the shared :func:`~qml.training.loop.train_loop` with this task's :meth:`hooks`."""
        return train_loop(
            model,
            self.hooks(prepared, config),
            config,
            out_dir=out_dir,
            title=title,
            progress=progress,
            resume=resume,
            extra=extra,
        )

    def hooks(self, prepared: Prepared, config: TrainConfig) -> Hooks:
        """What the shared loop does differently for this task (loss, measures, final metrics)."""
        raise NotImplementedError(f"task {self.name!r} defines neither hooks() nor fit()")

    def headline(self, metrics: dict[str, Any]) -> str:
        """The run's main number, with size and speed."""
        value = metrics.get(self.metric, float("nan"))
        text = f"{value:.3e}" if self.metric.endswith("mse") else f"{value:.4f}"
        timing = (
            f", {metrics['seconds_per_epoch']:.1f} s/epoch"
            if "seconds_per_epoch" in metrics
            else f", {metrics.get('train_seconds', 0):.0f} s training"
        )
        return f"{self.metric_label or self.metric}: {text}  ({metrics['n_parameters']} parameters{timing})"

    def evaluate(self, run_dir: Path, saved: dict[str, Any], **options: Any) -> dict[str, Any]:
        """Measure a finished run again (``ketml evaluate``); tasks without it say where to look."""
        raise ConfigurationError(
            f"ketml evaluate measures image classifiers; {saved['model']} runs ({self.name}) report "
            f"their metrics in {Path(run_dir) / 'metrics.json'}"
        )
