"""Process memory of a long-running server (glibc only; a no-op elsewhere): fewer malloc arenas, and freed
memory handed back to the system after an index version is swapped out. Without them a server under
concurrent traffic keeps growing: each thread's arena keeps the pages it once used (docs/reliability.md)."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

logger = logging.getLogger(__name__)

M_ARENA_MAX = -8  # mallopt parameter (glibc malloc.h)
SERVER_ARENAS = 2


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def limit_arenas(arenas: int = SERVER_ARENAS) -> bool:
    """At most ``arenas`` malloc arenas for the threads created from now on. True when it took effect."""
    libc = _libc()
    if libc is None:
        return False
    done = bool(libc.mallopt(M_ARENA_MAX, arenas))
    logger.debug("malloc arenas limited to %d: %s", arenas, done)
    return done


def release_freed() -> None:
    """Collect garbage, then give freed heap pages back to the system (after dropping an index version)."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
