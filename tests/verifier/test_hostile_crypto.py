"""hardening.md §4 rows 21-36: alg and kid games, signatures, claims, expiry, schema, EKU.

Each case is built from a certificate signed with our own keys and must end in a report
with the right failed check and code, with no exception escaping. The work is bounded by
structure, not timed: at most MAX_CANDIDATES_PER_KID signature checks per kid (row 29).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from hcert.hc1 import encode_hc1
from keys.generate import generate_keys
from keys.load import SigningKeys, load_signing_keys
from signing.algorithms import ES256, PS256, sign_raw
from signing.cose import sig_structure
from verifier import MAX_CANDIDATES_PER_KID, TrustStore, VerificationReport, verify

NOW = datetime(2021, 7, 8, 12, 31, tzinfo=UTC)
IAT = int(NOW.timestamp()) - 60
EXP = IAT + 48 * 3600
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
ENTRY: dict[str, Any] = {
    "tg": "840539006",
    "tt": "LP6464-4",
    "sc": "2021-07-08T10:00:00Z",
    "tr": "260415000",
    "co": "LU",
    "is": "Ministry of Health",
    "ci": "URN:UVCI:01:LU:HOSTILE2#X",
}
DCC: dict[str, Any] = {"ver": "1.3.0", "nam": {"fnt": "MUSTER"}, "dob": "1985", "t": [ENTRY]}
VACCINATION: dict[str, Any] = {
    **{k: v for k, v in DCC.items() if k != "t"},
    "v": [
        {
            "tg": "840539006",
            "vp": "J07BX03",
            "mp": "EU/1/20/1528",
            "ma": "ORG-100030215",
            "dn": 1,
            "sd": 2,
            "dt": "2021-06-11",
            "co": "LU",
            "is": "Ministry of Health",
            "ci": "URN:UVCI:01:LU:V1#X",
        }
    ],
}

DCC_WITH_INT_KEY: dict[object, Any] = dict(DCC.items())
DCC_WITH_INT_KEY[1] = "int key"


def _keys(folder: Path, **options: Any) -> SigningKeys:
    generate_keys(folder, now=NOW - timedelta(days=30), **options)
    return load_signing_keys(folder, now=NOW)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> SigningKeys:
    return _keys(tmp_path_factory.mktemp("es256"))


@pytest.fixture(scope="module")
def rsa_keys(tmp_path_factory: pytest.TempPathFactory) -> SigningKeys:
    return _keys(tmp_path_factory.mktemp("ps256"), alg="PS256")


def claims(dcc: object = DCC, *, iat: object = IAT, exp: object = EXP, **extra: Any) -> bytes:
    content: dict[object, object] = {1: "LU", 4: exp, 6: iat, -260: {1: dcc}}
    for name, value in extra.items():
        content[{"iss": 1, "iat": 6, "exp": 4, "hcert": -260}[name]] = value
    return cbor2.dumps({k: v for k, v in content.items() if v is not ...})


def sign1(
    keys: SigningKeys,
    payload: bytes | None = None,
    *,
    protected: object = None,
    unprotected: object = None,
    alg: int | None = None,
    signature: bytes | None = None,
    signed_protected: bytes | None = None,
) -> str:
    """HC1 of a COSE_Sign1 signed with ``keys`` (``protected`` may be a map or raw bytes)."""
    payload = claims() if payload is None else payload
    if protected is None:
        protected = {1: keys.alg, 4: keys.kid}
    raw = protected if isinstance(protected, bytes) else cbor2.dumps(protected)
    to_sign = sig_structure(signed_protected or raw, payload)
    sig = sign_raw(keys.private_key, alg or keys.alg, to_sign) if signature is None else signature
    array = [raw, {} if unprotected is None else unprotected, payload, sig]
    return encode_hc1(cbor2.dumps(cbor2.CBORTag(18, array)))


def check(data: str, trust: Any, failed: str, code: str) -> VerificationReport:
    report = verify(data, trust=trust, now=NOW)
    assert report.error is not None, report.to_dict()
    assert (report.error.check, report.error.code) == (failed, code), report.to_dict()
    assert not report.valid
    json.dumps(report.to_dict())
    return report


def valid(data: str, trust: Any) -> VerificationReport:
    report = verify(data, trust=trust, now=NOW)
    assert report.valid, report.to_dict()
    return report


def test_row21_alg_missing_or_unsupported(keys: SigningKeys) -> None:
    trust = [keys.certificate]
    check(sign1(keys, protected={4: keys.kid}), trust, "signature", "alg_missing")
    for alg in (-8, -257, 5, 0, "ES256", True, -35):
        data = sign1(keys, protected={1: alg, 4: keys.kid}, alg=ES256)
        check(data, trust, "signature", "alg_unsupported")


def test_row22_alg_confusion(keys: SigningKeys, rsa_keys: SigningKeys) -> None:
    ps256_on_ec = sign1(keys, protected={1: PS256, 4: keys.kid}, alg=ES256)
    check(ps256_on_ec, [keys.certificate], "signature", "alg_key_mismatch")
    es256_on_rsa = sign1(rsa_keys, protected={1: ES256, 4: rsa_keys.kid}, alg=PS256)
    check(es256_on_rsa, [rsa_keys.certificate], "signature", "alg_key_mismatch")


def test_row23_alg_in_both_buckets_and_crit(keys: SigningKeys) -> None:
    both = sign1(keys, unprotected={1: keys.alg})
    check(both, [keys.certificate], "cose", "cose_header_conflict")
    crit = sign1(keys, protected={1: keys.alg, 4: keys.kid, 2: [99]})
    check(crit, [keys.certificate], "cose", "cose_crit")


def test_row24_alg_only_unprotected_is_accepted(keys: SigningKeys) -> None:
    """Policy (CO20): alg may be unprotected; it is pinned to the key type anyway."""
    valid(sign1(keys, protected={4: keys.kid}, unprotected={1: keys.alg}), [keys.certificate])


def test_rows25_to_27_kid_placement(keys: SigningKeys) -> None:
    trust, wrong = [keys.certificate], bytes(8)
    only_unprotected = sign1(keys, protected={1: keys.alg}, unprotected={4: keys.kid})
    report = valid(only_unprotected, trust)
    assert report.kid is not None
    valid(sign1(keys, unprotected={4: wrong}), trust)  # CO21: protected wins
    valid(sign1(keys, unprotected={4: keys.kid}), trust)  # both equal
    protected_wrong = sign1(keys, protected={1: keys.alg, 4: wrong}, unprotected={4: keys.kid})
    check(protected_wrong, trust, "kid", "kid_unknown")  # CO22: no fallback
    check(sign1(keys, protected={1: keys.alg}), trust, "kid", "kid_missing")
    check(sign1(keys, protected={1: keys.alg, 4: "kid"}), trust, "kid", "kid_invalid")


@pytest.mark.parametrize("length", [0, 3, 7, 9, 32])
def test_row28_kid_length(keys: SigningKeys, length: int) -> None:
    data = sign1(keys, protected={1: keys.alg, 4: keys.kid[:1] * length})
    check(data, [keys.certificate], "kid", "kid_length")


def test_row28_unknown_kid(keys: SigningKeys, rsa_keys: SigningKeys) -> None:
    check(sign1(keys), [rsa_keys.certificate], "kid", "kid_unknown")
    check(sign1(keys), [], "kid", "kid_unknown")


def test_row29_many_certificates_sharing_a_kid(
    keys: SigningKeys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real kid collision needs ~2^32 certificates, so the kid function is pinned here."""
    others = [_keys(tmp_path / str(i)) for i in range(20)]
    monkeypatch.setattr("verifier.trust.compute_kid", lambda cert: keys.kid)
    store = TrustStore([o.certificate for o in others])
    assert len(store.candidates(keys.kid)) == MAX_CANDIDATES_PER_KID
    report = valid(sign1(others[3], protected={1: ES256, 4: keys.kid}), store)
    assert report.check("signature") is not None
    beyond_the_cap = sign1(others[19], protected={1: ES256, 4: keys.kid})
    check(beyond_the_cap, store, "signature", "signature_invalid")


