"""The surge's summary table: requests and outcomes per request type, errors by type, and
the latency at the plateau, with the two surge targets checked.

Targets: no errors other than designed 429s (a 429 carrying ``Retry-After``), the p99
of single issues (JSON) under 100 ms and the p99 of PDF issues under 250 ms during the
plateau (a run without PDF requests passes the PDF target vacuously, said as "none").
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Final

from loadtests.surge_record import DESIGNED_429

__all__ = ["PDF_P99_TARGET_MS", "PLATEAU_P99_TARGET_MS", "render_summary"]

PLATEAU_P99_TARGET_MS: Final = 100.0
PDF_P99_TARGET_MS: Final = 250.0
_ISSUE_JSON: Final = "POST /v1/certificates [json]"
_ISSUE_PDF: Final = "POST /v1/certificates [pdf]"


def render_summary(out: Path, *, workers: int, base_users: int) -> tuple[str, bool]:
    """Markdown summary of the run in ``out``; True when both surge targets pass."""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    lines = [
        f"### July surge: {base_users} → {base_users * 10} users, dcc serve --workers "
        f"{workers} with Redis quotas",
        "",
        "| request | requests | 2xx | 429 | other | plateau p50 ms | p95 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    other_total = 0
    for name in sorted(summary["requests"]):
        statuses = Counter({int(k): v for k, v in summary["statuses"][name].items()})
        ok = sum(v for k, v in statuses.items() if 200 <= k < 300)
        limited = statuses.get(429, 0)
        other = summary["requests"][name] - ok - limited
        other_total += other
        plateau = summary["latency_ms"].get(f"plateau | {name}", {})
        cells = [
            name,
            f"{summary['requests'][name]:,}",
            f"{ok:,}",
            f"{limited:,}",
            f"{other:,}",
            *(f"{plateau.get(key, 0):.1f}" for key in ("p50", "p95", "p99", "max")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    errors: Counter[str] = Counter()
    for key, count in summary["exceptions"].items():
        errors[key.split(": ", 1)[-1]] += count
    lines += ["", "Errors by type:", ""]
    lines += [f"- {message}: {count:,}" for message, count in errors.most_common()] or ["- none"]
    undesigned = sum(count for message, count in errors.items() if DESIGNED_429 not in message)
    p99 = summary["latency_ms"].get(f"plateau | {_ISSUE_JSON}", {}).get("p99", float("inf"))
    no_errors = undesigned == 0 and other_total == 0
    fast = p99 < PLATEAU_P99_TARGET_MS
    pdf = summary["latency_ms"].get(f"plateau | {_ISSUE_PDF}", {}).get("p99")
    pdf_fast = pdf is None or pdf < PDF_P99_TARGET_MS
    lines += [
        "",
        f"- no errors other than designed 429s: {'pass' if no_errors else '**MISS**'} "
        f"({max(undesigned, other_total)} undesigned)",
        f"- p99 of single issue at the plateau < {PLATEAU_P99_TARGET_MS:.0f} ms: "
        f"{'pass' if fast else '**MISS**'} ({p99:.1f} ms)",
        f"- p99 of PDF issue at the plateau < {PDF_P99_TARGET_MS:.0f} ms: "
        f"{'pass' if pdf_fast else '**MISS**'} ({'none' if pdf is None else f'{pdf:.1f} ms'})",
    ]
    return "\n".join(lines), no_errors and fast and pdf_fast
