"""The model families' one extension point: models and tasks by name.

A *task* (:class:`qml.training.task.Task`) owns what is specific to a kind of problem: loading a
dataset through :mod:`data`, the sizes the model needs, the fit procedure, the headline metric
and the plots. A *model* registers next to its class with the tasks it solves and its presets::

    @register_model("qfwp", tasks=("regression", "rl"), description="...", quantum=True)
    class QFWP(nn.Module): ...

and every model builds through one signature, ``spec.build(dims, *, engine, **options)``, the
task supplying ``dims``. ketml's own families are the subpackages of :mod:`qml` (each registers
in its own files when imported); packages outside ketml register through the ``ketml.models``
entry-point group (value: a module to import).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any

from circuits.errors import ConfigurationError, UnknownNameError

if TYPE_CHECKING:
    from torch import nn

    from .training.task import Task

__all__ = [
    "ENTRY_POINT_GROUP",
    "CliOption",
    "ModelSpec",
    "Preset",
    "get",
    "get_task",
    "names",
    "register",
    "register_model",
    "register_task",
    "specs",
    "task_for",
    "task_names",
]

#: Entry-point group through which other packages add model families (``name = "module"``).
ENTRY_POINT_GROUP = "ketml.models"
#: Subpackages of qml that are infrastructure, not model families.
_NOT_FAMILIES = frozenset({"cli", "training"})


@dataclass(frozen=True)
class Preset:
    """A model's setting for one dataset: model ``options``, training settings ``train``
    (:class:`~qml.training.config.TrainConfig` fields) and the task's data options ``data``."""

    options: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CliOption:
    """A flag a model adds to ``ketml train <model>``: ``--flag VALUE`` (a bare ``--flag`` when
    ``type`` is ``bool``) sets the model option ``option``; ``help`` is shown by ``--help``."""

    type: type
    help: str
    option: str


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: ``build(dims, *, engine, **options) -> nn.Module``."""

    name: str
    build: Callable[..., nn.Module]
    tasks: tuple[str, ...]
    description: str = ""
    quantum: bool = True
    #: training settings (TrainConfig fields) for every dataset; a preset overrides them
    defaults: dict[str, Any] = field(default_factory=dict)
    #: per dataset name (or task name, for all its datasets): the paper's setting for it
    presets: dict[str, Preset] = field(default_factory=dict)
    #: training samples used by default (the paper's small-data setting); None: all
    subset: int | None = None
    #: the classical model this one is compared against
    twin: str | None = None
    #: flags of its own on ``ketml train <model>`` (flag name without dashes -> CliOption)
    cli_options: dict[str, CliOption] = field(default_factory=dict)

    @property
    def task(self) -> str:
        """The tasks as one label (for tables)."""
        return ", ".join(self.tasks)

    def preset(self, dataset: str, task: str | None = None) -> Preset:
        """The setting for ``dataset``: the task's preset (keyed by task name) with the
        dataset's (keyed by dataset name) over it."""
        general, special = self.presets.get(task or "", Preset()), self.presets.get(dataset, Preset())
        return Preset(
            {**general.options, **special.options},
            {**general.train, **special.train},
            {**general.data, **special.data},
        )


_MODELS: dict[str, ModelSpec] = {}
_TASKS: dict[str, Task] = {}


def _as_preset(value: Preset | tuple | dict) -> Preset:
    if isinstance(value, Preset):
        return value
    if isinstance(value, tuple):
        return Preset(*value)
    return Preset(**value)


def register(spec: ModelSpec) -> ModelSpec:
    """Add a model; ``ConfigurationError`` if the name is taken."""
    if spec.name in _MODELS:
        raise ConfigurationError(f"model {spec.name!r} is already registered")
    _MODELS[spec.name] = spec
    return spec


