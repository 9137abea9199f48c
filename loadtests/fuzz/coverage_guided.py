"""``python -m loadtests.fuzz.coverage_guided``: atheris (libFuzzer) over the HC1 layers.

Coverage-guided, where :mod:`loadtests.fuzz.mutate` is blind: atheris instruments the
verifier's own code (``verifier``, ``hcert``, ``signing``) and keeps inputs that reach new
branches. The first input byte picks a layer, the rest is the layer's content:

* 0: HC1 text (any Unicode);
* 1: COSE bytes, compressed and base45-encoded by us;
* 2: CWT claims bytes, **validly signed** by us, so coverage reaches the claims reader, the
  schema, the rules and the report encoder (where the 64-bit integers hid).

A finding (an exception escaping ``verify``, a report orjson cannot write, an
``internal_error``) raises, and libFuzzer saves the input (``crash-*``) and stops. The seed
corpus (one valid input per layer) is written to :data:`CORPUS_DIR` first. libFuzzer prints
the figures: executions (``#N``), ``exec/s``, ``rss`` (peak RSS), and with the default
flags below the final stats (``stat::number_of_executed_units``, ``stat::peak_rss_mb``,
``stat::slowest_unit_time_sec``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris
import cbor2

with atheris.instrument_imports(include=["verifier", "hcert", "signing"]):
    import verifier  # noqa: F401  (instrumented for coverage)

from hcert.hc1 import decode_hc1, encode_hc1
from loadtests.fuzz.campaign import check_one
from loadtests.fuzz.target import FuzzTarget, make_target

__all__ = ["CORPUS_DIR", "main"]

CORPUS_DIR = Path("var/fuzz/corpus")
"""Where the corpus grows from one campaign to the next (ignored by git, like all of var/)."""

# Final stats; a 2 GiB RSS guard; inputs long enough to cross the 4,500-character cap; an
# input running 10 s counts as a finding (libFuzzer's timeout).
_DEFAULT_FLAGS = ("-print_final_stats=1", "-rss_limit_mb=2048", "-max_len=6000", "-timeout=10")


def _seed_corpus(target: FuzzTarget, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    seed = target.seed()
    cose = decode_hc1(seed)
    claims = cbor2.dumps(target.claims())
    (folder / "seed-text").write_bytes(b"\x00" + seed.encode("ascii"))
    (folder / "seed-cose").write_bytes(b"\x01" + cose)
    (folder / "seed-claims").write_bytes(b"\x02" + claims)


def _one_input(target: FuzzTarget) -> object:
    def test_one_input(data: bytes) -> None:
        if not data:
            return
        layer, content = data[0] % 3, data[1:]
        if layer == 0:
            text = atheris.FuzzedDataProvider(content).ConsumeUnicodeNoSurrogates(len(content))
            strategy = "atheris-text"
        elif layer == 1:
            text, strategy = encode_hc1(content), "atheris-cose"
        else:
            text, strategy = target.hc1_signed_payload(content), "atheris-claims"
        _, finding = check_one(target, strategy, text)
        if finding is not None:
            raise AssertionError(f"{finding.kind}: {finding.error}\ninput: {finding.data!r}")

    return test_one_input


def main(argv: list[str] | None = None) -> None:
    """Run libFuzzer with ``argv`` (its own flags, e.g. ``-max_total_time=600``)."""
    args = list(sys.argv if argv is None else argv)
    args[1:1] = [flag for flag in _DEFAULT_FLAGS if flag.split("=")[0] not in " ".join(args)]
    corpus = CORPUS_DIR
    with tempfile.TemporaryDirectory() as keys:
        target = make_target(Path(keys) / "keys")
        _seed_corpus(target, corpus)
        atheris.Setup([*args, str(corpus)], _one_input(target))
        atheris.Fuzz()


if __name__ == "__main__":
    main()
