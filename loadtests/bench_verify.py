"""Bench 2: verify one HC1 in-process vs a bare ECDSA P-256 verification.

The baseline verifies one ECDSA P-256 / SHA-256 signature (DER) over the Sig_structure
of a real certificate with the DSC's public key. The verify row runs
:func:`verifier.verify` on varied freshly issued HC1 strings against a trust store holding
the DSC (every check: prefix, base45, zlib, COSE and claims, kid, signature, expiry,
schema, key usage, business rules). The other rows split it, for diagnosis (no target).

Run: ``.venv/bin/python -m loadtests.bench_verify [--duration S]``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from hcert.claims import parse_claims
from hcert.hc1 import decode_hc1
from loadtests.bench_cli import bench_main, measure_table, temporary_keys
from loadtests.fixtures import Cycle, issuing_runtime, sample_requests
from loadtests.timing import DEFAULT_BATCH_SECONDS, Comparison, Stage, Timing
from signing.cose import parse_sign1, sig_structure, verify_sign1
from verifier import TrustStore, validate_dcc, verify

__all__ = ["BASELINE", "TITLE", "VERIFY_TARGET", "main", "run"]

TITLE: Final = "2. Verify one HC1 in-process vs a bare ECDSA P-256 verify"
BASELINE: Final = "bare ECDSA P-256 verify (same Sig_structure bytes)"
VERIFY_TARGET: Final = Comparison(3.0)
_CERTIFICATES: Final = 64


def _stages(keys_dir: Path, count: int) -> list[Stage]:
    runtime = issuing_runtime(keys_dir)
    key, certificate = runtime.keys.private_key, runtime.keys.certificate
    public_key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(
        public_key, ec.EllipticCurvePublicKey
    ):
        raise SystemExit("bench_verify needs an ES256 key")
    now = datetime.now(UTC)
    hc1s = [runtime.issuer.issue(body).hc1 for body in sample_requests(count, now=now)]
    store = TrustStore.from_certificates([certificate])
    for hc1 in hc1s:
        report = verify(hc1, trust=store, now=now)
        if not report.valid:
            raise SystemExit(f"bench_verify: a fresh certificate does not verify: {report.error}")
    coses = [decode_hc1(hc1) for hc1 in hc1s]
    messages = [parse_sign1(cose) for cose in coses]
    dccs = [dict(parse_claims(message.payload).dcc) for message in messages]
    to_verify = sig_structure(messages[0].protected_bytes, messages[0].payload)
    algorithm = ec.ECDSA(hashes.SHA256())
    signature = key.sign(to_verify, algorithm)
    verify_cycle, decode_cycle, cose_cycle = Cycle(hc1s), Cycle(hc1s), Cycle(coses)
    message_cycle, claims_cycle, schema_cycle = Cycle(messages), Cycle(messages), Cycle(dccs)
    return [
        Stage(BASELINE, lambda: public_key.verify(signature, to_verify, algorithm)),
        Stage(
            "verify: HC1 → report (verifier.verify)",
            lambda: verify(verify_cycle.next(), trust=store, now=now),
            VERIFY_TARGET,
        ),
        Stage(
            "  HC1 text → COSE bytes (prefix, base45, zlib)",
            lambda: decode_hc1(decode_cycle.next()),
        ),
        Stage("  parse COSE_Sign1 (strict CBOR)", lambda: parse_sign1(cose_cycle.next())),
        Stage(
            "  COSE signature check (Sig_structure + ECDSA)",
            lambda: verify_sign1(message_cycle.next(), public_key),
        ),
        Stage("  CWT claims (strict CBOR)", lambda: parse_claims(claims_cycle.next().payload)),
        Stage("  DCC schema check", lambda: validate_dcc(schema_cycle.next())),
    ]


def run(
    *,
    duration: float | None = None,
    batch_seconds: float = DEFAULT_BATCH_SECONDS,
    certificates: int = _CERTIFICATES,
) -> tuple[str, bool, list[Timing]]:
    """Measure bench 2; return its markdown table, whether targets pass, and the timings."""
    with temporary_keys("verify") as keys_dir:
        stages = _stages(keys_dir, certificates)
        return measure_table(stages, BASELINE, duration=duration, batch_seconds=batch_seconds)


def main(argv: Sequence[str] | None = None) -> int:
    """Print bench 2's table; exit 0 (targets are recorded, not enforced here)."""
    return bench_main(argv, title=TITLE, run=run, count="certificates", count_default=_CERTIFICATES)


if __name__ == "__main__":
    sys.exit(main())
