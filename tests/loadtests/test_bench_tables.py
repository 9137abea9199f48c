"""The HTTP benches' tables (4: single issue vs bare; 5: batches) from synthetic runs, and
the in-process benches run end to end for a moment: every verdict follows the figures and
the rules stated in the tables' headers (ratios against the FastAPI bare endpoint, any
error fails a row). Speeds are synthetic or not asserted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loadtests import bench
from loadtests.bench_batch import BATCH_TARGET, P99_TARGET_MS, Phase, Tally
from loadtests.bench_batch import render as render_batch
from loadtests.bench_http import BARE, BARE_PLAIN, HTTP_TARGETS, Endpoint, render
from loadtests.loadgen import LoadResult

MEMORY, REDIS = "dcc serve, in-process quotas", "dcc serve, Redis quotas"


def _run(rps: float, *, non_2xx: int = 0, errors: int = 0, seconds: float = 8.0) -> LoadResult:
    return LoadResult(
        generator="wrk",
        requests=round(rps * seconds),
        seconds=seconds,
        non_2xx=non_2xx,
        socket_errors=errors,
        p50_ms=1.5,
        p90_ms=2.5,
        p99_ms=4.25,
        max_ms=9.0,
    )


def _cells(table: str) -> dict[str, list[str]]:
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    header, *body = rows
    assert header.startswith(("| endpoint |", "| phase |"))
    return {
        cells[0]: cells[1:] for cells in ([c.strip() for c in r.split("|")[1:-1]] for r in body)
    }


def test_load_result_rate() -> None:
    assert _run(1000).rps == 1000
    assert LoadResult("x", 5, 0.0, 0, 0, 0, 0, 0, 0).rps == 0.0


def test_median_run_is_the_middle_throughput() -> None:
    endpoint = Endpoint("e", (_run(300), _run(100), _run(200)))
    assert endpoint.median_run().rps == 200
    assert Endpoint("e", (_run(50),)).median_run().rps == 50


def test_ratios_are_against_the_fastapi_bare_endpoint() -> None:
    endpoints = [
        Endpoint(BARE, (_run(10_000), _run(9_000), _run(11_000))),
        Endpoint(BARE_PLAIN, (_run(20_000),) * 3),
        Endpoint(MEMORY, (_run(6_500), _run(6_000), _run(7_000))),
        Endpoint(REDIS, (_run(4_000),) * 3),
    ]
    table, ok = render(endpoints, workers=2, connections=32)
    first = table.splitlines()[0]
    assert first == (
        "load: wrk, 32 connections, 3 interleaved rounds of 8 s per server; "
        "uvicorn workers: 2; loopback"
    )
    cells = _cells(table)
    assert list(cells) == [BARE, BARE_PLAIN, MEMORY, REDIS]
    assert cells[BARE][:7] == ["10,000", "9,000", "11,000", "1.50", "4.25", "0", "1.00x"]
    assert cells[BARE][7] == "baseline"
    assert cells[BARE_PLAIN][6] == "2.00x"
    assert cells[MEMORY][0] == "6,500"
    assert cells[MEMORY][6:] == ["0.65x", f"≥ {HTTP_TARGETS[MEMORY]:.2f}x", "pass"]
    assert cells[REDIS][6:] == ["0.40x", f"≥ {HTTP_TARGETS[REDIS]:.2f}x", "**MISS**"]
    assert not ok


def test_every_row_has_as_many_cells_as_the_header() -> None:
    endpoints = [Endpoint(BARE, (_run(10_000),)), Endpoint(MEMORY, (_run(6_000),))]
    table, _ = render(endpoints, workers=1, connections=8)
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert {row.count("|") for row in rows} == {rows[0].count("|")}


def test_both_targets_met_without_errors_pass() -> None:
    endpoints = [
        Endpoint(BARE, (_run(10_000),)),
        Endpoint(MEMORY, (_run(6_000),)),
        Endpoint(REDIS, (_run(5_000),)),
    ]
    table, ok = render(endpoints, workers=1, connections=8)
    assert ok
    assert [row[-1] for row in _cells(table).values()] == ["", "pass", "pass"]


@pytest.mark.parametrize("failure", [{"non_2xx": 1}, {"errors": 3}])
def test_any_failed_request_makes_a_row_miss_however_fast(failure: dict[str, int]) -> None:
    endpoints = [
        Endpoint(BARE, (_run(10_000),) * 3),
        Endpoint(MEMORY, (_run(9_000), _run(9_000, **failure), _run(9_000))),
        Endpoint(REDIS, (_run(9_000),) * 3),
    ]
    table, ok = render(endpoints, workers=1, connections=32)
    cells = _cells(table)
    assert cells[MEMORY][5] == str(sum(failure.values()))
    assert cells[MEMORY][-1] == "**MISS**"
    assert cells[REDIS][-1] == "pass"
    assert not ok


def test_a_dead_baseline_fails_every_target() -> None:
    endpoints = [Endpoint(BARE, (_run(0),)), Endpoint(MEMORY, (_run(100),))]
    table, ok = render(endpoints, workers=1, connections=1)
    assert not ok
    assert _cells(table)[MEMORY][6:] == ["0.00x", "≥ 0.60x", "**MISS**"]


def _tally(latencies: list[float], *, certificates: int = 0, batches: int = 0) -> Tally:
    return Tally(latencies_ms=latencies, certificates=certificates, batches=batches)


def test_tally_percentiles() -> None:
    tally = _tally([float(n) for n in range(100, 0, -1)])
    assert tally.p(0.50) == 51.0
    assert tally.p(0.99) == 100.0
    assert _tally([]).p(0.99) == 0.0


def test_batch_table_verdicts_follow_rate_p99_and_failures() -> None:
    fast = [5.0] * 99 + [20.0]
    phases = [
        Phase("singles alone", 10.0, _tally(fast), None),
        Phase("batches alone", 10.0, None, _tally([], certificates=60_000, batches=60)),
        Phase("batches + singles", 10.0, _tally(fast), _tally([], certificates=55_000, batches=55)),
    ]
    table, ok = render_batch(phases, batch_size=1000, workers=2)
    assert table.splitlines()[0].startswith("dcc serve --workers 2; batches of 1000 items")
    cells = _cells(table)
    assert cells["singles alone"] == ["", "", "100", "5.0", "20.0", "20.0", "0", ""]
    assert cells["batches alone"][:3] == ["6,000", "60", ""]
    assert cells["batches alone"][-1] == f"≥ {BATCH_TARGET:,.0f}/s pass"
    assert cells["batches + singles"][-1] == (
        f"≥ {BATCH_TARGET:,.0f}/s pass; p99 < {P99_TARGET_MS:.0f} ms pass"
    )
    assert ok


def test_batch_table_misses_slow_batches_slow_singles_and_failures() -> None:
    slow = [5.0] * 98 + [150.0, 150.0]
    failing = _tally([5.0] * 10)
    failing.failures = 1
    phases = [
        Phase("batches alone", 10.0, None, _tally([], certificates=40_000)),
        Phase("batches + singles", 10.0, _tally(slow), _tally([], certificates=90_000)),
        Phase("failures", 10.0, failing, _tally([], certificates=90_000)),
    ]
    table, ok = render_batch(phases, batch_size=500, workers=1)
    cells = _cells(table)
    assert cells["batches alone"][-1].endswith("**MISS**")
    assert cells["batches + singles"][-1].endswith(f"p99 < {P99_TARGET_MS:.0f} ms **MISS**")
    assert cells["batches + singles"][-1].startswith(f"≥ {BATCH_TARGET:,.0f}/s pass")
    assert cells["failures"][6] == "1"
    assert cells["failures"][-1].count("**MISS**") == 2
    assert not ok


def test_in_process_benches_run_and_write_their_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.md"
    argv = ["--only", "1", "--only", "2", "--batch-ms", "1", "--out", str(out)]
    assert bench.main(argv) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("Machine: ")
    assert "CPUs, load average" in text
    sections = text.split("\n\n### ")
    assert sections[1].startswith("1. Issue one certificate in-process")
    assert sections[2].startswith("2. Verify one HC1 in-process")
    missed = []
    for number, section in enumerate(sections[1:], start=1):
        rows = [line for line in section.splitlines() if line.startswith("| ")][1:]
        assert rows
        assert " | 1.00x | baseline |  |" in rows[0]
        targeted = [row for row in rows if "| ≤ 3.00x |" in row]
        assert len(targeted) == 1
        assert targeted[0].endswith(("| pass |", "| **MISS** |"))
        if targeted[0].endswith("| **MISS** |"):
            missed.append(number)
        footer = (
            r"\n\n\(\d+ s; load average 1/5/15 min before [\d., ]+, after [\d., ]+ on \d+ CPUs\)$"
        )
        assert re.search(footer, section.split("\n\ntargets")[0])
    last = text.rstrip().splitlines()[-1]
    assert last == (f"targets missed in bench {missed}" if missed else "targets: all pass")
    assert capsys.readouterr().out.startswith("Machine: ")
