"""Shared chemistry test set-up: pyscf and BLAS on one thread, and each molecule built once per
session (``molecules("H2O", (4, 4))``; the water, H2 and LiH objects are reused by many modules)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

#: Hydrogen fluoride: 12 qubits, 10 electrons, the F 1s in the active space (a small real core
#: hole) and degenerate pi orbitals (degenerate dication states).
HF_GEOMETRY = (("H", (0.0, 0.0, 0.0)), ("F", (0.0, 0.0, 0.917)))


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """pyscf and numpy on one thread: the machine's cores are shared with other test workers."""
    try:
        from pyscf import lib
    except ImportError:
        yield
        return
    from threadpoolctl import threadpool_limits

    before = lib.num_threads()
    lib.num_threads(1)
    with threadpool_limits(1):
        yield
    lib.num_threads(before)


@pytest.fixture(scope="session")
def molecules() -> Callable:
    """``molecules(name_or_geometry, active_space=None, **options)``, cached for the session.

    Tests must not modify what it returns (every caller shares the object)."""
    pytest.importorskip("pyscf")
    from chemistry import molecule

    cache: dict = {}

    def get(name, active=None, **options):
        key = (name if isinstance(name, str) else tuple(name), active, tuple(sorted(options.items())))
        if key not in cache:
            geometry = list(name) if isinstance(name, tuple) else name
            cache[key] = molecule(geometry, active_space=active, **options)
        return cache[key]

    return get


@pytest.fixture(scope="session")
def hydrogen_fluoride(molecules):
    return molecules(HF_GEOMETRY)
