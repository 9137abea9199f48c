"""The in-process benches' timing and tables: honest ratios, verdicts that follow them.

``measure`` is driven by a virtual clock that advances only when a stage runs (by that
stage's declared cost), so every per-op time is exact and nothing here depends on the
speed of the machine: no timed assertion anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from loadtests.bench_cli import bench_main, measure_table, print_report
from loadtests.timing import (
    DEFAULT_BATCHES,
    Comparison,
    Stage,
    Timing,
    batches_for,
    calibrate,
    measure,
    render_table,
)

ROW = re.compile(
    r"^\| (?P<name>[^|]+?) \| (?P<median>[\d,.]+) \| (?P<min>[\d,.]+) \| (?P<max>[\d,.]+) "
    r"\| (?P<ratio>\d+\.\d\d)x \| (?P<target>[^|]*?) \| (?P<result>[^|]*?) \|$"
)
HEADER = "| stage | median µs | min µs | max µs | ratio vs baseline | target | result |"


class VirtualClock:
    """Time that passes only when a stage runs; remembers which stage ended each batch."""

    def __init__(self) -> None:
        self.now = 0.0
        self.last = ""
        self.batch_ends: list[str] = []
        self._reads = 0

    def stage(self, name: str, cost: float) -> Callable[[], None]:
        def run() -> None:
            self.now += cost
            self.last = name

        return run

    def __call__(self) -> float:
        self._reads += 1
        if self._reads % 2 == 0:  # every batch reads the clock twice: start, end
            self.batch_ends.append(self.last)
        return self.now


def _rows(table: str) -> dict[str, dict[str, str]]:
    lines = table.splitlines()
    assert lines[0] == HEADER
    assert lines[1] == "|---|---:|---:|---:|---:|---:|---|"
    rows = {}
    for line in lines[2:]:
        match = ROW.match(line)
        assert match is not None, line
        rows[match["name"]] = match.groupdict()
    return rows


def test_comparison_passes_and_describes_both_kinds() -> None:
    at_most, at_least = Comparison(3.0), Comparison(0.10, "min")
    assert at_most.passes(3.0)
    assert not at_most.passes(3.01)
    assert at_least.passes(0.10)
    assert not at_least.passes(0.09)
    assert at_most.describe() == "≤ 3.00x"
    assert at_least.describe() == "≥ 0.10x"


def test_timing_statistics() -> None:
    timing = Timing("x", 10, (3e-6, 1e-6, 2e-6, 9e-6))
    assert timing.median == pytest.approx(2.5e-6)
    assert timing.minimum == 1e-6
    assert timing.maximum == 9e-6


def test_batches_for_fills_the_duration_but_never_fewer_than_the_default() -> None:
    assert batches_for(None, 3, 0.02) == DEFAULT_BATCHES
    assert batches_for(0, 3, 0.02) == DEFAULT_BATCHES
    assert batches_for(0.1, 3, 0.02) == DEFAULT_BATCHES
    assert batches_for(60, 3, 0.02) == 1000
    assert batches_for(60, 0, 0.02) == 3000


def test_calibrate_sizes_a_batch_by_the_cost_of_a_call() -> None:
    calls: list[None] = []
    count = calibrate(lambda: calls.append(None), batch_seconds=1e-4)
    assert count >= 1
    assert len(calls) >= 4  # priming calls come first


def test_render_table_rows_ratios_and_verdicts() -> None:
    timings = [
        Timing("baseline", 100, (10e-6, 11e-6, 9e-6)),
        Timing("within", 100, (20e-6,) * 3, Comparison(3.0)),
        Timing("over", 100, (40e-6, 41e-6, 39e-6), Comparison(3.0)),
        Timing("ten times faster", 100, (0.5e-6,) * 3, Comparison(0.10)),
        Timing("at least", 100, (5e-6,) * 3, Comparison(0.60, "min")),
        Timing("slow", 100, (2000e-6,) * 3),
    ]
    table, ok = render_table(timings, "baseline")
    rows = _rows(table)
    assert list(rows) == [t.name for t in timings]
    assert rows["baseline"] | {"name": ""} == {
        "name": "",
        "median": "10.0",
        "min": "9.0",
        "max": "11.0",
        "ratio": "1.00",
        "target": "baseline",
        "result": "",
    }
    assert (rows["within"]["ratio"], rows["within"]["target"]) == ("2.00", "≤ 3.00x")
    assert rows["within"]["result"] == "pass"
    assert (rows["over"]["ratio"], rows["over"]["result"]) == ("4.00", "**MISS**")
    assert (rows["ten times faster"]["ratio"], rows["ten times faster"]["result"]) == (
        "0.05",
        "pass",
    )
    assert (rows["at least"]["target"], rows["at least"]["result"]) == ("≥ 0.60x", "**MISS**")
    assert rows["slow"] | {"name": ""} == {
        "name": "",
        "median": "2,000",
        "min": "2,000",
        "max": "2,000",
        "ratio": "200.00",
        "target": "",
        "result": "",
    }
    assert not ok


def test_render_table_all_pass_and_baseline_anywhere() -> None:
    timings = [
        Timing("stage", 10, (2e-6,), Comparison(3.0)),
        Timing("base", 10, (1e-6,)),
    ]
    table, ok = render_table(timings, "base")
    rows = _rows(table)
    assert ok
    assert rows["base"]["ratio"] == "1.00"
    assert rows["stage"]["ratio"] == "2.00"


def test_measure_reports_each_stages_own_cost_against_the_baseline() -> None:
    clock = VirtualClock()
    stages = [
        Stage("base", clock.stage("base", 1e-6)),
        Stage("ten times", clock.stage("ten times", 10e-6), Comparison(3.0)),
        Stage("twice", clock.stage("twice", 2e-6), Comparison(3.0)),
    ]
    timings = measure(stages, batches=6, batch_seconds=1e-4, clock=clock)
    assert [t.name for t in timings] == ["base", "ten times", "twice"]
    for timing, cost in zip(timings, (1e-6, 10e-6, 2e-6), strict=True):
        assert timing.calls_per_batch >= 1
        assert len(timing.per_op) == 6
        assert timing.per_op == pytest.approx((cost,) * 6)
    assert timings[1].target == Comparison(3.0)
    table, ok = render_table(timings, "base")
    rows = _rows(table)
    assert rows["ten times"]["ratio"] == "10.00"
    assert rows["ten times"]["result"] == "**MISS**"
    assert rows["twice"]["ratio"] == "2.00"
    assert rows["twice"]["result"] == "pass"
    assert not ok


def test_measure_warms_up_then_interleaves_in_rotating_order() -> None:
    clock = VirtualClock()
    names = ["a", "b", "c"]
    stages = [Stage(name, clock.stage(name, 1e-6)) for name in names]
    measure(stages, batches=5, batch_seconds=1e-4, clock=clock)
    rounds = [clock.batch_ends[i : i + 3] for i in range(0, len(clock.batch_ends), 3)]
    assert rounds[:3] == [names] * 3  # warm-up, in order
    assert rounds[3:] == [names[r % 3 :] + names[: r % 3] for r in range(5)]


def test_measure_of_nothing_is_nothing() -> None:
    assert measure([]) == []


def test_measure_table_on_real_stages_is_well_formed() -> None:
    work = list(range(50))
    stages = [
        Stage("sum", lambda: sum(work)),
        Stage("sorted", lambda: sorted(work, reverse=True), Comparison(1000.0)),
    ]
    table, ok, timings = measure_table(stages, "sum", duration=None, batch_seconds=5e-4)
    rows = _rows(table)
    assert rows["sum"]["ratio"] == "1.00"
    assert rows["sorted"]["target"] == "≤ 1000.00x"
    assert rows["sorted"]["result"] in {"pass", "**MISS**"}
    assert ok == (rows["sorted"]["result"] == "pass")
    assert all(len(t.per_op) == DEFAULT_BATCHES and min(t.per_op) > 0 for t in timings)


@pytest.mark.parametrize(("ok", "line"), [(True, "targets: all pass"), (False, "targets: MISSED")])
def test_print_report_never_fails_the_run(
    ok: bool, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert print_report("### title\n\ntable", ok) == 0
    assert capsys.readouterr().out == f"### title\n\ntable\n\n{line}\n"


def test_bench_main_passes_its_options_to_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    seen: dict[str, object] = {}

    def run(**kwargs: object) -> tuple[str, bool, list[Timing]]:
        seen.update(kwargs)
        return "| table |", False, []

    argv = ["--duration", "1.5", "--batch-ms", "4", "--widgets", "7"]
    code = bench_main(argv, title="9. Widgets", run=run, count="widgets", count_default=3)
    assert code == 0
    assert seen == {"duration": 1.5, "batch_seconds": pytest.approx(0.004), "widgets": 7}
    out = capsys.readouterr().out
    assert out.startswith("### 9. Widgets\n\n| table |\n")
    assert out.rstrip().endswith("targets: MISSED")


def test_bench_main_defaults() -> None:
    seen: dict[str, object] = {}

    def run(**kwargs: object) -> tuple[str, bool, list[Timing]]:
        seen.update(kwargs)
        return "", True, []

    bench_main([], title="t", run=run, count="requests", count_default=64)
    assert seen == {"duration": None, "batch_seconds": pytest.approx(0.020), "requests": 64}
