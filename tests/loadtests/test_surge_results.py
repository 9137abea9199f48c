"""What a surge leaves behind, from synthetic requests: the recorder's CSV and JSON, the
summary table with its two verdicts, and ``make surge``'s command line (the chart: test_chart).

Requests are fed to :class:`SurgeRecorder` the way locust's ``request`` event does, each at
a chosen second of the run; no locust, no server, no real surge.
"""

from __future__ import annotations

import base64
import csv
import json
import time
from pathlib import Path
from typing import Any

import pytest

from loadtests import surge
from loadtests.fixtures import sample_requests
from loadtests.servers import Server
from loadtests.surge_record import DESIGNED_429, SurgeRecorder, percentile, phases_for
from loadtests.surge_report import PDF_P99_TARGET_MS, PLATEAU_P99_TARGET_MS, render_summary

ISSUE = "POST /v1/certificates [json]"
PNG = "POST /v1/certificates [png]"
PDF = "POST /v1/certificates [pdf]"
BATCH = "POST /v1/certificates/batch"
VERIFY = "POST /v1/verify [hc1]"
FIELDS = ["second", "name", "requests", "ok", "r429", "other", "p50", "p95", "p99"]


class Response:
    def __init__(self, status: int) -> None:
        self.status_code = status


class CatchResponseError(Exception):
    """Locust's failure exception: its text is the message given to ``failure``."""


def record(
    recorder: SurgeRecorder, second: int, name: str, status: int, ms: float, error: str = ""
) -> None:
    """One request event at ``second`` (mid-second) of the run."""
    recorder.started = time.time() - second - 0.5
    recorder.on_request(
        request_type="POST",
        name=name,
        response_time=ms,
        response_length=100,
        response=Response(status) if status else None,
        exception=CatchResponseError(error) if error else None,
        context={},
    )


def _clean_run(recorder: SurgeRecorder, plateau_ms: float = 10.0) -> None:
    """12 s: calm 0-2, ramp 2-6, plateau 6-10, fall 10-12; designed 429s for labs."""
    for second in range(12):
        for ms in (5.0, 6.0, 7.0):
            record(recorder, second, ISSUE, 201, ms)
        record(recorder, second, VERIFY, 200, 3.0)
    for ms in range(1, 101):
        record(recorder, 7, ISSUE, 201, plateau_ms * ms / 100)
    record(recorder, 8, PNG, 201, 30.0)
    record(recorder, 7, BATCH, 200, 900.0)
    record(recorder, 8, BATCH, 429, 2.0, DESIGNED_429)
    record(recorder, 9, BATCH, 429, 2.0, DESIGNED_429)


@pytest.fixture
def recorder() -> SurgeRecorder:
    return SurgeRecorder(None, phases=phases_for(12))


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(100, 0, -1)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) == 0.0


def test_recorder_writes_per_second_history_and_summary(
    recorder: SurgeRecorder, tmp_path: Path
) -> None:
    _clean_run(recorder)
    record(recorder, 10, ISSUE, 500, 50.0, "unexpected HTTP 500")
    record(recorder, 11, VERIFY, 0, 1.0, "ConnectionResetError(104)")
    recorder.write(tmp_path)
    with (tmp_path / "status_history.csv").open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == FIELDS
        rows = {(int(row["second"]), row["name"]): row for row in reader}
    assert rows[(7, ISSUE)] | {"name": ""} == {
        "second": "7",
        "name": "",
        "requests": "103",
        "ok": "103",
        "r429": "0",
        "other": "0",
        "p50": "5.1",
        "p95": "9.5",
        "p99": "9.9",
    }
    assert (rows[(8, BATCH)]["requests"], rows[(8, BATCH)]["r429"]) == ("1", "1")
    assert (rows[(10, ISSUE)]["ok"], rows[(10, ISSUE)]["other"]) == ("3", "1")
    assert rows[(11, VERIFY)]["other"] == "1"  # no response at all: not a 2xx, not a 429
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["phases"] == {"calm": 2.0, "ramp": 4.0, "plateau": 4.0, "fall": 2.0}
    assert summary["requests"] == {ISSUE: 137, VERIFY: 13, PNG: 1, BATCH: 3}
    assert summary["statuses"][BATCH] == {"200": 1, "429": 2}
    assert summary["statuses"][VERIFY] == {"200": 12, "0": 1}
    assert summary["exceptions"] == {
        f"{BATCH}: {DESIGNED_429}": 2,
        f"{ISSUE}: unexpected HTTP 500": 1,
        f"{VERIFY}: ConnectionResetError(104)": 1,
    }
    plateau = summary["latency_ms"][f"plateau | {ISSUE}"]
    assert plateau["n"] == 4 * 3 + 100  # successes only, seconds 6-9
    assert plateau["max"] == 10.0
    assert set(summary["latency_ms"]) >= {f"calm | {ISSUE}", f"ramp | {ISSUE}", f"fall | {ISSUE}"}


