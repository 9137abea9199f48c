"""The July-surge timeline (phases) and the per-request recorder the locustfile uses.

:class:`SurgePhases` cuts a run of ``total`` seconds into a calm baseline, a ten-fold ramp
(at most 60 s: "within a minute"), a plateau and a fall back to the baseline.
:class:`SurgeRecorder` keeps (time, name, status, ms) of every request and writes, at the
end, ``status_history.csv`` (per second and request name) and ``summary.json`` (totals,
error types, plateau percentiles). It has no locust import, so it is testable and cheap.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

__all__ = [
    "DESIGNED_429",
    "SURGE_FACTOR",
    "SurgePhases",
    "SurgeRecorder",
    "percentile",
    "phases_for",
]

DESIGNED_429: Final = "429 Too Many Requests with Retry-After (designed)"
SURGE_FACTOR: Final = 10
_MAX_RAMP: Final = 60.0


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True, slots=True)
class SurgePhases:
    """Phase boundaries in seconds from the start: calm, ramp, plateau, fall, end."""

    calm: float
    ramp: float
    plateau: float
    fall: float

    @property
    def ramp_end(self) -> float:
        return self.calm + self.ramp

    @property
    def plateau_end(self) -> float:
        return self.ramp_end + self.plateau

    @property
    def end(self) -> float:
        return self.plateau_end + self.fall

    def name_at(self, elapsed: float) -> str:
        """``calm``, ``ramp``, ``plateau``, ``fall`` or ``end``."""
        if elapsed < self.calm:
            return "calm"
        if elapsed < self.ramp_end:
            return "ramp"
        if elapsed < self.plateau_end:
            return "plateau"
        return "fall" if elapsed < self.end else "end"

    def users_at(self, elapsed: float, base: int) -> int | None:
        """The users to run at ``elapsed``; None once the surge is over."""
        peak = base * SURGE_FACTOR
        phase = self.name_at(elapsed)
        if phase == "calm":
            return base
        if phase == "ramp":
            return round(base + (peak - base) * (elapsed - self.calm) / self.ramp)
        if phase == "plateau":
            return peak
        if phase == "fall":
            # Down to the baseline in the first third of the fall, then calm again.
            share = min(1.0, (elapsed - self.plateau_end) / max(self.fall / 3, 1e-9))
            return round(peak - (peak - base) * share)
        return None


def phases_for(total: float) -> SurgePhases:
    """A surge of ``total`` seconds: 1/6 calm, 1/3 ramp (≤ 60 s), the rest plateau, 1/6 fall."""
    if total < 12:
        raise ValueError("a surge needs at least 12 seconds")
    calm = fall = total / 6
    ramp = min(_MAX_RAMP, total / 3)
    return SurgePhases(calm=calm, ramp=ramp, plateau=total - calm - ramp - fall, fall=fall)


@dataclass
class SurgeRecorder:
    """Every request's outcome, written as CSV + JSON when the test stops."""

    out_dir: Path | None
    phases: SurgePhases | None = None
    started: float = field(default_factory=time.time)
    samples: list[tuple[float, str, int, float]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        response: Any = None,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        """Locust's ``request`` event: keep the time, name, status and latency."""
        status = int(getattr(response, "status_code", 0) or 0)
        self.samples.append((time.time() - self.started, name, status, float(response_time)))
        if exception is not None:
            self.errors[f"{name}: {exception}"] += 1

    def on_test_start(self, **_: Any) -> None:
        """Locust's ``test_start`` event: the surge's clock starts now."""
        self.started = time.time()
        self.samples.clear()

    def on_test_stop(self, **_: Any) -> None:
        """Locust's ``test_stop`` event: write the files."""
        if self.out_dir is not None:
            self.write(self.out_dir)

    def per_second(self) -> list[dict[str, Any]]:
        """Rows of (second, name, requests, ok, r429, other, p50, p95, p99)."""
        buckets: dict[tuple[int, str], list[tuple[int, float]]] = defaultdict(list)
        for offset, name, status, ms in self.samples:
            buckets[(int(offset), name)].append((status, ms))
        rows = []
        for (second, name), items in sorted(buckets.items()):
            latencies = [ms for _, ms in items]
            rows.append(
                {
                    "second": second,
                    "name": name,
                    "requests": len(items),
                    "ok": sum(1 for status, _ in items if 200 <= status < 300),
                    "r429": sum(1 for status, _ in items if status == 429),
                    "other": sum(
                        1 for status, _ in items if not 200 <= status < 300 and status != 429
                    ),
                    "p50": round(percentile(latencies, 0.50), 1),
                    "p95": round(percentile(latencies, 0.95), 1),
                    "p99": round(percentile(latencies, 0.99), 1),
                }
            )
        return rows

    def summary(self) -> dict[str, Any]:
        """Totals per name, statuses, and the latency percentiles of each phase."""
        by_name: dict[str, Counter[int]] = defaultdict(Counter)
        latencies: dict[tuple[str, str], list[float]] = defaultdict(list)
        for offset, name, status, ms in self.samples:
            by_name[name][status] += 1
            phase = self.phases.name_at(offset) if self.phases else "all"
            if 200 <= status < 300:
                latencies[(phase, name)].append(ms)
        return {
            "phases": asdict(self.phases) if self.phases else None,
            "requests": {name: sum(c.values()) for name, c in by_name.items()},
            "statuses": {name: {str(k): v for k, v in c.items()} for name, c in by_name.items()},
            "exceptions": dict(self.errors),
            "latency_ms": {
                f"{phase} | {name}": {
                    "n": len(values),
                    "p50": round(percentile(values, 0.50), 1),
                    "p95": round(percentile(values, 0.95), 1),
                    "p99": round(percentile(values, 0.99), 1),
                    "max": round(max(values), 1),
                }
                for (phase, name), values in sorted(latencies.items())
            },
        }

    def write(self, out_dir: Path) -> None:
        """``status_history.csv`` and ``summary.json`` in ``out_dir``."""
        out_dir.mkdir(parents=True, exist_ok=True)
        rows = self.per_second()
        fields = ["second", "name", "requests", "ok", "r429", "other", "p50", "p95", "p99"]
        with (out_dir / "status_history.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
        (out_dir / "summary.json").write_text(
            json.dumps(self.summary(), indent=2, sort_keys=True), encoding="utf-8"
        )
