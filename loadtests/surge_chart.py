"""The surge chart: throughput, single-issue latency percentiles and 429s over time.

Reads the recorder's ``status_history.csv`` (exact per-second figures per request name)
and the phases from ``summary.json``, both written by :mod:`loadtests.locustfile`.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Final

from loadtests.chart import Band, Panel, Series, draw_chart

__all__ = ["draw_surge_chart", "load_history"]

_ISSUE_JSON: Final = "POST /v1/certificates [json]"
_ISSUE_PNG: Final = "POST /v1/certificates [png]"
_ISSUE_PDF: Final = "POST /v1/certificates [pdf]"
_SINGLES: Final = (_ISSUE_JSON, _ISSUE_PNG, _ISSUE_PDF)
_BATCH: Final = "POST /v1/certificates/batch"
_VERIFY: Final = ("POST /v1/verify [hc1]", "POST /v1/verify [image]")
_PHASE_COLORS: Final = {
    "calm": (240, 247, 240),
    "ramp": (253, 244, 226),
    "plateau": (252, 232, 232),
    "fall": (236, 242, 250),
}

Row = dict[str, float]


def load_history(out: Path) -> dict[str, dict[int, Row]]:
    """``status_history.csv`` as {request name: {second: row}}."""
    history: dict[str, dict[int, Row]] = defaultdict(dict)
    with (out / "status_history.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            values = {key: float(value) for key, value in row.items() if key != "name"}
            history[row["name"]][int(values["second"])] = values
    return history


def _series(
    history: dict[str, dict[int, Row]], names: tuple[str, ...], column: str, last: int
) -> tuple[tuple[float, float], ...]:
    return tuple(
        (
            float(second),
            sum(history.get(name, {}).get(second, {}).get(column, 0.0) for name in names),
        )
        for second in range(last + 1)
    )


def _latency(
    history: dict[str, dict[int, Row]], name: str, column: str
) -> tuple[tuple[float, float], ...]:
    rows = history.get(name, {})
    return tuple((float(second), row[column]) for second, row in sorted(rows.items()))


def draw_surge_chart(out: Path, chart: Path, *, base_users: int, workers: int) -> None:
    """Draw the three-panel chart of the surge recorded in ``out`` into ``chart``."""
    history = load_history(out)
    phases = json.loads((out / "summary.json").read_text(encoding="utf-8"))["phases"]
    last = max((second for rows in history.values() for second in rows), default=0)
    everything = tuple(history)
    bands, start = [], 0.0
    for phase in ("calm", "ramp", "plateau", "fall"):
        end = start + phases[phase]
        bands.append(Band(start, end, phase, _PHASE_COLORS[phase]))
        start = end
    throughput = Panel(
        "Throughput",
        "requests/s",
        [
            Series("all requests", (40, 40, 40), _series(history, everything, "requests", last)),
            Series(
                "single issue (JSON+PNG+PDF)",
                (31, 119, 180),
                _series(history, _SINGLES, "requests", last),
            ),
            Series(
                "verify (HC1+image)", (44, 160, 44), _series(history, _VERIFY, "requests", last)
            ),
            Series("lab batches", (148, 103, 189), _series(history, (_BATCH,), "requests", last)),
        ],
    )
    latency = Panel(
        "Single issue latency (JSON), per second",
        "ms",
        [
            Series("p50", (44, 160, 44), _latency(history, _ISSUE_JSON, "p50")),
            Series("p95", (255, 127, 14), _latency(history, _ISSUE_JSON, "p95")),
            Series("p99", (214, 39, 40), _latency(history, _ISSUE_JSON, "p99")),
            Series("p99 PNG", (140, 86, 75), _latency(history, _ISSUE_PNG, "p99"), width=1),
            Series("p99 PDF", (227, 119, 194), _latency(history, _ISSUE_PDF, "p99"), width=1),
        ],
    )
    refusals = Panel(
        "429 answers and errors",
        "per second",
        [
            Series(
                "429 labs (designed)", (148, 103, 189), _series(history, (_BATCH,), "r429", last)
            ),
            Series(
                "429 pharmacists",
                (31, 119, 180),
                _series(history, _SINGLES, "r429", last),
            ),
            Series("other errors", (214, 39, 40), _series(history, everything, "other", last)),
        ],
    )
    draw_chart(
        [throughput, latency, refusals],
        bands,
        chart,
        title=f"July surge: {base_users} to {base_users * 10} users, dcc serve --workers "
        f"{workers} + Redis, 2-core box",
        x_label="seconds since start",
    )
