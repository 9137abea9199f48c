"""Run mutated inputs through :func:`verifier.verify` and the report encoder; collect findings.

A finding is an exception escaping ``verify``, a report the JSON encoder (orjson, what the
HTTP API uses) cannot write, or a report whose error is ``internal_error`` (a bug caught by
the pipeline's last line of defence). Timing is recorded for the campaign's summary only
(slowest input); bounds are asserted structurally by the tests, never by the clock.
"""

from __future__ import annotations

import resource
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from loadtests.fuzz.mutate import Mutator
from loadtests.fuzz.target import FuzzTarget
from verifier import VerificationReport, verify

__all__ = ["CampaignResult", "Finding", "run_campaign"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One input that broke a promise: what kind, the input, and the error."""

    kind: str  # "exception", "unserialisable", "internal_error"
    strategy: str
    data: str
    error: str


@dataclass(slots=True)
class CampaignResult:
    """What a campaign saw."""

    inputs: int = 0
    findings: list[Finding] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    strategies: Counter[str] = field(default_factory=Counter)
    slowest_seconds: float = 0.0
    slowest_input: str = ""
    slowest_strategy: str = ""
    peak_rss_kib: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """A few lines for a terminal or a report."""
        lines = [
            f"inputs: {self.inputs} in {self.seconds:.1f} s "
            f"({self.inputs / max(self.seconds, 1e-9):.0f}/s)",
            f"findings: {len(self.findings)} "
            f"({dict(Counter(finding.kind for finding in self.findings))})",
            f"strategies: {dict(sorted(self.strategies.items()))}",
            f"slowest input: {self.slowest_seconds * 1000:.2f} ms "
            f"({self.slowest_strategy}, {len(self.slowest_input)} chars)",
            f"peak RSS: {self.peak_rss_kib / 1024:.1f} MiB",
            "outcomes (first failed check/code): "
            + ", ".join(f"{key} {count}" for key, count in self.outcomes.most_common(12)),
        ]
        return "\n".join(lines)


def _outcome(report: VerificationReport) -> str:
    if report.error is None:
        return "valid" if report.valid else "unverified"
    return f"{report.error.check}/{report.error.code}"


def check_one(target: FuzzTarget, strategy: str, data: str) -> tuple[str, Finding | None]:
    """Verify ``data`` and encode its report; the outcome, and a finding if one broke."""
    try:
        report = verify(data, trust=target.trust, now=target.now)
    except Exception:
        return "exception", Finding("exception", strategy, data, traceback.format_exc())
    try:
        orjson.dumps(report.to_dict())
    except Exception as exc:
        return "unserialisable", Finding("unserialisable", strategy, data, repr(exc))
    outcome = _outcome(report)
    if report.error is not None and report.error.code == "internal_error":
        return outcome, Finding("internal_error", strategy, data, report.error.message)
    return outcome, None


def run_campaign(
    target: FuzzTarget,
    *,
    seed: int,
    inputs: int,
    deadline: float | None = None,
    on_progress: Callable[[CampaignResult], None] | None = None,
) -> CampaignResult:
    """Run up to ``inputs`` mutated inputs (or until ``time.monotonic() >= deadline``)."""
    mutator = Mutator(target, seed)
    result = CampaignResult()
    started = time.perf_counter()
    for index in range(inputs):
        if deadline is not None and time.monotonic() >= deadline:
            break
        strategy, data = mutator.next()
        began = time.perf_counter()
        outcome, finding = check_one(target, strategy, data)
        spent = time.perf_counter() - began
        result.inputs += 1
        result.strategies[strategy] += 1
        result.outcomes[outcome] += 1
        if finding is not None:
            result.findings.append(finding)
        if spent > result.slowest_seconds:
            result.slowest_seconds, result.slowest_input = spent, data
            result.slowest_strategy = strategy
        if on_progress is not None and index % 100_000 == 99_999:
            result.seconds = time.perf_counter() - started
            on_progress(result)
    result.seconds = time.perf_counter() - started
    result.peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return result
