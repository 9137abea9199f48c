"""A bounded run of the mutation fuzzer (loadtests/fuzz) in CI: 5,000 inputs, seed 2021.

Every report is written by orjson, nothing escapes ``verify``, no ``internal_error``. The
work per input is bounded by structure, not by the clock, and checked per input:

* the text is at most ``MAX_HC1_CHARS`` long, or refused at ``prefix`` before decoding;
* inflating never yields more than ``MAX_INFLATED_BYTES``;
* at most ``MAX_CANDIDATES_PER_KID`` signature checks are made.

``make fuzz`` runs the same mutator for ten minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import verifier.pipeline
from hcert.hc1 import MAX_HC1_CHARS, MAX_INFLATED_BYTES
from loadtests.fuzz.campaign import check_one
from loadtests.fuzz.mutate import STRATEGIES, Mutator
from loadtests.fuzz.target import FuzzTarget, make_target
from verifier import MAX_CANDIDATES_PER_KID, verify

INPUTS = 5000
SEED = 2021


class Work:
    """Per-input counters, fed by wrappers around the pipeline's costly steps."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.signature_checks = 0
        self.inflated = 0
        inflate, verify_sign1 = verifier.pipeline.inflate, verifier.pipeline.verify_sign1

        def counted_inflate(data: bytes, **options: Any) -> bytes:
            out = inflate(data, **options)
            self.inflated = max(self.inflated, len(out))
            return out

        def counted_verify(*args: Any) -> None:
            self.signature_checks += 1
            verify_sign1(*args)

        monkeypatch.setattr(verifier.pipeline, "inflate", counted_inflate)
        monkeypatch.setattr(verifier.pipeline, "verify_sign1", counted_verify)

    def reset(self) -> None:
        self.signature_checks = self.inflated = 0


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> FuzzTarget:
    return make_target(tmp_path_factory.mktemp("fuzz") / "keys")


def test_the_seed_is_valid(target: FuzzTarget) -> None:
    assert verify(target.seed(), trust=target.trust, now=target.now).valid


def test_bounded_mutation_fuzz(target: FuzzTarget, monkeypatch: pytest.MonkeyPatch) -> None:
    work = Work(monkeypatch)
    mutator = Mutator(target, SEED)
    outcomes: Counter[str] = Counter()
    strategies: Counter[str] = Counter()
    findings = []
    for _ in range(INPUTS):
        work.reset()
        strategy, data = mutator.next()
        outcome, finding = check_one(target, strategy, data)
        outcomes[outcome] += 1
        strategies[strategy] += 1
        if finding is not None:
            findings.append(finding)
        if len(data) > MAX_HC1_CHARS:
            assert outcome == "prefix/input_too_long"
        assert work.inflated <= MAX_INFLATED_BYTES
        assert work.signature_checks <= MAX_CANDIDATES_PER_KID
    assert findings == []
    assert set(strategies) == set(STRATEGIES)
    # The mutator reaches every layer, including validly signed certificates that fail the
    # schema (where the 64-bit integers were) and the rules.
    reached = {outcome.split("/")[0] for outcome in outcomes}
    assert {"prefix", "base45", "zlib", "cose", "kid", "signature", "schema"} <= reached
    assert sum(count for key, count in outcomes.items() if key.startswith("schema/")) > 100


def test_the_mutator_is_reproducible(target: FuzzTarget) -> None:
    """The same seed makes the same mutations (ECDSA signatures are randomised, so the
    re-signed bytes differ: compare the strategies and the unsigned text edits)."""
    first, second = Mutator(target, 7), Mutator(target, 7)
    second.seed_text = first.seed_text
    runs = [[mutator.next() for _ in range(200)] for mutator in (first, second)]
    assert [kind for kind, _ in runs[0]] == [kind for kind, _ in runs[1]]
    texts = [[data for kind, data in run if kind == "text"] for run in runs]
    assert texts[0] == texts[1]
    assert texts[0]


@pytest.mark.slow
def test_the_coverage_guided_harness_runs(tmp_path: Path) -> None:
    """``make fuzz``'s atheris harness, 300 executions from its seed corpus: no finding."""
    pytest.importorskip("atheris")
    done = subprocess.run(
        [sys.executable, "-m", "loadtests.fuzz.coverage_guided", "-runs=300", "-seed=1"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "stat::number_of_executed_units: 300" in done.stderr
    assert len(list((tmp_path / "var/fuzz/corpus").iterdir())) >= 3
