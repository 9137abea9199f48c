"""What the benches share around their stages: throw-away keys, the timed table, the CLI.

An in-process bench (1 issue, 2 verify, 3 QR PNG) builds its stages from keys made in
:func:`temporary_keys`, times them with :func:`measure_table` and hands its ``run`` to
:func:`bench_main`, which parses ``--duration``, ``--batch-ms`` and the number of distinct
inputs to cycle through, then prints the table under the bench's title. Every bench's
``main`` (the HTTP ones too) ends with :func:`print_report`.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from loadtests.fixtures import make_keys
from loadtests.timing import (
    DEFAULT_BATCH_SECONDS,
    Stage,
    Timing,
    batches_for,
    measure,
    render_table,
)

__all__ = ["BenchRun", "bench_main", "measure_table", "print_report", "temporary_keys"]

BenchRun = Callable[..., tuple[str, bool, list[Timing]]]
"""An in-process bench's ``run(*, duration, batch_seconds, <count>)``."""


@contextmanager
def temporary_keys(bench: str) -> Iterator[Path]:
    """A keys directory with a fresh test CSCA and DSC (ES256), deleted on exit."""
    with tempfile.TemporaryDirectory(prefix=f"dcc-bench-{bench}-") as tmp:
        yield make_keys(Path(tmp))


def measure_table(
    stages: Sequence[Stage], baseline: str, *, duration: float | None, batch_seconds: float
) -> tuple[str, bool, list[Timing]]:
    """Time ``stages`` for about ``duration`` seconds against the stage named ``baseline``.

    Returns the markdown table, whether every target passes, and the timings.
    """
    timings = measure(
        stages,
        batches=batches_for(duration, len(stages), batch_seconds),
        batch_seconds=batch_seconds,
    )
    table, ok = render_table(timings, baseline)
    return table, ok, timings


def print_report(text: str, ok: bool) -> int:
    """Print a bench's markdown and its targets line; return 0 (targets are not enforced)."""
    print(text)
    print(f"\ntargets: {'all pass' if ok else 'MISSED'}")
    return 0


def bench_main(
    argv: Sequence[str] | None,
    *,
    title: str,
    run: BenchRun,
    count: str,
    count_default: int,
) -> int:
    """Parse an in-process bench's options, run it and print its table under ``title``.

    ``count`` names both the option (``--requests``, ``--certificates``) and the keyword of
    ``run`` that takes how many distinct inputs the stages cycle through.
    """
    parser = argparse.ArgumentParser(description=f"Bench {title}")
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="approximate seconds of timed batches (default: 25 batches)",
    )
    parser.add_argument("--batch-ms", type=float, default=DEFAULT_BATCH_SECONDS * 1000)
    parser.add_argument(
        f"--{count}",
        type=int,
        default=count_default,
        help=f"distinct {count} cycled through (default {count_default})",
    )
    args = parser.parse_args(argv)
    table, ok, _ = run(
        duration=args.duration,
        batch_seconds=args.batch_ms / 1000,
        **{count: getattr(args, count)},
    )
    return print_report(f"### {title}\n\n{table}", ok)
