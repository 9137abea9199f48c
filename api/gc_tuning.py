"""Garbage-collector settings for a serving worker: :func:`tune_gc_for_serving`.

Each request allocates a few hundred container objects (dicts, lists, futures, frames of
the framework). With CPython's default thresholds (700, 10, 10) the collector runs a young
collection every few requests and, every so often, a full one that walks the whole heap:
~105,000 objects once FastAPI, pydantic, cryptography and the app are loaded, tens of
milliseconds each. Measured on one worker under 32 connections (BENCHMARKS.md §4): with the
start-up heap frozen (``gc.freeze``: it is never garbage) and the young generation
collected every 50,000 allocations instead of 700, single issues went from ~2,000-2,700 to
~3,100-3,300 requests/s and the latency's standard deviation from ~10 ms to ~2.6 ms, with
the same resident memory (~101 MB). Cyclic garbage is still collected, only in larger
steps.

Only ``dcc serve``'s workers call it (:func:`api.app.app_from_env`), once, after the
lifespan has loaded keys, accounts and limiters; apps built in tests keep the defaults,
because freezing is process-wide.
"""

from __future__ import annotations

import gc
from typing import Final

__all__ = ["SERVING_THRESHOLDS", "tune_gc_for_serving"]

SERVING_THRESHOLDS: Final = (50_000, 20, 100)
"""Young generation every 50,000 net allocations; middle every 20 young collections; full
every 100 middle ones (CPython also waits for 25% new long-lived objects)."""


def tune_gc_for_serving() -> None:
    """Collect once, freeze what start-up built, and raise the collection thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVING_THRESHOLDS)
