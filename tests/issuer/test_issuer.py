"""The Issuer: request → signed HC1 with the right times, identifiers and response.

The clock is fixed at the docs/http-api.md example's issue time; keys are generated with
``keys.generate`` and loaded with ``keys.load`` (conftest.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
import pytest

from hcert.claims import parse_claims
from hcert.hc1 import decode_hc1
from hcert.valuesets import TEST_TYPE_NAAT, TEST_TYPE_RAT
from issuer.issuer import IssuedCertificate, Issuer, IssuerConfig
from issuer.uvci import validate_uvci
from keys.load import SigningKeys
from signing.cose import parse_sign1, verify_sign1
from signing.errors import KeyMaterialError, RequestInvalid, SignerUnavailable

IssuerFactory = Callable[..., Issuer]
UVCI_SHAPE = re.compile(r"URN:UVCI:01:LU:[A-Z0-9]{26}#[A-Z0-9/:]")
LUHN_38 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:"
RESPONSE_KEYS = {"uvci", "hc1", "kid", "issued_at", "expires_at", "certificate"}


def luhn_mod38_valid(uvci: str) -> bool:
    """ISO/IEC 7064-style Luhn mod N validation over the string with its check character."""
    total, factor = 0, 1
    for char in reversed(uvci.replace("#", "")):
        addend = factor * LUHN_38.index(char)
        total += addend // 38 + addend % 38
        factor = 3 - factor
    return total % 38 == 0


@dataclass(frozen=True)
class Opened:
    """The claims of a certificate, times as NumericDate integers."""

    iss: str | None
    iat: int
    exp: int
    dcc: dict[str, Any]


def opened(issued: IssuedCertificate, keys: SigningKeys) -> Opened:
    """Decode the HC1 and verify it with the DSC's public key; return its claims."""
    message = parse_sign1(decode_hc1(issued.hc1))
    public = keys.certificate.public_key()
    verify_sign1(message, public)  # type: ignore[arg-type]
    assert message.kid == keys.kid
    assert message.signature == issued.signature
    claims = parse_claims(message.payload)
    iat, exp = int(claims.issued_at.timestamp()), int(claims.expires_at.timestamp())
    return Opened(claims.iss, iat, exp, claims.dcc)


@pytest.fixture(params=["ES256", "PS256"])
def keys(request: pytest.FixtureRequest) -> SigningKeys:
    key_set: SigningKeys = request.getfixturevalue(f"{request.param.lower()}_keys")
    return key_set


def test_the_design_example_is_issued_with_the_design_times(
    keys: SigningKeys, build_issuer: IssuerFactory, rat_request: dict[str, Any], fixed_now: datetime
) -> None:
    issued = build_issuer(keys).issue(rat_request)
    response = issued.to_response()
    assert set(response) == RESPONSE_KEYS
    assert response["issued_at"] == "2021-07-08T12:31:02Z"
    assert response["expires_at"] == "2021-07-10T12:30:00Z"  # sample 12:30Z + 48 h
    assert response["kid"] == base64.b64encode(keys.kid).decode()
    assert len(response["kid"]) == 12
    assert response["hc1"] == issued.hc1
    assert response["hc1"].startswith("HC1:")
    assert response["uvci"] == issued.uvci == response["certificate"]["t"][0]["ci"]
    json.dumps(response, ensure_ascii=False)  # JSON-serialisable as is
    claims = opened(issued, keys)
    assert claims.iss == "LU"
    assert claims.iat == int(fixed_now.timestamp())
    assert claims.exp == int(datetime(2021, 7, 10, 12, 30, tzinfo=UTC).timestamp())
    assert dict(claims.dcc) == response["certificate"]
    assert response["certificate"]["t"][0]["tt"] == TEST_TYPE_RAT
    assert issued.test_type == TEST_TYPE_RAT


def test_a_naat_certificate_is_valid_for_72_hours(
    keys: SigningKeys, build_issuer: IssuerFactory, naat_request: dict[str, Any]
) -> None:
    issued = build_issuer(keys).issue(naat_request)
    assert issued.to_response()["expires_at"] == "2021-07-11T07:15:00Z"  # 07:15Z + 72 h
    claims = opened(issued, keys)
    assert claims.exp == int(datetime(2021, 7, 11, 7, 15, tzinfo=UTC).timestamp())
    assert claims.dcc["t"][0]["tt"] == TEST_TYPE_NAAT
    assert issued.test_type == TEST_TYPE_NAAT


