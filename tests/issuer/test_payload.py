"""The DCC payload and CWT claims: exact fields, integer times, hcert keys, no nulls."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hcert.claims import (
    CWT_EXP,
    CWT_HCERT,
    CWT_IAT,
    CWT_ISS,
    encode_canonical_claims,
    encode_claims,
)
from hcert.valuesets import TEST_TYPE_NAAT, TEST_TYPE_RAT, DeviceRegistry
from issuer.payload import DCC_VERSION, format_sample_time
from issuer.payload import test_certificate as build_test_certificate  # not a test
from issuer.request import NegativeTestRequest, validate_issue_request

UVCI = "URN:UVCI:01:LU:ABCDEFGHIJKLMNOPQRSTUVWXYZ#G"
SC_FORMAT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"


def validated(data: dict[str, Any], now: datetime) -> NegativeTestRequest:
    return validate_issue_request(data, now=now, devices=DeviceRegistry.format_only())


def certificate(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    return build_test_certificate(
        validated(data, now), uvci=UVCI, country="LU", issuer_name="Ministry of Health"
    )


def walk(value: object) -> list[object]:
    """Every node of a JSON/CBOR tree (keys included)."""
    nodes = [value]
    if isinstance(value, dict):
        for key, item in value.items():
            nodes += walk(key) + walk(item)
    elif isinstance(value, list | tuple):
        for item in value:
            nodes += walk(item)
    return nodes


def test_the_design_example_gives_exactly_this_rat_certificate(
    rat_request: dict[str, Any], fixed_now: datetime
) -> None:
    assert certificate(rat_request, fixed_now) == {
        "ver": "1.3.0",
        "nam": {
            "fn": "Müller-Schmidt",
            "fnt": "MUELLER<SCHMIDT",
            "gn": "Anna Maria",
            "gnt": "ANNA<MARIA",
        },
        "dob": "1985-03-02",
        "t": [
            {
                "tg": "840539006",
                "tt": "LP217198-3",
                "ma": "1232",
                "sc": "2021-07-08T12:30:00Z",
                "tr": "260415000",
                "tc": "Pharmacie du Centre, Luxembourg",
                "co": "LU",
                "is": "Ministry of Health",
                "ci": UVCI,
            }
        ],
    }


def test_a_naat_certificate_has_nm_and_no_ma(
    naat_request: dict[str, Any], fixed_now: datetime
) -> None:
    entry = certificate(naat_request, fixed_now)["t"][0]
    assert entry["tt"] == "LP6464-4"
    assert entry["nm"] == "Cobas SARS-CoV-2 PCR"
    assert "ma" not in entry
    assert entry["sc"] == "2021-07-08T07:15:00Z"
    del naat_request["test"]["name"]
    entry = certificate(naat_request, fixed_now)["t"][0]
    assert "nm" not in entry
    assert "ma" not in entry


def test_a_rat_certificate_never_has_nm(rat_request: dict[str, Any], fixed_now: datetime) -> None:
    entry = certificate(rat_request, fixed_now)["t"][0]
    assert entry["ma"] == "1232"
    assert "nm" not in entry


def test_absent_optional_fields_are_omitted_never_null(
    rat_request: dict[str, Any], naat_request: dict[str, Any], fixed_now: datetime
) -> None:
    minimal = copy.deepcopy(naat_request)
    del minimal["test"]["facility"], minimal["test"]["name"], minimal["person"]["family_name"]
    for data in (rat_request, naat_request, minimal):
        dcc = certificate(data, fixed_now)
        nodes = walk(dcc)
        assert None not in nodes
        assert not any(isinstance(node, float) for node in nodes)
        assert all(node != "" for node in walk(dcc["t"]) + walk(dcc["nam"]))
    dcc = certificate(minimal, fixed_now)
    assert set(dcc["t"][0]) == {"tg", "tt", "sc", "tr", "co", "is", "ci"}
    assert set(dcc["nam"]) == {"gn", "gnt"}


def test_version_is_1_3_0_with_fnt_and_1_3_2_without(
    rat_request: dict[str, Any], fixed_now: datetime
) -> None:
    assert DCC_VERSION == "1.3.0"
    assert certificate(rat_request, fixed_now)["ver"] == "1.3.0"
    del rat_request["person"]["family_name"]
    dcc = certificate(rat_request, fixed_now)
    assert "fnt" not in dcc["nam"]
    assert dcc["ver"] == "1.3.2"  # fnt became optional in schema 1.3.2
    only_family = {"family_name": "Dupont", "date_of_birth": "1990"}
    rat_request["person"] = only_family
    dcc = certificate(rat_request, fixed_now)
    assert dcc["nam"] == {"fn": "Dupont", "fnt": "DUPONT"}
    assert dcc["ver"] == "1.3.0"
    assert dcc["dob"] == "1990"


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2021, 7, 8, 14, 30, tzinfo=timezone(timedelta(hours=2))), "2021-07-08T12:30:00Z"),
        (datetime(2021, 7, 8, 0, 30, tzinfo=timezone(timedelta(hours=2))), "2021-07-07T22:30:00Z"),
        (
            datetime(2021, 12, 31, 20, 0, tzinfo=timezone(timedelta(hours=-5))),
            "2022-01-01T01:00:00Z",
        ),
        (datetime(2021, 7, 8, 12, 30, 59, 999999, tzinfo=UTC), "2021-07-08T12:30:59Z"),
        (
            datetime(2021, 7, 8, 12, 30, tzinfo=timezone(timedelta(hours=5, minutes=45))),
            "2021-07-08T06:45:00Z",
        ),
    ],
)
def test_sample_time_is_utc_seconds_z(moment: datetime, expected: str) -> None:
    assert format_sample_time(moment) == expected


def test_sample_time_from_any_offset_is_written_in_utc(
    rat_request: dict[str, Any], fixed_now: datetime
) -> None:
    for text in ("2021-07-08T14:30:00+02:00", "2021-07-08T12:30:00Z", "2021-07-08T07:30:00-05:00"):
        rat_request["test"]["sample_collected_at"] = text
        assert certificate(rat_request, fixed_now)["t"][0]["sc"] == "2021-07-08T12:30:00Z"


def test_claims_have_integer_times_and_the_hcert_keys(
    rat_request: dict[str, Any], fixed_now: datetime
) -> None:
    dcc = certificate(rat_request, fixed_now)
    iat, exp = 1625747462, 1625920200
    claims = encode_claims(dcc, iss="LU", iat=iat, exp=exp)
    # Deterministic CBOR: {1: "LU", 4: exp, 6: iat, -260: {1: dcc}}, in this byte order.
    head = (
        bytes.fromhex("a4 01 62 4c55 04 1a")
        + exp.to_bytes(4, "big")
        + b"\x06\x1a"
        + iat.to_bytes(4, "big")
        + bytes.fromhex("39 0103 a1 01")
    )
    assert claims.startswith(head)
    assert bytes.fromhex("39 01 03") in claims
    decoded = cbor2.loads(claims)
    assert set(decoded) == {CWT_ISS, CWT_EXP, CWT_IAT, CWT_HCERT} == {1, 4, 6, -260}
    assert type(decoded[4]) is int
    assert type(decoded[6]) is int
    assert decoded[-260] == {1: dcc}
    assert not any(
        isinstance(node, float | cbor2.CBORTag) or node is None for node in walk(decoded)
    )


def test_claims_encoding_is_deterministic(rat_request: dict[str, Any], fixed_now: datetime) -> None:
    dcc = certificate(rat_request, fixed_now)
    shuffled = dict(reversed(list(dcc.items())))
    shuffled["t"] = [dict(reversed(list(dcc["t"][0].items())))]
    assert encode_claims(dcc, iss="LU", iat=1, exp=2) == encode_claims(
        shuffled, iss="LU", iat=1, exp=2
    )


def canonical_order(keys: list[str]) -> list[str]:
    """RFC 7049 §3.9 order of text keys: encoded length first, then bytewise."""
    return sorted(keys, key=lambda key: (len(key.encode()), key.encode()))


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_OPTIONAL_TEXT = st.one_of(st.none(), st.just(""), _TEXT)


@st.composite
def negative_test_requests(draw: st.DrawFn) -> NegativeTestRequest:
    """Any shape of validated request: names and optional fields present or not."""
    test_type = draw(st.sampled_from([TEST_TYPE_RAT, TEST_TYPE_NAAT]))
    offset = timezone(timedelta(minutes=draw(st.integers(-14 * 60, 14 * 60))))
    sampled = draw(
        st.datetimes(
            min_value=datetime(2020, 1, 1),
            max_value=datetime(2030, 1, 1),
            timezones=st.just(offset),
        )
    )
    return NegativeTestRequest(
        family_name=draw(_OPTIONAL_TEXT),
        given_name=draw(_OPTIONAL_TEXT),
        family_name_standardised=draw(_OPTIONAL_TEXT),
        given_name_standardised=draw(_OPTIONAL_TEXT),
        date_of_birth=draw(_TEXT),
        test_type=test_type,
        device=draw(_TEXT) if test_type == TEST_TYPE_RAT else None,
        naat_name=draw(_OPTIONAL_TEXT) if test_type == TEST_TYPE_NAAT else None,
        sample_collected_at=sampled,
        result=draw(_TEXT),
        facility=draw(_OPTIONAL_TEXT),
    )


@settings(max_examples=500, deadline=None)
@given(
    negative_test_requests(),
    _TEXT,
    st.integers(min_value=0, max_value=2**40),
    st.integers(min_value=0, max_value=2**40),
)
def test_the_certificate_is_built_in_canonical_order_and_encodes_as_canonical_cbor(
    request: NegativeTestRequest, issuer_name: str, iat: int, exp: int
) -> None:
    """The oracle is cbor2's canonical mode: our plain encoding of the pre-ordered maps gives
    the same bytes, and so does the general :func:`encode_claims`."""
    dcc = build_test_certificate(request, uvci=UVCI, country="LU", issuer_name=issuer_name)
    for mapping in (dcc, dcc["nam"], dcc["t"][0]):
        assert list(mapping) == canonical_order(list(mapping))
    claims = encode_canonical_claims(dcc, iss="LU", iat=iat, exp=exp)
    expected = cbor2.dumps({1: "LU", 4: exp, 6: iat, -260: {1: dcc}}, canonical=True)
    assert claims == expected
    assert encode_claims(dcc, iss="LU", iat=iat, exp=exp) == expected
    assert None not in walk(dcc)
    assert "" not in walk(dcc["nam"])