def _raw_signature(keys: SigningKeys) -> tuple[int, int]:
    sig = sign_raw(
        keys.private_key, ES256, sig_structure(cbor2.dumps({1: -7, 4: keys.kid}), claims())
    )
    return int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")


def test_row30_malformed_signatures(keys: SigningKeys) -> None:
    trust = [keys.certificate]
    r, s = _raw_signature(keys)
    der = encode_dss_signature(r, s)
    check(sign1(keys, signature=der), trust, "signature", "signature_malformed")
    check(sign1(keys, signature=bytes(63)), trust, "signature", "signature_malformed")
    check(sign1(keys, signature=b""), trust, "signature", "signature_malformed")
    for bad_r, bad_s in (
        (0, 0),
        (0, s),
        (r, 0),
        (P256_ORDER, s),
        (r, P256_ORDER + s),
        (2**256 - 1, 2**256 - 1),
    ):
        signature = min(bad_r, 2**256 - 1).to_bytes(32, "big") + min(bad_s, 2**256 - 1).to_bytes(
            32, "big"
        )
        check(sign1(keys, signature=signature), trust, "signature", "signature_invalid")


def test_row31_reencoded_protected_header(keys: SigningKeys) -> None:
    original = cbor2.dumps({1: keys.alg, 4: keys.kid})
    reordered = cbor2.dumps({4: keys.kid, 1: keys.alg})
    wide_int = b"\xa2\x01\x38\x06\x04\x48" + keys.kid  # -7 as a 1-byte-argument integer
    for variant in (reordered, wide_int):
        data = sign1(keys, protected=variant, signed_protected=original)
        check(data, [keys.certificate], "signature", "signature_invalid")


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (cbor2.dumps([1, 2]), "claims_invalid"),
        (cbor2.dumps(7), "claims_invalid"),
        (claims(iat=...), "claim_iat_invalid"),
        (claims(exp=...), "claim_exp_invalid"),
        (claims(iat=-1), "claim_iat_invalid"),
        (claims(exp=True), "claim_exp_invalid"),
        (claims(exp=float("nan")), "claim_exp_invalid"),
        (claims(exp=float("inf")), "claim_exp_invalid"),
        (claims(exp=2**64 - 1), "claim_exp_invalid"),
        (claims(exp=cbor2.CBORTag(2, b"\x01" + bytes(8))), "claim_exp_invalid"),
        (claims(iat=cbor2.CBORTag(1, IAT)), "claim_iat_invalid"),
        (claims(iat=str(IAT)), "claim_iat_invalid"),
        (claims(iss=42), "claim_iss_invalid"),
        (claims(hcert=...), "hcert_missing"),
        (claims(hcert={2: DCC}), "hcert_missing"),
        (claims(hcert=[DCC]), "hcert_missing"),
        (claims(dcc=[DCC]), "dcc_invalid"),
        (claims(dcc=DCC_WITH_INT_KEY), "dcc_invalid"),
    ],
)
def test_row32_claims(keys: SigningKeys, payload: bytes, code: str) -> None:
    check(sign1(keys, payload), [keys.certificate], "cose", code)


