"""GC tuning of serving workers: applied by the lifespan only when asked, process-wide."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from api.gc_tuning import SERVING_THRESHOLDS, tune_gc_for_serving


@pytest.fixture
def restored_gc() -> Iterator[None]:
    """Give the rest of the suite the collector as it found it."""
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_tuning_freezes_the_heap_and_raises_the_thresholds(restored_gc: None) -> None:
    tune_gc_for_serving()
    assert gc.get_threshold() == SERVING_THRESHOLDS
    assert gc.get_freeze_count() > 10_000  # the loaded modules, classes and app objects
    assert gc.isenabled()


def test_cyclic_garbage_is_still_collected_after_tuning(restored_gc: None) -> None:
    tune_gc_for_serving()

    class Node:
        partner: Any = None

    collected: list[str] = []
    first, second = Node(), Node()
    first.partner, second.partner = second, first
    weakref.finalize(first, collected.append, "first")
    del first, second
    gc.collect()
    assert collected == ["first"]


async def test_apps_keep_the_default_collector_unless_asked(
    start_service: Any, restored_gc: None
) -> None:
    before = gc.get_threshold()
    await start_service()
    assert gc.get_threshold() == before
    await start_service(tune_gc=True)
    assert gc.get_threshold() == SERVING_THRESHOLDS
