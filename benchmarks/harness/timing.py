"""Timing: warm-up, then the median of repeated calls, under a per-call time budget.

``time_call`` never raises for a failing peer: a call past its budget, out of memory or raising
makes the record ``status="skipped"`` with the reason, so one bad peer does not end a run.
"""

from __future__ import annotations

import contextlib
import gc
import signal
import statistics
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .memory import is_oom
from .peers import skip_reason

_T0 = time.perf_counter()


def log(msg: str) -> None:
    """Print ``msg`` with the seconds since the harness was imported, flushed at once."""
    print(f"[{time.perf_counter() - _T0:7.1f} s] {msg}", flush=True)


class StepTimeout(Exception):
    """A step ran past the per-step time budget."""


@contextlib.contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise ``StepTimeout`` in the main thread once ``seconds`` have passed.

    Best effort: a long C++ kernel finishes first, so callers also check the elapsed time. A
    no-op for ``None`` or ``<= 0``, outside the main thread and where there is no SIGALRM.
    """
    usable = (
        seconds is not None
        and seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def _handler(signum, frame):
        raise StepTimeout(f"step exceeded the {seconds:g} s budget")

    old = signal.signal(signal.SIGALRM, _handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def is_timeout(exc: BaseException | None) -> bool:
    """Whether ``exc`` is a ``StepTimeout``, or a library's exception wrapping one (followed
    through ``__cause__`` / ``__context__``, at most 8 deep)."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, StepTimeout) or ("s budget" in str(exc) and "exceeded the" in str(exc)):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def median(times: Sequence[float]) -> float:
    """The median of ``times`` (seconds); raises ``ValueError`` for none."""
    if not times:
        raise ValueError("no times to take the median of")
    return statistics.median(times)


def time_repeats(fn: Callable[[], Any], *, repeats: int, warmup: int = 1) -> list[float]:
    """Call ``fn`` ``warmup`` times untimed (compilation, caches), then return the seconds of
    each of ``repeats`` timed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def time_call(
    fn: Callable[[], Any],
    *,
    repeats: int,
    warmup: int,
    budget_s: float,
    total_budget_s: float,
    min_repeats: int = 2,
) -> dict[str, Any]:
    """Warm up, then time ``repeats`` calls of ``fn``; the median is the result.

    A call past ``budget_s`` (or that raises, e.g. out of memory) makes the record
    ``status="skipped"`` with the reason. When the warm-up shows that ``repeats`` calls would
    take more than ``total_budget_s``, fewer (at least ``min_repeats``) are timed. The record
    holds ``warmup_s``, ``times_s``, ``repeats``, ``median_s`` and ``min_s``.
    """
    rec: dict[str, Any] = {"status": "ok", "budget_s": budget_s}
    warm_times: list[float] = []
    try:
        for _ in range(max(warmup, 1)):
            t0 = time.perf_counter()
            with deadline(budget_s):
                fn()
            warm_times.append(time.perf_counter() - t0)
            if warm_times[-1] > budget_s:
                raise StepTimeout(f"step took {warm_times[-1]:.1f} s > budget {budget_s:g} s")
        est = warm_times[-1]
        n_rep = repeats
        if est * repeats > total_budget_s:
            n_rep = max(min_repeats, min(repeats, int(total_budget_s // max(est, 1e-9))))
        times: list[float] = []
        for _ in range(n_rep):
            t0 = time.perf_counter()
            with deadline(budget_s):
                fn()
            times.append(time.perf_counter() - t0)
            if times[-1] > budget_s:
                raise StepTimeout(f"step took {times[-1]:.1f} s > budget {budget_s:g} s")
    except StepTimeout as exc:
        rec.update(status="skipped", reason=f"timeout: {exc}", warmup_s=warm_times)
        return rec
    except Exception as exc:  # noqa: BLE001 - a failing peer is recorded, not fatal
        if is_timeout(exc):  # a StepTimeout that a library wrapped in its own exception
            rec.update(status="skipped", reason=f"timeout: {exc}", warmup_s=warm_times)
            return rec
        rec.update(status="skipped", reason=skip_reason(exc), warmup_s=warm_times)
        if not is_oom(exc):
            rec["traceback"] = traceback.format_exc(limit=6)
        return rec
    finally:
        gc.collect()
    rec.update(
        warmup_s=warm_times,
        times_s=times,
        repeats=len(times),
        median_s=statistics.median(times),
        min_s=min(times),
    )
    return rec