def test_validity_and_issuer_name_come_from_the_config(
    es256_keys: SigningKeys, build_issuer: IssuerFactory, rat_request: dict[str, Any]
) -> None:
    config = IssuerConfig(
        issuer_name="MINISTRY OF HEALTH",
        validity={TEST_TYPE_RAT: timedelta(hours=24), TEST_TYPE_NAAT: timedelta(hours=36)},
    )
    issued = build_issuer(es256_keys, config=config).issue(rat_request)
    assert issued.expires_at == datetime(2021, 7, 9, 12, 30, tzinfo=UTC)
    assert issued.certificate["t"][0]["is"] == "MINISTRY OF HEALTH"


def test_exp_is_capped_at_the_dsc_not_after(
    expiring_keys: SigningKeys,
    build_issuer: IssuerFactory,
    rat_request: dict[str, Any],
    naat_request: dict[str, Any],
    fixed_now: datetime,
) -> None:
    """hcert §1.2: exp MUST NOT be later than the DSC's notAfter (here clock + 10 h)."""
    issuer = build_issuer(expiring_keys)
    for data in (rat_request, naat_request):
        issued = issuer.issue(data)
        assert issued.expires_at == expiring_keys.not_after == fixed_now + timedelta(hours=10)
        claims = opened(issued, expiring_keys)
        assert claims.exp == int(expiring_keys.not_after.timestamp())
        assert claims.iat == int(fixed_now.timestamp())


def test_iat_is_the_clock_in_whole_seconds(
    es256_keys: SigningKeys,
    build_issuer: IssuerFactory,
    rat_request: dict[str, Any],
    fixed_now: datetime,
) -> None:
    moment = fixed_now + timedelta(microseconds=999_999)
    issued = build_issuer(es256_keys, clock=lambda: moment).issue(rat_request)
    assert issued.issued_at == fixed_now
    assert issued.to_response()["issued_at"] == "2021-07-08T12:31:02Z"
    assert opened(issued, es256_keys).iat == int(fixed_now.timestamp())


def test_uvci_has_the_lu_shape_and_a_valid_check_character(
    es256_keys: SigningKeys, build_issuer: IssuerFactory, rat_request: dict[str, Any]
) -> None:
    issuer = build_issuer(es256_keys)
    request = issuer.validate(rat_request)
    uvcis = [issuer.prepare(request).uvci for _ in range(50)]
    assert len(set(uvcis)) == 50
    for uvci in uvcis:
        assert UVCI_SHAPE.fullmatch(uvci), uvci
        assert len(uvci) <= 80
        assert luhn_mod38_valid(uvci)
        validate_uvci(uvci)
        body, _, check = uvci.partition("#")
        wrong = LUHN_38[(LUHN_38.index(check) + 1) % 38]
        assert not luhn_mod38_valid(f"{body}#{wrong}")


def test_the_audit_record_holds_identifiers_and_times_but_no_personal_data(
    es256_keys: SigningKeys,
    build_issuer: IssuerFactory,
    rat_request: dict[str, Any],
    fixed_now: datetime,
) -> None:
    issued = build_issuer(es256_keys).issue(rat_request)
    audit = issued.audit()
    assert audit == {
        "uvci": issued.uvci,
        "kid": base64.b64encode(es256_keys.kid).decode(),
        "test_type": TEST_TYPE_RAT,
        "iat": int(fixed_now.timestamp()),
        "exp": int(datetime(2021, 7, 10, 12, 30, tzinfo=UTC).timestamp()),
        "signature_hash": audit["signature_hash"],
        "uci_hash": audit["uci_hash"],
        "country_uci_hash": audit["country_uci_hash"],
    }
    digest = hashlib.sha256(("LU" + issued.uvci).encode()).digest()[:16]
    assert audit["country_uci_hash"] == base64.b64encode(digest).decode()
    text = json.dumps(audit, ensure_ascii=False)
    for personal in (
        "Müller",
        "MUELLER",
        "Schmidt",
        "SCHMIDT",
        "Anna",
        "ANNA",
        "Maria",
        "1985",
        "03-02",
    ):
        assert personal not in text