def test_recorder_restarts_at_test_start_and_writes_at_stop(tmp_path: Path) -> None:
    recorder = SurgeRecorder(tmp_path / "out", phases=phases_for(12))
    record(recorder, 1, ISSUE, 201, 5.0)
    recorder.on_test_start()
    assert recorder.samples == []
    record(recorder, 1, ISSUE, 201, 5.0)
    recorder.on_test_stop()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["requests"] == {ISSUE: 1}
    SurgeRecorder(None).on_test_stop()  # nowhere to write: nothing written, no error


def _summary(tmp_path: Path, recorder: SurgeRecorder) -> tuple[str, bool]:
    recorder.write(tmp_path)
    return render_summary(tmp_path, workers=2, base_users=12)


def test_summary_of_a_clean_surge_passes(recorder: SurgeRecorder, tmp_path: Path) -> None:
    _clean_run(recorder)
    text, ok = _summary(tmp_path, recorder)
    assert ok
    lines = text.splitlines()
    assert lines[0] == "### July surge: 12 → 120 users, dcc serve --workers 2 with Redis quotas"
    assert f"| {BATCH} | 3 | 1 | 2 | 0 | 900.0 | 900.0 | 900.0 | 900.0 |" in lines
    assert f"- {DESIGNED_429}: 2" in lines
    assert "- no errors other than designed 429s: pass (0 undesigned)" in lines
    p99 = f"- p99 of single issue at the plateau < {PLATEAU_P99_TARGET_MS:.0f} ms: pass (9.9 ms)"
    assert p99 in lines


@pytest.mark.parametrize(("pdf_ms", "ok"), [(200.0, True), (300.0, False)])
def test_summary_checks_the_pdf_p99_at_the_plateau(
    recorder: SurgeRecorder, tmp_path: Path, pdf_ms: float, ok: bool
) -> None:
    _clean_run(recorder)
    for ms in range(1, 101):
        record(recorder, 8, PDF, 201, pdf_ms * ms / 100)
    text, passed = _summary(tmp_path, recorder)
    assert passed is ok
    verdict = "pass" if ok else "**MISS**"
    line = f"- p99 of PDF issue at the plateau < {PDF_P99_TARGET_MS:.0f} ms: {verdict}"
    assert line in text


def test_summary_misses_on_an_undesigned_error(recorder: SurgeRecorder, tmp_path: Path) -> None:
    _clean_run(recorder)
    record(recorder, 7, BATCH, 429, 1.0, "unexpected HTTP 429")  # a 429 without Retry-After
    text, ok = _summary(tmp_path, recorder)
    assert not ok
    assert "- unexpected HTTP 429: 1" in text.splitlines()
    assert "- no errors other than designed 429s: **MISS** (1 undesigned)" in text


def test_summary_misses_on_a_failed_answer(recorder: SurgeRecorder, tmp_path: Path) -> None:
    _clean_run(recorder)
    record(recorder, 7, ISSUE, 503, 1.0, "unexpected HTTP 503")
    text, ok = _summary(tmp_path, recorder)
    assert not ok
    assert "- no errors other than designed 429s: **MISS**" in text


