"""``python -m loadtests.fuzz [--minutes M] [--inputs N] [--seed S]``: a long campaign.

Prints progress every 100,000 inputs, then the summary (inputs, findings by kind, slowest
input, peak RSS) and the first findings with their inputs; exits 1 when anything broke.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from loadtests.fuzz.campaign import CampaignResult, run_campaign
from loadtests.fuzz.target import make_target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.fuzz", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="time budget (10)")
    parser.add_argument("--inputs", type=int, default=10_000_000, help="input budget")
    parser.add_argument("--seed", type=int, default=2021, help="mutator seed (2021)")
    parser.add_argument("--show", type=int, default=5, help="findings to print in full (5)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        target = make_target(Path(folder) / "keys")

        def progress(result: CampaignResult) -> None:
            print(
                f"... {result.inputs} inputs, {len(result.findings)} findings, "
                f"{result.seconds:.0f} s",
                flush=True,
            )

        result = run_campaign(
            target,
            seed=args.seed,
            inputs=args.inputs,
            deadline=time.monotonic() + args.minutes * 60,
            on_progress=progress,
        )
    print(f"seed: {args.seed}")
    print(result.summary())
    print(f"slowest input: {result.slowest_input!r}")
    for finding in result.findings[: args.show]:
        print(f"--- {finding.kind} ({finding.strategy}): {finding.data!r}\n{finding.error}")
    return 1 if result.findings else 0


if __name__ == "__main__":
    sys.exit(main())