def test_a_batch_keeps_going_after_a_bad_item(
    es256_keys: SigningKeys,
    build_issuer: IssuerFactory,
    rat_request: dict[str, Any],
    naat_request: dict[str, Any],
) -> None:
    no_dob = {"person": {"family_name": "Dupont"}, "test": rat_request["test"]}
    positive = {
        "person": rat_request["person"],
        "test": dict(rat_request["test"], result="detected"),
    }
    progress: list[int] = []
    issuer = build_issuer(es256_keys)
    prepared = issuer.prepare_batch([rat_request, no_dob, naat_request, "not an object", positive])
    results = issuer.sign_batch(prepared, progress=progress.append)
    assert progress == [1, 2, 3, 4, 5]
    assert [type(result).__name__ for result in results] == [
        "IssuedCertificate",
        "RequestInvalid",
        "IssuedCertificate",
        "RequestInvalid",
        "RequestInvalid",
    ]
    first, missing, second, not_object, detected = results
    assert isinstance(first, IssuedCertificate)
    assert isinstance(second, IssuedCertificate)
    assert first.uvci != second.uvci
    assert isinstance(missing, RequestInvalid)
    assert [(e.field, e.code) for e in missing.errors] == [("person.date_of_birth", "required")]
    assert isinstance(not_object, RequestInvalid)
    assert isinstance(detected, RequestInvalid)
    assert [e.field for e in detected.errors] == ["test.result"]
    for issued in (first, second):
        opened(issued, es256_keys)


def test_a_sample_too_old_for_its_validity_is_refused(
    es256_keys: SigningKeys,
    build_issuer: IssuerFactory,
    rat_request: dict[str, Any],
    fixed_now: datetime,
) -> None:
    """Within the accepted sample age (72 h) but past the RAT validity (48 h)."""
    issuer = build_issuer(es256_keys)
    for age in (timedelta(hours=48), timedelta(hours=60)):
        rat_request["test"]["sample_collected_at"] = (fixed_now - age).isoformat()
        with pytest.raises(RequestInvalid) as caught:
            issuer.issue(rat_request)
        assert [(e.field, e.code) for e in caught.value.errors] == [
            ("test.sample_collected_at", "certificate_already_expired")
        ]
    rat_request["test"]["sample_collected_at"] = (
        fixed_now - timedelta(hours=47, minutes=59)
    ).isoformat()
    assert issuer.issue(rat_request).expires_at == fixed_now + timedelta(minutes=1)


def test_issuing_after_the_dsc_expired_is_a_key_error_not_a_request_error(
    expiring_keys: SigningKeys, build_issuer: IssuerFactory, rat_request: dict[str, Any]
) -> None:
    later = expiring_keys.not_after + timedelta(hours=1)
    issuer = build_issuer(expiring_keys, clock=lambda: later)
    rat_request["test"]["sample_collected_at"] = (later - timedelta(hours=1)).isoformat()
    with pytest.raises(KeyMaterialError):
        issuer.issue(rat_request)


async def test_sign_async_signs_on_the_event_loop(
    keys: SigningKeys, build_issuer: IssuerFactory, rat_request: dict[str, Any]
) -> None:
    issuer = build_issuer(keys)
    issued = await issuer.sign_async(issuer.prepare(issuer.validate(rat_request)))
    assert opened(issued, keys).dcc["t"][0]["ma"] == "1232"


def test_the_three_steps_make_what_issue_makes(
    keys: SigningKeys, build_issuer: IssuerFactory, rat_request: dict[str, Any], fixed_now: datetime
) -> None:
    """``issue(data)`` is ``validate`` + ``prepare`` + sign: same certificate, new UVCI."""
    issuer = build_issuer(keys)
    request = issuer.validate(rat_request)
    issued = issuer.try_sign(issuer.prepare(request))
    assert issued is not None
    reference = issuer.issue(rat_request)
    assert issued.uvci != reference.uvci
    for field in ("test_type", "issued_at", "expires_at", "kid"):
        assert getattr(issued, field) == getattr(reference, field)
    without_uvci = [
        {**cert, "t": [{k: v for k, v in cert["t"][0].items() if k != "ci"}]}
        for cert in (issued.certificate, reference.certificate)
    ]
    assert without_uvci[0] == without_uvci[1]
    claims = opened(issued, keys)
    assert dict(claims.dcc) == issued.certificate
    assert (claims.iat, claims.exp) == (
        int(fixed_now.timestamp()),
        int(datetime(2021, 7, 10, 12, 30, tzinfo=UTC).timestamp()),
    )
    assert issuer.pool.in_use == 0


