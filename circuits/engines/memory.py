"""Memory an engine is about to need, checked before it allocates: every engine refuses a state
vector, density matrix, set of gradient copies or shot table that would not fit, with a
:class:`~circuits.errors.MemoryLimitError` naming the size and what to do instead (rather than
an allocator error after gigabytes, or the kernel's OOM killer)."""

from __future__ import annotations

import os

import torch

from ..errors import MemoryLimitError

#: below this many bytes no engine asks the OS what is free (a quarter GiB)
SMALL = 2**28
#: bytes kept per shot of a materialised sample (an outcome index or bit row and its count)
BYTES_PER_SHOT = 32


def available_bytes(device: str | torch.device = "cpu") -> int:
    """Free memory on ``device``: the GPU's free memory for a CUDA device, else the host's."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def gib(n_bytes: float) -> str:
    """``n_bytes`` in GiB, three significant digits."""
    return f"{n_bytes / 2**30:.3g} GiB"


def amplitudes(n_qubits: int, density: bool = False) -> float:
    """Entries of a state vector (``2**n``) or density matrix (``4**n``), as a float (no overflow)."""
    return 2.0 ** (2 * n_qubits if density else n_qubits)


def check(
    need: float,
    what: str,
    alternative: str,
    *,
    limit: int | None = None,
    device: str | torch.device = "cpu",
) -> None:
    """Raise :class:`MemoryLimitError` when ``need`` bytes (for ``what``) exceed ``limit`` (default:
    what ``device`` has free), naming the size and ``alternative``."""
    if need < SMALL and limit is None:
        return
    available = limit if limit is not None else available_bytes(device)
    if need > available:
        raise MemoryLimitError(
            f"{what} needs about {gib(need)} but only {gib(available)} is available on {device}; "
            f"{alternative}"
        )


def check_shots(shots: int, rows: int, n_bits: int, engine: str, *, limit: int | None = None) -> None:
    """Refuse a sample of ``shots`` x ``rows`` outcomes of ``n_bits`` bits that would not fit."""
    need = float(shots) * max(rows, 1) * (BYTES_PER_SHOT + n_bits)
    check(
        need,
        f"{shots:,} shots x {rows} parameter row(s) on the {engine} engine",
        "use fewer shots (several calls with different seeds add up), a smaller batch, or exact "
        "expectation values (shots=None)",
        limit=limit,
    )