def test_summary_counts_each_failed_request_once(recorder: SurgeRecorder, tmp_path: Path) -> None:
    _clean_run(recorder)
    record(recorder, 7, ISSUE, 503, 1.0, "unexpected HTTP 503")
    text, _ = _summary(tmp_path, recorder)
    assert "(1 undesigned)" in text


def test_summary_misses_a_slow_plateau(recorder: SurgeRecorder, tmp_path: Path) -> None:
    _clean_run(recorder, plateau_ms=400.0)
    text, ok = _summary(tmp_path, recorder)
    assert not ok
    assert "ms: **MISS** (396.0 ms)" in text
    assert "designed 429s: pass" in text


def test_summary_without_plateau_issues_misses(tmp_path: Path) -> None:
    recorder = SurgeRecorder(None, phases=phases_for(12))
    record(recorder, 1, ISSUE, 201, 5.0)
    text, ok = _summary(tmp_path, recorder)
    assert not ok
    assert "**MISS** (inf ms)" in text
    assert "- none" in text.splitlines()


def test_surge_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: dict[str, Any] = {}

    def run_surge(**kwargs: Any) -> int:
        calls["run"] = kwargs
        return 1

    def draw(out: Path, chart: Path, **kwargs: Any) -> None:
        calls["chart"] = (out, chart, kwargs)

    def summary(out: Path, **kwargs: Any) -> tuple[str, bool]:
        calls["summary"] = (out, kwargs)
        return "table", calls.get("clean", True)

    monkeypatch.setattr(surge, "run_surge", run_surge)
    monkeypatch.setattr(surge, "draw_surge_chart", draw)
    monkeypatch.setattr(surge, "render_summary", summary)
    out = tmp_path / "surge"
    argv = ["--seconds", "30", "--base-users", "3", "--workers", "1", "--out", str(out)]
    assert surge.main(argv) == 0  # locust's own exit code does not decide
    assert calls["run"] == {
        "seconds": 30.0,
        "base_users": 3,
        "workers": 1,
        "out": out,
        "server": None,
    }
    assert calls["chart"] == (out, out / "surge.png", {"base_users": 3, "workers": 1})
    assert calls["summary"] == (out, {"workers": 1, "base_users": 3})
    calls["clean"] = False
    assert surge.main([*argv, "--chart", str(tmp_path / "c.png")]) == 1
    assert calls["chart"][1] == tmp_path / "c.png"


def test_surge_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(surge, "run_surge", lambda **kwargs: seen.update(kwargs) or 0)
    monkeypatch.setattr(surge, "draw_surge_chart", lambda *args, **kwargs: None)
    monkeypatch.setattr(surge, "render_summary", lambda *args, **kwargs: ("", True))
    assert surge.main([]) == 0
    assert seen == {
        "seconds": 180.0,
        "base_users": 12,
        "workers": 2,
        "out": Path("var/surge"),
        "server": None,
    }
    assert surge.main(["--server", "granian"]) == 0
    assert seen["server"] == "granian"


def test_surge_data_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    issued: list[tuple[str, dict[str, Any], str]] = []

    def issue(server: Server, key: str, body: dict[str, Any], accept: str) -> bytes:
        issued.append((key, body, accept))
        if accept == "image/png":
            return b"\x89PNG-" + str(len(issued)).encode()
        return json.dumps({"hc1": f"HC1:{len(issued)}"}).encode()

    monkeypatch.setattr(surge, "_issue", issue)
    keys = {"pharmacists": ["p0", "p1"], "labs": ["l0"]}
    path = tmp_path / "surge-data.json"
    surge.prepare_data(None, keys, path)  # type: ignore[arg-type]
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["pharmacists"] == ["p0", "p1"]
    assert data["labs"] == ["l0"]
    assert data["hc1"] == [f"HC1:{n}" for n in range(1, 17)]
    assert [base64.b64decode(p) for p in data["png_b64"]] == [
        b"\x89PNG-" + str(n).encode() for n in range(17, 21)
    ]
    assert {key for key, _, _ in issued} == {"p0"}
    expected = sample_requests(20)
    assert [body["person"] for _, body, _ in issued] == [body["person"] for body in expected]
    assert [accept for _, _, accept in issued] == ["application/json"] * 16 + ["image/png"] * 4