def test_row32_float_times_are_accepted(keys: SigningKeys) -> None:
    """The ES and HU vectors carry float iat/exp; they are read, not refused."""
    report = valid(sign1(keys, claims(iat=IAT + 0.78, exp=EXP + 0.5)), [keys.certificate])
    assert report.issued_at == datetime.fromtimestamp(IAT, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("iat", "exp", "code"),
    [
        (IAT - 3 * 86400, int(NOW.timestamp()) - 1, "expired"),
        (IAT, IAT - 1, "exp_before_iat"),
        (int(NOW.timestamp()) + 301, EXP, "not_yet_valid"),
        (int(NOW.timestamp()) + 86400, EXP + 86400, "not_yet_valid"),
    ],
)
def test_row33_expiry(keys: SigningKeys, iat: int, exp: int, code: str) -> None:
    report = check(sign1(keys, claims(iat=iat, exp=exp)), [keys.certificate], "expiry", code)
    assert report.check("schema") is not None  # later checks still ran
    assert report.to_dict().get("verified") is None  # the signature did verify


def test_row33_boundaries(keys: SigningKeys) -> None:
    now = int(NOW.timestamp())
    valid(sign1(keys, claims(iat=IAT, exp=now)), [keys.certificate])  # now == exp
    valid(sign1(keys, claims(iat=now + 299, exp=EXP)), [keys.certificate])  # within the skew


@pytest.mark.parametrize(
    ("dcc", "code"),
    [
        ({**DCC, "v": VACCINATION["v"]}, "schema_group"),
        ({**DCC, "t": [ENTRY, ENTRY]}, "schema_entry_count"),
        ({**DCC, "nam": {"fnt": "muster"}}, "schema_pattern"),
        ({**DCC, "t": [{**ENTRY, "sc": "yesterday"}]}, "schema_date_format"),
        ({k: v for k, v in DCC.items() if k != "dob"}, "schema_missing_field"),
    ],
)
def test_row34_schema(keys: SigningKeys, dcc: dict[str, Any], code: str) -> None:
    report = check(sign1(keys, claims(dcc)), [keys.certificate], "schema", code)
    assert report.check("rules") is None


def test_row35_key_usage(keys: SigningKeys, tmp_path: Path) -> None:
    vaccination_only = _keys(tmp_path / "v", cert_types=("vaccination",))
    data = sign1(vaccination_only)
    report = check(data, [vaccination_only.certificate], "key_usage", "key_usage_mismatch")
    assert report.check("rules") is not None  # rules still ran for the test entry
    check(sign1(keys, claims(VACCINATION)), [keys.certificate], "key_usage", "key_usage_mismatch")
    unrestricted = _keys(tmp_path / "all", cert_types=())
    valid(sign1(unrestricted, claims(VACCINATION)), [unrestricted.certificate])


def test_row36_payload_of_a_bad_signature_is_unverified(keys: SigningKeys) -> None:
    data = sign1(keys, signature=bytes(64))
    report = check(data, [keys.certificate], "signature", "signature_invalid")
    assert [c.name for c in report.checks] == [
        "prefix",
        "base45",
        "zlib",
        "cose",
        "kid",
        "signature",
        "expiry",
        "schema",
        "rules",
    ]  # no key_usage: no certificate verified the signature
    assert report.to_dict()["verified"] is False
    assert report.to_dict()["certificate"] == DCC
    assert report.verified is False
