"""Process-level tuning for the command line."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_memory_allocator(threshold_bytes: int = 256 << 20) -> bool:
    """Let glibc reuse freed memory for large temporary arrays instead of unmapping it.

    The fit creates and frees many same-sized arrays per iteration; by default glibc maps
    each one afresh from the kernel and the page faults cost more than the arithmetic.
    This is done only by the ``qmri`` command and the benchmarks, never on import, since it
    changes the whole process. Returns whether the setting was applied.
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, threshold_bytes)
                    and libc.mallopt(_M_TRIM_THRESHOLD, 2 * threshold_bytes))
    except (OSError, AttributeError):
        return False
