"""Memory of the machine and the process: free RAM, an address-space cap, out-of-memory errors.

The cap lets a peer that runs out of memory raise (and be recorded as skipped) instead of the
kernel's OOM killer ending the whole run.
"""

from __future__ import annotations


def meminfo() -> dict[str, int]:
    """``/proc/meminfo`` in bytes (empty where there is no such file)."""
    out: dict[str, int] = {}
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                out[key] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    return out


def available_memory() -> int:
    """Bytes of RAM available to new allocations (0 when unknown)."""
    info = meminfo()
    return info.get("MemAvailable", info.get("MemFree", 0))


def _vm_size() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cap_address_space(fraction: float) -> int | None:
    """Cap the process's address space at what it uses now + ``fraction`` of the free RAM.

    Returns the cap in bytes, or None where none was set (no ``resource`` module, unknown free
    RAM, ``fraction <= 0``); a lower existing soft limit is kept and returned.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover
        return None
    avail = available_memory()
    if not avail or fraction <= 0:
        return None
    cap = _vm_size() + int(fraction * avail)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft != resource.RLIM_INFINITY and soft < cap:
        return soft
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    return cap


def is_oom(exc: BaseException) -> bool:
    """Whether ``exc`` says that an allocation failed (``MemoryError`` or a library's message)."""
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return any(s in text for s in ("out of memory", "can't allocate memory", "cannot allocate"))
