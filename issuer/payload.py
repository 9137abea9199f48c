"""The DCC payload of a test certificate and the CWT claims around it (hcert.md §1.2, §2).

Everything here is pure data shaping: no clock, no keys. Times are integers (NumericDate),
``sc`` is written as ``YYYY-MM-DDThh:mm:ssZ``, absent optional fields are omitted (never
``null``), and the claims are encoded as deterministic CBOR.

:func:`test_certificate` builds every map directly in canonical CBOR key order (length
first, then bytewise: RFC 7049 §3.9, what ``cbor2.dumps(canonical=True)`` writes), so the
issuer encodes its claims with a plain ``cbor2.dumps`` (:func:`encode_canonical_claims`):
no canonical mode (~10 µs) and no re-sorting pass. :func:`encode_claims` takes any DCC.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import cbor2

from issuer.request import NegativeTestRequest
from issuer.valuesets import DISEASE_COVID19, TEST_TYPE_RAT
from signing.cbor import dumps, loads_strict
from signing.errors import DecodeError

__all__ = [
    "CWT_EXP",
    "CWT_HCERT",
    "CWT_IAT",
    "CWT_ISS",
    "DCC_VERSION",
    "CwtClaims",
    "encode_canonical_claims",
    "encode_claims",
    "format_sample_time",
    "parse_claims",
    "test_certificate",
]

CWT_ISS: Final = 1
CWT_EXP: Final = 4
CWT_IAT: Final = 6
CWT_HCERT: Final = -260
HCERT_EU_DCC_V1: Final = 1
DCC_VERSION: Final = "1.3.0"
DCC_VERSION_GIVEN_NAME_ONLY: Final = "1.3.2"  # fnt became optional in 1.3.2


def format_sample_time(moment: datetime) -> str:
    """``sc`` as the spec recommends: UTC, seconds, ``Z`` (``YYYY-MM-DDThh:mm:ssZ``)."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return utc.isoformat()[:19] + "Z"  # ~2x cheaper than strftime (fractions cut off)


def test_certificate(
    request: NegativeTestRequest, *, uvci: str, country: str, issuer_name: str
) -> dict[str, Any]:
    """The DCC JSON (schema 1.3.x) for one negative test, every map in canonical key order.

    Orders (length first, then bytewise): ``t, dob, nam, ver``; ``fn, gn, fnt, gnt``;
    ``ci, co, is, ma, nm, sc, tc, tg, tr, tt``. Absent optional fields are omitted.
    """
    entry: dict[str, str] = {"ci": uvci, "co": country, "is": issuer_name}
    test_type = request.test_type
    if test_type == TEST_TYPE_RAT:
        assert request.device is not None
        entry["ma"] = request.device
    elif request.naat_name:
        entry["nm"] = request.naat_name
    entry["sc"] = format_sample_time(request.sample_collected_at)
    if request.facility:
        entry["tc"] = request.facility
    entry["tg"] = DISEASE_COVID19
    entry["tr"] = request.result
    entry["tt"] = test_type
    names: dict[str, str] = {}
    if request.family_name:
        names["fn"] = request.family_name
    if request.given_name:
        names["gn"] = request.given_name
    if request.family_name_standardised:
        names["fnt"] = request.family_name_standardised
        version = DCC_VERSION
    else:
        version = DCC_VERSION_GIVEN_NAME_ONLY
    if request.given_name_standardised:
        names["gnt"] = request.given_name_standardised
    return {"t": [entry], "dob": request.date_of_birth, "nam": names, "ver": version}


def encode_canonical_claims(dcc: Mapping[str, Any], *, iss: str, iat: int, exp: int) -> bytes:
    """:func:`encode_claims` for a DCC whose maps are already in canonical key order.

    That is what :func:`test_certificate` returns; the bytes are then those of
    :func:`encode_claims` at a plain ``cbor2.dumps``'s cost (~3.5 µs instead of ~10).
    Anything else must go through :func:`encode_claims`.
    """
    # The keys 1, 4, 6, -260 are in canonical order (one-byte heads first).
    return cbor2.dumps({CWT_ISS: iss, CWT_EXP: exp, CWT_IAT: iat, CWT_HCERT: {1: dcc}})


