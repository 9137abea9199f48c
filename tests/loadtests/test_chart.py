"""The charts: round axis ticks, and PNGs Pillow can open, drawn from synthetic data (the
surge chart from a recorder's ``status_history.csv`` and ``summary.json``)."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from PIL import Image

from loadtests.chart import Band, Panel, Series, draw_chart, nice_ticks
from loadtests.surge_chart import draw_surge_chart, load_history
from loadtests.surge_record import DESIGNED_429, SurgeRecorder, phases_for

ISSUE = "POST /v1/certificates [json]"
BATCH = "POST /v1/certificates/batch"


class Response:
    def __init__(self, status: int) -> None:
        self.status_code = status


def _record(recorder: SurgeRecorder, second: int, name: str, status: int, ms: float) -> None:
    recorder.started = time.time() - second - 0.5
    error = RuntimeError(DESIGNED_429) if status == 429 else None
    recorder.on_request("POST", name, ms, 100, response=Response(status), exception=error)


def _png(path: Path) -> Image.Image:
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(path)
    image.load()
    return image


def test_surge_chart_is_a_png_of_three_panels(tmp_path: Path) -> None:
    recorder = SurgeRecorder(None, phases=phases_for(12))
    for second in range(12):
        for ms in (5.0, 6.0, 7.0 + second):
            _record(recorder, second, ISSUE, 201, ms)
    _record(recorder, 7, BATCH, 200, 900.0)
    _record(recorder, 8, BATCH, 429, 2.0)
    recorder.write(tmp_path)
    history = load_history(tmp_path)
    assert history[ISSUE][7]["requests"] == 3
    assert history[ISSUE][11]["p99"] == 18.0
    assert history[BATCH][8]["r429"] == 1
    assert set(history[BATCH]) == {7, 8}
    chart = tmp_path / "charts" / "surge.png"
    draw_surge_chart(tmp_path, chart, base_users=12, workers=2)
    with _png(chart) as image:
        assert image.format == "PNG"
        assert image.size == (1200, 46 + 3 * (260 + 44) + 50)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colours is not None
        assert len(colours) > 10  # bands, lines, text: not a blank page


def test_nice_ticks_are_round_and_cover_the_range() -> None:
    assert nice_ticks(0, 100) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0, 180, 10) == [0, 20, 40, 60, 80, 100, 120, 140, 160, 180]
    ticks = nice_ticks(3, 3)  # an empty range still gets an axis
    assert ticks[0] <= 3 < ticks[-1]
    for low, high in [(0, 7), (0, 1234), (0.5, 0.9)]:
        ticks = nice_ticks(low, high)
        assert ticks[0] <= low
        assert ticks[-1] >= high
        assert len({round(b - a, 9) for a, b in itertools.pairwise(ticks)}) == 1


def test_draw_chart_copes_with_single_points_and_empty_panels(tmp_path: Path) -> None:
    panels = [
        Panel("one point", "ms", [Series("p99", (200, 0, 0), ((5.0, 12.0),))]),
        Panel("nothing yet", "per second"),
    ]
    bands = [Band(0, 10, "calm", (240, 247, 240))]
    path = tmp_path / "deep" / "chart.png"
    draw_chart(panels, bands, path, title="t", x_label="seconds")
    with _png(path) as image:
        assert image.size == (1200, 46 + 2 * (260 + 44) + 50)
