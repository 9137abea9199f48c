"""The CWT claims of an HC1 payload, read for verification (hcert.md §1.2).

Strict where nothing in the wild needs leniency, lenient where the EU vectors do:

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

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import cbor2

from issuer.payload import CWT_EXP, CWT_HCERT, CWT_IAT, CWT_ISS, HCERT_EU_DCC_V1
from signing.cbor import loads_strict
from signing.errors import DecodeError

__all__ = [
    "CWT_EXP",
    "CWT_HCERT",
    "CWT_IAT",
    "CWT_ISS",
    "MAX_NUMERIC_DATE",
    "Claims",
    "dcc_to_json",
    "parse_claims",
]

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
