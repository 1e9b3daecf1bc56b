"""No cyclic garbage collection while a large listing is built.

The rows of a listing (bills, overdue rows, JSON dicts) make no reference cycles, so the
collector finds nothing in them; yet every few hundred new objects it walks all of them again,
and at 100k units that walk costs more than building them. Reference counting still frees
everything as usual.

When the block ends, what it made and still holds is handed to the collector's oldest
generation, as if it had survived its young collections: the first collection after the block
would otherwise walk every one of those objects (at 100k units, a tenth of a second spent
finding nothing). They are still collected, with the oldest generation, as any long-lived
object is.
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
            _to_oldest()
            gc.enable()


def _to_oldest() -> None:
    """Move every object the collector tracks to its oldest generation (freezing moves them
    all aside at once, unfreezing puts them back as the oldest generation; neither walks them)."""
    gc.freeze()
    gc.unfreeze()