def test_the_issued_claims_are_canonical_cbor(
    es256_keys: SigningKeys,
    build_issuer: IssuerFactory,
    rat_request: dict[str, Any],
    naat_request: dict[str, Any],
) -> None:
    issuer = build_issuer(es256_keys)
    for data in (rat_request, naat_request):
        payload = parse_sign1(decode_hc1(issuer.issue(data).hc1)).payload
        assert payload == cbor2.dumps(cbor2.loads(payload), canonical=True)


async def test_sign_async_of_a_naat_request(
    keys: SigningKeys, build_issuer: IssuerFactory, naat_request: dict[str, Any]
) -> None:
    issuer = build_issuer(keys)
    issued = await issuer.sign_async(issuer.prepare(issuer.validate(naat_request)))
    assert opened(issued, keys).dcc["t"][0]["tt"] == TEST_TYPE_NAAT
    assert issued.to_response()["expires_at"] == "2021-07-11T07:15:00Z"
    assert issuer.pool.in_use == 0


def test_a_busy_pool_gives_signer_unavailable(
    es256_keys: SigningKeys, build_issuer: IssuerFactory, rat_request: dict[str, Any]
) -> None:
    issuer = build_issuer(es256_keys)
    with issuer.pool.acquire(), pytest.raises(SignerUnavailable) as caught:
        issuer.issue(rat_request, timeout=0.02)
    assert caught.value.retry_after > 0
    assert issuer.pool.in_use == 0
    opened(issuer.issue(rat_request), es256_keys)
    with issuer.pool.acquire():
        assert issuer.try_sign(issuer.prepare(issuer.validate(rat_request))) is None
    assert issuer.pool.in_use == 0


async def test_a_busy_pool_gives_signer_unavailable_to_async_callers(
    es256_keys: SigningKeys, build_issuer: IssuerFactory, rat_request: dict[str, Any]
) -> None:
    issuer = build_issuer(es256_keys, acquire_timeout=0.02)
    prepared = issuer.prepare(issuer.validate(rat_request))
    async with issuer.pool.acquire_async():
        with pytest.raises(SignerUnavailable):
            await issuer.sign_async(prepared)
    assert issuer.pool.in_use == 0
    opened(await issuer.sign_async(prepared), es256_keys)


def test_an_invalid_request_is_refused_with_every_problem(
    es256_keys: SigningKeys, build_issuer: IssuerFactory
) -> None:
    with pytest.raises(RequestInvalid) as caught:
        build_issuer(es256_keys).issue({"person": {}, "test": {"type": "naat", "device": "1232"}})
    fields = {e.field for e in caught.value.errors}
    assert {
        "person.date_of_birth",
        "test.sample_collected_at",
        "test.result",
        "test.device",
    } <= fields


@pytest.mark.parametrize("alg", ["ES256", "PS256"])
def test_the_audit_record_keeps_the_signature_revocation_hash(
    alg: str,
    es256_keys: SigningKeys,
    ps256_keys: SigningKeys,
    build_issuer: IssuerFactory,
    rat_request: dict[str, Any],
) -> None:
    """hcert §8 SIGNATURE hash: SHA-256 of r (ES256) or of the whole signature (PS256), 128 bits."""
    keys = es256_keys if alg == "ES256" else ps256_keys
    issued = build_issuer(keys).issue(rat_request)
    cose = cbor2.loads(zlib.decompress(_b45(issued.hc1.removeprefix("HC1:"))))
    transmitted = cose.value[3]
    hashed = transmitted[:32] if alg == "ES256" else transmitted
    expected = base64.b64encode(hashlib.sha256(hashed).digest()[:16]).decode()
    assert issued.audit()["signature_hash"] == expected
    assert len(expected) == 24


def _b45(text: str) -> bytes:
    """A plain base45 decoder written here, independent of hcert.base45."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    out = bytearray()
    for i in range(0, len(text), 3):
        chunk = [alphabet.index(c) for c in text[i : i + 3]]
        n = sum(v * 45**k for k, v in enumerate(chunk))
        out += n.to_bytes(2 if len(chunk) == 3 else 1, "big")
    return bytes(out)
