"""The one claims parser (hcert.claims.parse_claims): reads what the encoders write, refuses
malformed claims with the codes of the verification report's ``cose`` check."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import cbor2
import pytest

from hcert.claims import encode_claims, parse_claims
from signing.errors import DecodeError

DCC: dict[str, Any] = {
    "ver": "1.3.0",
    "nam": {"fn": "Dupont", "fnt": "DUPONT"},
    "dob": "1990-11",
    "t": [{"tg": "840539006", "tt": "LP6464-4", "ci": "URN:UVCI:01:LU:X#Y"}],
}


def test_parse_claims_reads_what_encode_claims_wrote() -> None:
    parsed = parse_claims(encode_claims(DCC, iss="LU", iat=1625747462, exp=1625920200))
    assert parsed.iss == "LU"
    assert parsed.issued_at == datetime(2021, 7, 8, 12, 31, 2, tzinfo=UTC)
    assert parsed.expires_at == datetime(2021, 7, 10, 12, 30, tzinfo=UTC)
    assert parsed.dcc == DCC


def test_fractional_times_are_read_as_the_eu_vectors_need() -> None:
    claims = {1: "ES", 4: 1621262460.78, 6: 1621262400, -260: {1: {}}}
    parsed = parse_claims(cbor2.dumps(claims))
    assert parsed.expires_at.timestamp() == pytest.approx(1621262460.78)


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        pytest.param({1: "LU", 4: 2, 6: True, -260: {1: {}}}, "claim_iat_invalid", id="bool-iat"),
        pytest.param({1: "LU", 4: -2, 6: 1, -260: {1: {}}}, "claim_exp_invalid", id="negative"),
        pytest.param({1: "LU", 6: 1, -260: {1: {}}}, "claim_exp_invalid", id="no-exp"),
        pytest.param({1: "LU", 4: "2", 6: 1, -260: {1: {}}}, "claim_exp_invalid", id="text-exp"),
        pytest.param({1: "LU", 4: 2**40, 6: 1, -260: {1: {}}}, "claim_exp_invalid", id="y10k"),
        pytest.param(
            {1: "LU", 4: float("nan"), 6: 1, -260: {1: {}}}, "claim_exp_invalid", id="nan"
        ),
        pytest.param({1: 7, 4: 2, 6: 1, -260: {1: {}}}, "claim_iss_invalid", id="int-iss"),
        pytest.param({1: "L" * 81, 4: 2, 6: 1, -260: {1: {}}}, "claim_iss_invalid", id="long-iss"),
        pytest.param({1: "LU", 4: 2, 6: 1}, "hcert_missing", id="no-hcert"),
        pytest.param({1: "LU", 4: 2, 6: 1, -260: {2: {}}}, "hcert_missing", id="hcert-without-1"),
        pytest.param({1: "LU", 4: 2, 6: 1, -260: []}, "hcert_missing", id="hcert-array"),
        pytest.param({1: "LU", 4: 2, 6: 1, -260: {1: []}}, "dcc_invalid", id="dcc-array"),
        pytest.param({1: "LU", 4: 2, 6: 1, -260: {1: {"a": b"x"}}}, "dcc_invalid", id="bytes"),
        pytest.param({1: "LU", 4: 2, 6: 1, -260: {1: {1: "x"}}}, "dcc_invalid", id="int-key"),
        pytest.param([1, 2], "claims_invalid", id="array"),
    ],
)
def test_malformed_claims_are_refused_with_their_code(claims: object, code: str) -> None:
    with pytest.raises(DecodeError) as caught:
        parse_claims(cbor2.dumps(claims))
    assert caught.value.stage == "claims"
    assert caught.value.code == code


def test_tagged_times_are_refused() -> None:
    tagged = {1: "LU", 4: cbor2.CBORTag(1, 2), 6: 1, -260: {1: {}}}
    with pytest.raises(DecodeError) as caught:
        parse_claims(cbor2.dumps(tagged))
    assert caught.value.code == "claim_exp_invalid"


def test_a_date_time_tag_inside_the_dcc_is_read_as_its_text() -> None:
    dcc = {"t": [{"sc": cbor2.CBORTag(0, "2021-07-08T12:30:00Z")}]}
    parsed = parse_claims(cbor2.dumps({4: 2, 6: 1, -260: {1: dcc}}))
    assert parsed.dcc == {"t": [{"sc": "2021-07-08T12:30:00Z"}]}
    assert parsed.iss is None
