"""No cyclic garbage collection while a large listing is built.

The rows of a listing (bills, overdue rows, JSON dicts) make no reference cycles, so the
collector finds nothing in them; yet every few hundred new objects it walks all of them again,
and at 100k units that walk costs more than building them. Reference counting still frees
everything as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic collector for the block (restored after, also when nested)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
