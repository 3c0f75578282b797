"""Keep freed memory for reuse by the next simulated day.

Each simulated day allocates and frees its event arrays (about 150 MB at a
million customers). glibc's malloc hands large freed blocks back to the
operating system (blocks it mapped separately, and the top of the heap past
its trim threshold), so the next day's arrays land on fresh pages that the
kernel must fault in and zero: about 2,400 page faults and 7 ms of system
time a day at 1M customers, some 6 % of the day (docs/PERFORMANCE.md). Raising
the two thresholds makes malloc keep those blocks and reuse them.

The setting is process-wide: freed memory stays with the process (its peak
is unchanged) until it exits. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD = -1   # glibc's mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
_LARGEST_BLOCK = 1 << 30  # blocks up to 1 GiB come from the heap, not separate mappings
_DOCUMENTED_MAX = 32 << 20  # the manual's upper limit on 64-bit, for versions that enforce it


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed blocks for reuse; True if it agreed."""
    if not sys.platform.startswith("linux"):
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    mapped = (mallopt(_M_MMAP_THRESHOLD, _LARGEST_BLOCK)
              or mallopt(_M_MMAP_THRESHOLD, _DOCUMENTED_MAX))
    trimmed = mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
    return bool(mapped and trimmed)
