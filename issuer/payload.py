"""The DCC payload of a test certificate (hcert.md §2).

Pure data shaping: no clock, no keys. ``sc`` is written as ``YYYY-MM-DDThh:mm:ssZ`` and
absent optional fields are omitted (never ``null``).

:func:`test_certificate` builds every map directly in canonical CBOR key order (length
first, then bytewise: RFC 7049 §3.9, what ``cbor2.dumps(canonical=True)`` writes), so the
issuer encodes its claims with :func:`hcert.claims.encode_canonical_claims`: no canonical
mode and no re-sorting pass.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from hcert.valuesets import DISEASE_COVID19, TEST_TYPE_RAT
from issuer.request import NegativeTestRequest

__all__ = ["DCC_VERSION", "format_sample_time", "test_certificate"]

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
