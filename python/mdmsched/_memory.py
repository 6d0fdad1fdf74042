"""How much memory this process may still allocate: the probes behind every "check memory before allocating" refusal
(:func:`mdmsched._validation.require_memory` turns them into a ``ValueError``)."""

from __future__ import annotations

import os
from pathlib import Path


def available_memory_bytes() -> int:
    """Memory the OS reports as available now (falls back to 8 GiB where it cannot tell), capped by what this
    process's address-space limit (``ulimit -v``, ``RLIMIT_AS``) still allows: past that limit an allocation is a
    ``MemoryError`` however much memory the machine has."""
    try:
        free = int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        free = 8 * 2**30
    return min(free, _address_space_left())


def _address_space_left() -> int:
    """Bytes of address space left under ``RLIMIT_AS`` (a very large number when unlimited or unknown)."""
    unlimited = 2**62
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        if limit == resource.RLIM_INFINITY or limit < 0:
            return unlimited
        # first field of statm: the process's virtual size in pages
        used = int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        return max(0, int(limit) - used)
    except (ImportError, OSError, ValueError, AttributeError):
        return unlimited


__all__ = ["available_memory_bytes"]
