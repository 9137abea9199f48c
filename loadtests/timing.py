"""Calibrated, interleaved micro-benchmark timing and the markdown tables the benches print.

Method (performance.md): each stage runs in batches of ``n`` calls sized to take about
``batch_seconds`` (20 ms); the per-op time of a batch is its wall time divided by ``n``;
after a warm-up, every stage runs ``batches`` batches and the table gives the median, min
and max of the per-op times. The stages of one measurement are **interleaved** (one batch
of each per round, in a rotating order), so a noisy neighbour on this shared 2-core box
slows the stage and its baseline alike and the ratio between them stays meaningful.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "DEFAULT_BATCHES",
    "DEFAULT_BATCH_SECONDS",
    "Clock",
    "Comparison",
    "Stage",
    "Timing",
    "batches_for",
    "calibrate",
    "measure",
    "render_table",
]

DEFAULT_BATCH_SECONDS: Final = 0.020
DEFAULT_BATCHES: Final = 25
_WARMUP_BATCHES: Final = 3
_MAX_CALIBRATION_CALLS: Final = 1 << 20
_PRIMING_CALLS: Final = 3


@dataclass(frozen=True, slots=True)
class Comparison:
    """A target on the ratio ``stage median / baseline median``."""

    limit: float
    kind: Literal["max", "min"] = "max"

    def passes(self, ratio: float) -> bool:
        """Whether ``ratio`` meets the target."""
        return ratio <= self.limit if self.kind == "max" else ratio >= self.limit

    def describe(self) -> str:
        """The target as a table cell, e.g. ``≤ 3.00x``."""
        sign = "≤" if self.kind == "max" else "≥"
        return f"{sign} {self.limit:.2f}x"


@dataclass(frozen=True, slots=True)
class Stage:
    """One timed callable; ``target`` compares it with the measurement's baseline."""

    name: str
    run: Callable[[], object]
    target: Comparison | None = None


@dataclass(frozen=True, slots=True)
class Timing:
    """Per-op times (seconds) of every batch of one stage."""

    name: str
    calls_per_batch: int
    per_op: tuple[float, ...]
    target: Comparison | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.per_op)

    @property
    def minimum(self) -> float:
        return min(self.per_op)

    @property
    def maximum(self) -> float:
        return max(self.per_op)


Clock = Callable[[], float]


def _time_batch(run: Callable[[], object], calls: int, clock: Clock = time.perf_counter) -> float:
    started = clock()
    for _ in range(calls):
        run()
    return clock() - started


def calibrate(run: Callable[[], object], batch_seconds: float = DEFAULT_BATCH_SECONDS) -> int:
    """The number of calls of ``run`` that takes about ``batch_seconds``.

    A few calls come first, so one-time work (tables built on first use, lazy imports)
    does not pass for the cost of a call.
    """
    _time_batch(run, _PRIMING_CALLS)
    calls = 1
    while True:
        elapsed = _time_batch(run, calls)
        if elapsed >= batch_seconds / 4 or calls >= _MAX_CALIBRATION_CALLS:
            break
        calls *= 2
    per_call = max(elapsed / calls, 1e-9)
    return max(1, min(_MAX_CALIBRATION_CALLS, math.ceil(batch_seconds / per_call)))


def batches_for(duration: float | None, stages: int, batch_seconds: float) -> int:
    """Batches per stage that fill ``duration`` seconds (never fewer than the default 25)."""
    if duration is None or duration <= 0:
        return DEFAULT_BATCHES
    return max(DEFAULT_BATCHES, int(duration / (max(stages, 1) * batch_seconds)))


def measure(
    stages: Sequence[Stage],
    *,
    batches: int = DEFAULT_BATCHES,
    batch_seconds: float = DEFAULT_BATCH_SECONDS,
    clock: Clock = time.perf_counter,
) -> list[Timing]:
    """Time every stage in interleaved, calibrated batches (warm-up first).

    ``clock`` is wall time by default; ``time.thread_time`` counts only the CPU time of
    this thread, which leaves out the time other processes hold the core (on a box where
    other jobs run, a useful second opinion; the tables say which clock was used).
    """
    if not stages:
        return []
    calls = [calibrate(stage.run, batch_seconds) for stage in stages]
    for _ in range(_WARMUP_BATCHES):
        for stage, count in zip(stages, calls, strict=True):
            _time_batch(stage.run, count, clock)
    samples: list[list[float]] = [[] for _ in stages]
    order = list(range(len(stages)))
    for round_index in range(batches):
        shift = round_index % len(order)
        for index in order[shift:] + order[:shift]:
            elapsed = _time_batch(stages[index].run, calls[index], clock)
            samples[index].append(elapsed / calls[index])
    return [
        Timing(stage.name, count, tuple(values), stage.target)
        for stage, count, values in zip(stages, calls, samples, strict=True)
    ]


def _micros(seconds: float) -> str:
    value = seconds * 1e6
    return f"{value:,.0f}" if value >= 1000 else f"{value:,.1f}"


def render_table(timings: Sequence[Timing], baseline: str) -> tuple[str, bool]:
    """A markdown table of ``timings`` with ratios against the stage named ``baseline``.

    Returns the table and whether every stage with a target met it.
    """
    base = next(timing for timing in timings if timing.name == baseline)
    lines = [
        "| stage | median µs | min µs | max µs | ratio vs baseline | target | result |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    all_pass = True
    for timing in timings:
        ratio = timing.median / base.median
        if timing.name == baseline:
            target, result = "baseline", ""
        elif timing.target is None:
            target, result = "", ""
        else:
            ok = timing.target.passes(ratio)
            all_pass = all_pass and ok
            target, result = timing.target.describe(), "pass" if ok else "**MISS**"
        lines.append(
            f"| {timing.name} | {_micros(timing.median)} | {_micros(timing.minimum)} "
            f"| {_micros(timing.maximum)} | {ratio:.2f}x | {target} | {result} |"
        )
    return "\n".join(lines), all_pass
