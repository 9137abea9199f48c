"""``POST /v1/names/preview``: the standardised names (``fnt``/``gnt``) issuing would derive.

It runs exactly the issuer's rule on a name (:func:`issuer.request.rules.clean_name`, then
:func:`issuer.request.standardise_name` with the deployment's length limit), so the preview
is what the certificate will hold, never a client-side approximation. Rule breaks come back
as field errors with the same dotted paths and codes as an issue request
(``person.family_name``: ``too_long``, ``invalid_characters``, ``transliteration_empty``),
so the page shows them next to the same inputs. It costs microseconds on at most 80
characters per name, so an API key is its only gate.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from api.body import json_object, read_json
from api.deps import AccountDep, resources_of
from api.problems import ProblemFieldError
from api.responses import NO_STORE, json_response
from api.routes.schemas import inline_json_body, problems
from issuer.request import standardise_name
from issuer.request.rules import clean_name
from signing.errors import FieldError, RequestInvalid

__all__ = ["NAME_KEYS", "NamesPreview", "NamesPreviewInput", "preview_names", "router"]

NAME_KEYS: Final = ("family_name", "given_name")
_PREVIEW_BODY_BYTES: Final = 4096

router = APIRouter(tags=["pages"])


class NamesPreviewInput(BaseModel):
    """Body of ``POST /v1/names/preview``."""

    model_config = ConfigDict(extra="forbid")
    family_name: str | None = Field(default=None, examples=["Müller-Schmidt"])
    given_name: str | None = Field(default=None, examples=["Anna Maria"])


class NamesPreview(BaseModel):
    """The standardised forms issuing would put in ``fnt`` / ``gnt``, and any rule broken."""

    family_name_standardised: str | None = Field(examples=["MUELLER<SCHMIDT"])
    given_name_standardised: str | None = Field(examples=["ANNA<MARIA"])
    errors: list[ProblemFieldError]


def _standardised(value: str | None, key: str, max_length: int) -> str | FieldError | None:
    if value is None:
        return None
    field = f"person.{key}"
    cleaned = clean_name(value, field, max_length=max_length)
    if cleaned is None or isinstance(cleaned, FieldError):
        return cleaned
    return standardise_name(cleaned, field, max_length)


def preview_names(body: object, *, max_length: int) -> dict[str, Any]:
    """``{"family_name_standardised", "given_name_standardised", "errors"}`` for ``body``.

    ``body`` is ``{"family_name"?: str, "given_name"?: str}``; a missing or null name gives
    a null preview. Raises :class:`RequestInvalid` for any other shape of body (not an
    object, unknown keys, a name that is neither a string nor null).
    """
    fields, refused = json_object(body, NAME_KEYS, what="names preview")
    refused += [
        FieldError(f"person.{key}", "type", "must be a string or null")
        for key in NAME_KEYS
        if not isinstance(fields.get(key), str | None)
    ]
    if refused:
        raise RequestInvalid(
            refused, message="the names preview request is invalid", omitted=refused.omitted
        )
    out: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for key in NAME_KEYS:
        value = fields.get(key)
        assert value is None or isinstance(value, str)
        standardised = _standardised(value, key, max_length)
        if isinstance(standardised, FieldError):
            errors.append(standardised.to_dict())
            standardised = None
        out[f"{key}_standardised"] = standardised
    out["errors"] = errors
    return out


@router.post(
    "/v1/names/preview",
    summary="Preview the standardised (ICAO 9303) names",
    response_class=Response,
    responses={
        200: {"model": NamesPreview, "description": "the standardised names"},
        **problems(400, 401, 413, 415, 422, 500),
    },
    openapi_extra=inline_json_body(NamesPreviewInput),
)
async def names_preview(request: Request, account: AccountDep) -> Response:
    """What ``fnt``/``gnt`` issuing would derive from these names (errors as field errors)."""
    resources = resources_of(request)
    body = await read_json(request, _PREVIEW_BODY_BYTES)
    preview = preview_names(body, max_length=resources.policy.max_name_length)
    return json_response(preview, headers=NO_STORE)
