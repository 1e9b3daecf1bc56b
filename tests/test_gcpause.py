"""The collector's pause (core/gcpause): what a block made and still holds is not walked by the
first collection after it, and a cycle made in the block is still collected."""

from __future__ import annotations

import gc
import weakref

from propfee.core.gcpause import no_gc


class _Node:
    __slots__ = ("__weakref__", "other")


def _young() -> set[int]:
    return {id(found) for found in gc.get_objects(generation=0)}


def test_the_first_collection_after_the_block_does_not_walk_what_it_made():
    gc.collect()
    started: list[int] = []  # objects waiting in the young generation at each collection

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            started.append(gc.get_count()[0])

    gc.callbacks.append(note)
    try:
        with no_gc():
            held = [[n] for n in range(20_000)]  # lists: tracked by the collector
            young = _young()
            assert all(id(row) in young for row in held)  # made young, as any object
        after = [[n] for n in range(5_000)]  # enough to run young collections
    finally:
        gc.callbacks.remove(note)
    assert started  # collections ran after the block
    assert max(started) < 5_000  # none of them found the block's 20,000 lists young
    assert not [row for row in held if id(row) in _young()] and after


def test_a_cycle_made_in_the_block_is_still_collected():
    with no_gc():
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
    del a, b
    assert gone() is not None  # a cycle: reference counting alone never frees it
    gc.collect()
    assert gone() is None


def test_a_nested_block_leaves_the_collector_paused_and_an_outer_one_restores_it():
    with no_gc():
        with no_gc():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_block_entered_with_the_collector_off_leaves_it_off():
    gc.disable()
    try:
        with no_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
