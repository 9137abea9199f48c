"""The live preview of standardised names (``fnt`` / ``gnt``) shown before signing.

It runs exactly what issuing runs on a name (``clean_text`` then ICAO 9303 ``to_icao`` with
the deployment's length limit), so the preview is what the certificate will hold, never a
client-side approximation. Rule breaks come back as field errors with the same dotted paths
and codes as an issue request (``person.family_name``: ``too_long``, ``invalid_characters``,
``transliteration_empty``), so the page shows them next to the same inputs.
"""

from __future__ import annotations

from typing import Any, Final

from issuer.errors import FieldError, RequestInvalid
from issuer.request_rules import clean_text
from issuer.transliterate import to_icao

__all__ = ["NAME_KEYS", "preview_names"]

NAME_KEYS: Final = ("family_name", "given_name")


def _standardised(
    value: str | None, key: str, max_length: int
) -> tuple[str | None, FieldError | None]:
    field = f"person.{key}"
    if value is None:
        return None, None
    cleaned = clean_text(value, field, max_length=max_length)
    if cleaned is None or isinstance(cleaned, FieldError):
        return None, cleaned
    standardised = to_icao(cleaned, max_length=max_length)
    if standardised:
        return standardised, None
    return None, FieldError(
        field,
        "transliteration_empty",
        f"has no ICAO 9303 transliteration to Latin letters; send {key}_standardised "
        "(A-Z, with < between name parts)",
    )


def preview_names(body: object, *, max_length: int) -> dict[str, Any]:
    """``{"family_name_standardised", "given_name_standardised", "errors"}`` for ``body``.

    ``body`` is ``{"family_name"?: str, "given_name"?: str}``; a missing or null name gives
    a null preview. Raises :class:`RequestInvalid` for any other shape of body (not an
    object, unknown keys, a name that is neither a string nor null).
    """
    if not isinstance(body, dict):
        raise RequestInvalid([FieldError("", "body_not_object", "the body must be an object")])
    refused = [
        FieldError(str(key)[:40], "unknown_field", "is not a field of this object")
        for key in body
        if key not in NAME_KEYS
    ][:5]
    refused += [
        FieldError(f"person.{key}", "type", "must be a string or null")
        for key in NAME_KEYS
        if not isinstance(body.get(key), str | None)
    ]
    if refused:
        raise RequestInvalid(refused)
    out: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for key in NAME_KEYS:
        standardised, error = _standardised(body.get(key), key, max_length)
        out[f"{key}_standardised"] = standardised
        if error is not None:
            errors.append(error.to_dict())
    out["errors"] = errors
    return out