def default_build(cls: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """``build(dims, *, engine, **options)`` for a class whose constructor names its sizes as the
    task's ``dims`` keys: the dims it takes are passed by name, ``engine`` only if it takes one."""
    params = inspect.signature(cls).parameters
    takes_engine = "engine" in params

    def build(dims: dict[str, Any], *, engine: str = "torch", **options: Any) -> nn.Module:
        sizes = {k: v for k, v in dims.items() if k in params}
        return cls(**sizes, **({"engine": engine} if takes_engine else {}), **options)

    # the options it names, with defaults (None: required), checked before data is loaded
    varkw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    plain = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    defaults = {
        k: None if p.default is inspect.Parameter.empty else p.default
        for k, p in params.items()
        if p.kind in plain and k != "engine"
    }
    build.option_defaults = defaults  # type: ignore[attr-defined]
    build.open_options = varkw  # type: ignore[attr-defined]  # more options pass through (**kwargs)
    return build


def register_model(
    name: str,
    *,
    tasks: tuple[str, ...],
    description: str = "",
    quantum: bool = True,
    defaults: dict[str, Any] | None = None,
    presets: dict[str, Preset | tuple | dict] | None = None,
    subset: int | None = None,
    twin: str | None = None,
    build: Callable[..., nn.Module] | None = None,
    cli_options: dict[str, CliOption | tuple] | None = None,
):
    """Class decorator (or, with ``build=``, a plain call) that registers a model.

    Without ``build`` the class itself is built by :func:`default_build`. ``cli_options``: flags
    of ``ketml train <model>``, ``{"reservoirs": (int, "help", "reservoirs")}`` (or CliOptions)."""

    def decorate(cls):
        register(
            ModelSpec(
                name,
                build or default_build(cls),
                tuple(tasks),
                description,
                quantum,
                dict(defaults or {}),
                {k: _as_preset(v) for k, v in (presets or {}).items()},
                subset,
                twin,
                {k: v if isinstance(v, CliOption) else CliOption(*v) for k, v in (cli_options or {}).items()},
            )
        )
        return cls

    if build is not None:
        decorate(None)
        return build
    return decorate


def register_task(task: Task) -> Task:
    """Add a task (an instance of :class:`qml.training.task.Task`)."""
    if task.name in _TASKS:
        raise ConfigurationError(f"task {task.name!r} is already registered")
    _TASKS[task.name] = task
    return task


def get(name: str) -> ModelSpec:
    """The spec of a registered model; :class:`UnknownNameError` listing the known names otherwise."""
    _load()
    try:
        return _MODELS[name]
    except KeyError:
        raise UnknownNameError(f"unknown model {name!r}; registered: {', '.join(sorted(_MODELS))}") from None


def names() -> list[str]:
    _load()
    return sorted(_MODELS)


def specs() -> list[ModelSpec]:
    _load()
    return [_MODELS[n] for n in sorted(_MODELS)]


def get_task(name: str) -> Task:
    _load()
    try:
        return _TASKS[name]
    except KeyError:
        raise UnknownNameError(f"unknown task {name!r}; registered: {', '.join(sorted(_TASKS))}") from None


def task_names() -> list[str]:
    _load()
    return sorted(_TASKS)


def task_for(dataset: str, model: ModelSpec | None = None) -> Task:
    """The task that trains on ``dataset`` (each task lists its datasets, by default the data
    catalogue's entries of its kind); with ``model``, the one among the model's tasks."""
    _load()
    matching = [t for t in _TASKS.values() if dataset in t.datasets()]
    if not matching:
        known = ", ".join(d for t in _TASKS.values() for d in t.datasets())
        raise UnknownNameError(f"unknown dataset {dataset!r}; known: {known}")
    if model is None:
        return matching[0]
    for task in matching:
        if task.name in model.tasks:
            return task
    raise ConfigurationError(
        f"{model.name} does not take {matching[0].kind} datasets like {dataset!r} (tasks "
        f"{', '.join(t.name for t in matching)}); it takes: {', '.join(model.tasks)}"
    )


_LOADED = False


def _load() -> None:
    """Import every model family once: qml's subpackages, then the ``ketml.models`` entry points."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    import qml

    try:
        for info in pkgutil.iter_modules(qml.__path__):
            if info.ispkg and info.name not in _NOT_FAMILIES:
                importlib.import_module(f"qml.{info.name}")
        load_entry_points()
    except BaseException:
        _LOADED = False
        raise


def load_entry_points() -> list[str]:
    """Import the modules named by the ``ketml.models`` entry points; returns their names."""
    loaded = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        importlib.import_module(ep.value.partition(":")[0])
        loaded.append(ep.name)
    return loaded
