"""Bench 1: issue one certificate in-process (validated request → HC1) vs a bare ECDSA sign.

The baseline is one ECDSA P-256 / SHA-256 signature (DER, as cryptography returns it) of
the very bytes a certificate signs: the Sig_structure of a real certificate. The issue row
(the target) runs :meth:`~issuer.issuer.Issuer.prepare` then
:meth:`~issuer.issuer.Issuer.try_sign` on varied realistic
requests, validated beforehand: validated request → HC1 (times, UVCI, payload, CBOR claims,
signer pool, ECDSA, COSE_Sign1, zlib, base45), as the issue defines this bench. The next
row adds the validation (:meth:`Issuer.issue`: JSON object → HC1, incl. ICAO
transliteration), for information; the others split the issue into its stages, for
diagnosis (no target).

Run: ``.venv/bin/python -m loadtests.bench_issue [--duration S]``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from hcert.base45 import b45encode
from hcert.hc1 import compress, encode_hc1
from issuer.uvci import UvciGenerator
from loadtests.bench_cli import bench_main, measure_table, temporary_keys
from loadtests.fixtures import Cycle, issuing_runtime, sample_requests
from loadtests.timing import DEFAULT_BATCH_SECONDS, Comparison, Stage, Timing
from signing.cose import encode_sign1, parse_sign1, sig_structure
from signing.signer import LocalSigner

__all__ = ["BASELINE", "ISSUE_TARGET", "TITLE", "main", "run"]

TITLE: Final = "1. Issue one certificate in-process vs a bare ECDSA P-256 sign"
BASELINE: Final = "bare ECDSA P-256 sign (same Sig_structure bytes)"
ISSUE_TARGET: Final = Comparison(3.0)
_REQUESTS: Final = 64


def _stages(keys_dir: Path, requests: int) -> list[Stage]:
    runtime = issuing_runtime(keys_dir)
    issuer, key = runtime.issuer, runtime.keys.private_key
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SystemExit("bench_issue needs an ES256 key")
    signer = LocalSigner(key, runtime.keys.kid)
    bodies = sample_requests(requests, now=datetime.now(UTC))
    validated = [issuer.validate(body) for body in bodies]
    issue_cycle, full_cycle, validate_cycle = Cycle(validated), Cycle(bodies), Cycle(bodies)
    prepare_cycle = Cycle(validated)
    prepared = [issuer.prepare(request) for request in validated]
    coses = [
        encode_sign1(p.claims, alg=signer.alg, kid=signer.kid, sign=signer.sign) for p in prepared
    ]
    prepared_cycle, cose_cycle, zlib_cycle = Cycle(prepared), Cycle(coses), Cycle(coses)
    b45_cycle = Cycle([compress(cose) for cose in coses])
    uvci = UvciGenerator(issuer.config.country)
    message = parse_sign1(coses[0])
    to_sign = sig_structure(message.protected_bytes, message.payload)
    algorithm = ec.ECDSA(hashes.SHA256())
    return [
        Stage(BASELINE, lambda: key.sign(to_sign, algorithm)),
        Stage(
            "issue: validated request → HC1 (Issuer.prepare + try_sign)",
            lambda: issuer.try_sign(issuer.prepare(issue_cycle.next())),
            ISSUE_TARGET,
        ),
        Stage(
            "validate + issue: JSON object → HC1 (Issuer.issue)",
            lambda: issuer.issue(full_cycle.next()),
        ),
        Stage(
            "  validate request (rules, transliteration)",
            lambda: issuer.validate(validate_cycle.next()),
        ),
        Stage(
            "  prepare validated (times, UVCI, payload, CBOR claims)",
            lambda: issuer.prepare(prepare_cycle.next()),
        ),
        Stage("    UVCI with check character", lambda: uvci()),
        Stage(
            "  sign prepared → HC1 (ECDSA, COSE_Sign1, zlib, base45)",
            lambda: issuer.try_sign(prepared_cycle.next()),
        ),
        Stage(
            "    HC1 text of a COSE (zlib stored block + base45)",
            lambda: encode_hc1(cose_cycle.next()),
        ),
        Stage("      zlib stored block of a COSE", lambda: compress(zlib_cycle.next())),
        Stage("      base45 of a zlib'd COSE", lambda: b45encode(b45_cycle.next())),
    ]


def run(
    *,
    duration: float | None = None,
    batch_seconds: float = DEFAULT_BATCH_SECONDS,
    requests: int = _REQUESTS,
) -> tuple[str, bool, list[Timing]]:
    """Measure bench 1; return its markdown table, whether targets pass, and the timings."""
    with temporary_keys("issue") as keys_dir:
        stages = _stages(keys_dir, requests)
        return measure_table(stages, BASELINE, duration=duration, batch_seconds=batch_seconds)


def main(argv: Sequence[str] | None = None) -> int:
    """Print bench 1's table; exit 0 (targets are recorded, not enforced here)."""
    return bench_main(argv, title=TITLE, run=run, count="requests", count_default=_REQUESTS)


if __name__ == "__main__":
    sys.exit(main())
