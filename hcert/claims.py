"""The CWT claims of an HC1 payload (hcert.md §1.2): written by the issuer, read by the verifier.

Writing: :func:`encode_claims` gives the claims map ``{1: iss, 4: exp, 6: iat, -260: {1: dcc}}``
as deterministic CBOR; :func:`encode_canonical_claims` is its cheap twin for a DCC whose maps
are already in canonical key order (what :func:`issuer.payload.test_certificate` builds).

Reading (:func:`parse_claims`) is strict where nothing in the wild needs leniency, lenient
where the EU vectors do:

* the payload is one CBOR map (strict decoder: no duplicates, no indefinite lengths, every
  tag kept as a tag);
* ``iat`` (6) and ``exp`` (4) are required NumericDates: an unsigned integer, or a finite
  float (ES and HU vectors carry ``1621262460.78``); no tags, no booleans, no negatives,
  nothing after year 9999;
* ``iss`` (1) is optional text of at most 80 characters;
* ``-260`` → ``1`` is the DCC: a map with text keys whose values are JSON-like (text,
  integers, finite floats, booleans, null, arrays, maps). A text string inside CBOR tag 0
  (date-time) is read as the string; any other tag, byte strings or ``undefined`` make
  the DCC unreadable.

Nothing here is trusted before the signature has been checked; this module only reads.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import cbor2

from signing.cbor import dumps, loads_strict
from signing.errors import DecodeError

__all__ = [
    "CWT_EXP",
    "CWT_HCERT",
    "CWT_IAT",
    "CWT_ISS",
    "HCERT_EU_DCC_V1",
    "MAX_NUMERIC_DATE",
    "Claims",
    "dcc_to_json",
    "encode_canonical_claims",
    "encode_claims",
    "parse_claims",
]

CWT_ISS: Final = 1
CWT_EXP: Final = 4
CWT_IAT: Final = 6
CWT_HCERT: Final = -260
HCERT_EU_DCC_V1: Final = 1

TAG_DATE_TIME_STRING: Final = 0
MAX_NUMERIC_DATE: Final = 253402300799  # 9999-12-31T23:59:59Z
MAX_ISS_CHARS: Final = 80


@dataclass(frozen=True, slots=True)
class Claims:
    """Decoded claims: times as aware datetimes, the DCC as JSON data."""

    iss: str | None
    issued_at: datetime
    expires_at: datetime
    dcc: dict[str, Any]


def _claims_error(code: str, message: str) -> DecodeError:
    return DecodeError("claims", message, code=code)


def _numeric_date(claims: Mapping[Any, Any], key: int, name: str) -> datetime:
    code = f"claim_{name}_invalid"
    if key not in claims:
        raise _claims_error(code, f"the {name} claim is missing")
    value = claims[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _claims_error(code, f"the {name} claim is not a NumericDate number")
    if isinstance(value, float) and not math.isfinite(value):
        raise _claims_error(code, f"the {name} claim is not a finite number")
    if not 0 <= value <= MAX_NUMERIC_DATE:
        raise _claims_error(code, f"the {name} claim is out of range")
    return datetime.fromtimestamp(value, UTC)


def _json_value(value: object) -> Any:
    # Fast path for the exact types the strict decoder builds (each answer is the one the
    # generic path below gives); anything else goes through the generic checks.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return _json_object(value)  # type: ignore[arg-type]
    if kind is list:
        return [_json_value(item) for item in value]  # type: ignore[attr-defined]
    return _generic_json_value(value)


def _generic_json_value(value: object) -> Any:
    if isinstance(value, str | bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _claims_error("dcc_invalid", "the DCC holds a number that is not finite")
        return value
    if isinstance(value, cbor2.CBORTag):
        if value.tag == TAG_DATE_TIME_STRING and isinstance(value.value, str):
            return value.value
        raise _claims_error("dcc_invalid", f"the DCC holds an unsupported CBOR tag {value.tag}")
    if isinstance(value, Mapping):
        return _json_object(value)
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [_json_value(item) for item in value]
    raise _claims_error("dcc_invalid", f"the DCC holds a {type(value).__name__} value")


def _json_object(value: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if type(key) is not str and not isinstance(key, str):
            raise _claims_error("dcc_invalid", "the DCC holds a map key that is not text")
        out[key] = _json_value(item)
    return out


# ``type(x) is not dict and not isinstance(x, Mapping)``: the same test as the isinstance
# alone, but a dict (what the strict decoder builds) skips the slower ABC check.
def dcc_to_json(value: object) -> dict[str, Any]:
    """The DCC map as JSON data; raise ``DecodeError("claims", code="dcc_invalid")``."""
    if type(value) is not dict and not isinstance(value, Mapping):
        raise _claims_error("dcc_invalid", "the DCC (-260/1) is not a map")
    return _json_object(value)


def parse_claims(payload: bytes) -> Claims:
    """Decode the COSE payload into :class:`Claims`; raise ``DecodeError("claims")``."""
    claims = loads_strict(payload, stage="claims")
    if type(claims) is not dict and not isinstance(claims, Mapping):
        raise _claims_error("claims_invalid", "the COSE payload is not a CWT claims map")
    iss = claims.get(CWT_ISS)
    if iss is not None and (not isinstance(iss, str) or len(iss) > MAX_ISS_CHARS):
        raise _claims_error("claim_iss_invalid", "the iss claim is not short text")
    issued_at = _numeric_date(claims, CWT_IAT, "iat")
    expires_at = _numeric_date(claims, CWT_EXP, "exp")
    hcert = claims.get(CWT_HCERT)
    if (type(hcert) is not dict and not isinstance(hcert, Mapping)) or HCERT_EU_DCC_V1 not in hcert:
        raise _claims_error("hcert_missing", "the hcert claim (-260/1) is missing")
    return Claims(iss, issued_at, expires_at, dcc_to_json(hcert[HCERT_EU_DCC_V1]))


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
