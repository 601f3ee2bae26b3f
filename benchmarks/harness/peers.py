"""Whether a peer can run here, and the one-line reason recorded when it cannot.

A peer that is not installed, whose ketml engine is unavailable, or that raises is recorded as
``{"status": "skipped", "reason": ...}`` and the run goes on; the reason starts with a short tag
("not installed", "unavailable", "n/a", "out of memory", "timeout", or the exception's type).
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

from .memory import is_oom


class PeerUnavailable(Exception):
    """A peer cannot run here (package not installed, engine unavailable, precision n/a); the
    message starts with a short tag ("not installed", "unavailable", "n/a") and a colon."""


def skip_reason(exc: BaseException) -> str:
    """The reason recorded for a peer that raised ``exc``: tag, colon, the message on one line
    (at most 300 characters)."""
    if isinstance(exc, PeerUnavailable):
        return str(exc)
    if type(exc).__name__ == "EngineUnavailableError":
        return "unavailable: " + " ".join(str(exc).split())
    kind = "out of memory" if is_oom(exc) else type(exc).__name__
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:300] + "..."
    return f"{kind}: {text}" if text else kind


def import_peer(module: str, *, package: str, hint: str) -> ModuleType:
    """Import ``module`` of a peer's ``package``, or raise ``PeerUnavailable("not installed:
    ...")`` ending with ``hint`` (how to install it)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(module)
    except ImportError as exc:
        raise PeerUnavailable(f"not installed: {package} cannot be imported ({exc}); {hint}") from None


#: ``circuits.engines.available()``, filled on first use; ``clear_engine_status`` empties it
_ENGINE_STATUS: dict[str, str] = {}


def clear_engine_status() -> None:
    """Forget the cached engine status (a new run asks ``circuits.engines.available()`` again)."""
    _ENGINE_STATUS.clear()


def ketml_engine_status(engine: str) -> str:
    """``circuits.engines.available()[engine]``: "ok" or why the engine cannot run (cached)."""
    if engine not in _ENGINE_STATUS:
        try:
            from circuits import engines

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                status = engines.available()
        except Exception as exc:  # noqa: BLE001 - a broken engine module is a skip, not a crash
            status = {engine: skip_reason(exc)}
        _ENGINE_STATUS.update(status)
        _ENGINE_STATUS.setdefault(engine, f"engine {engine!r} is not registered in circuits.engines")
    return _ENGINE_STATUS[engine]


def require_engine(engine: str) -> None:
    """Raise ``PeerUnavailable("unavailable: ketml engine ...")`` unless ``engine`` can run here."""
    status = ketml_engine_status(engine)
    if status != "ok":
        raise PeerUnavailable(f"unavailable: ketml engine {engine!r}: {' '.join(status.split())}")