def encode_claims(dcc: Mapping[str, Any], *, iss: str, iat: int, exp: int) -> bytes:
    """The CWT claims map ``{1: iss, 4: exp, 6: iat, -260: {1: dcc}}`` as CBOR."""
    try:
        if not (type(iss) is str and _is_uint(iat) and _is_uint(exp)):
            raise _NotPlain
        ordered = _in_canonical_order(dict(dcc), 0)
    except _NotPlain:
        return dumps(
            {CWT_ISS: iss, CWT_EXP: exp, CWT_IAT: iat, CWT_HCERT: {HCERT_EU_DCC_V1: dict(dcc)}}
        )
    # The keys 1, 4, 6, -260 are already in canonical order (one-byte heads first).
    return cbor2.dumps({CWT_ISS: iss, CWT_EXP: exp, CWT_IAT: iat, CWT_HCERT: {1: ordered}})


# Deterministic CBOR without cbor2's canonical mode, which costs ~10 µs per certificate:
# for plain JSON-like data (dicts with text keys, lists, text, small integers, booleans,
# null) the only thing canonical mode changes is the order of map keys, length first, then
# bytewise (RFC 7049 §3.9, what ``cbor2.dumps(canonical=True)`` writes). Anything else
# (floats, tags, other mappings, deep nesting) goes through cbor2's canonical mode as before.
_MAX_PLAIN_DEPTH: Final = 16
_UINT_LIMIT: Final = 2**64


class _NotPlain(Exception):
    """The value holds something the fast canonical path does not handle."""


def _is_uint(value: object) -> bool:
    return type(value) is int and 0 <= value < _UINT_LIMIT


def _text_key(key: str) -> tuple[int, str]:
    # Code-point order of str equals the byte order of its UTF-8 encoding.
    return (len(key.encode("utf-8")), key)


@functools.lru_cache(maxsize=256)
def _canonical_key_order(keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(keys, key=_text_key))


def _in_canonical_order(value: object, depth: int) -> object:
    """``value`` with every dict rebuilt in canonical key order; raise _NotPlain otherwise."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if depth > _MAX_PLAIN_DEPTH:
        raise _NotPlain
    if kind is dict:
        assert isinstance(value, dict)
        keys = tuple(value)
        for key in keys:
            if type(key) is not str:
                raise _NotPlain
        try:
            order = _canonical_key_order(keys)
        except UnicodeEncodeError:  # a lone surrogate: let cbor2 report it
            raise _NotPlain from None
        return {key: _in_canonical_order(value[key], depth + 1) for key in order}
    if kind is list:
        assert isinstance(value, list)
        return [_in_canonical_order(item, depth + 1) for item in value]
    if isinstance(value, int) and kind is int and -_UINT_LIMIT <= value < _UINT_LIMIT:
        return value
    raise _NotPlain


@dataclass(frozen=True, slots=True)
class CwtClaims:
    """The decoded claims of an HC1 payload (strict: integer times, one DCC)."""

    iss: str | None
    iat: int
    exp: int
    dcc: Mapping[str, Any]


def _int_claim(claims: Mapping[Any, Any], key: int, name: str) -> int:
    value = claims.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
        raise DecodeError(
            "claims", f"claim {name} is missing or not an integer time", code="claims_invalid"
        )
    return value


def parse_claims(payload: bytes) -> CwtClaims:
    """Decode the CWT claims of a COSE payload (our own strict reading)."""
    claims = loads_strict(payload, stage="claims")
    if not isinstance(claims, Mapping):
        raise DecodeError("claims", "the CWT payload is not a map", code="claims_invalid")
    hcert = claims.get(CWT_HCERT)
    dcc = hcert.get(HCERT_EU_DCC_V1) if isinstance(hcert, Mapping) else None
    if not isinstance(dcc, Mapping):
        raise DecodeError("claims", "the hcert claim (-260/1) is missing", code="hcert_missing")
    iss = claims.get(CWT_ISS)
    if iss is not None and not isinstance(iss, str):
        raise DecodeError("claims", "claim iss is not text", code="claims_invalid")
    return CwtClaims(
        iss=iss,
        iat=_int_claim(claims, CWT_IAT, "iat"),
        exp=_int_claim(claims, CWT_EXP, "exp"),
        dcc=dcc,
    )
