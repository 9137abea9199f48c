"""The options of ``POST /v1/verify``: destination ``country``, validation time ``at`` and
the ``lang`` of rule descriptions.

Given as query parameters with any body, or as members of a JSON body (next to ``hc1``; a
body member wins over a query parameter of the same name). Values are checked by
:func:`verifier.destination.read_destination` (422 ``country_invalid``, ``at_invalid``,
``lang_invalid``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from starlette.requests import Request

from verifier.destination import LANGUAGES, Destination, RuleSet, read_destination

__all__ = ["OPENAPI_PARAMETERS", "OPTION_NAMES", "split_options", "verify_options"]

OPTION_NAMES: Final = ("country", "at", "lang")
OPENAPI_PARAMETERS: Final[list[dict[str, Any]]] = [
    {
        "name": "country",
        "in": "query",
        "required": False,
        "description": "destination country: check the certificate against its rules",
        "schema": {"type": "string", "pattern": "^[A-Z]{2}$"},
    },
    {
        "name": "at",
        "in": "query",
        "required": False,
        "description": "validation time, ISO 8601 (default: now)",
        "schema": {"type": "string", "maxLength": 40},
    },
    {
        "name": "lang",
        "in": "query",
        "required": False,
        "description": "language of the rule descriptions (default: en)",
        "schema": {"type": "string", "enum": sorted(LANGUAGES)},
    },
]
"""The options as documented query parameters (the OpenAPI document)."""


def split_options(body: object) -> tuple[object, dict[str, object]]:
    """The JSON body without its options, and the options it held."""
    if not isinstance(body, dict):
        return body, {}
    options = {name: body[name] for name in OPTION_NAMES if name in body}
    rest = {key: value for key, value in body.items() if key not in OPTION_NAMES}
    return rest, options


def verify_options(
    request: Request, body_options: Mapping[str, object], rules: RuleSet
) -> tuple[Destination | None, datetime | None]:
    """The destination (None without ``country``) and validation time (None: now).

    Every value given is checked, also a query parameter that a body member overrides."""
    query = {name: request.query_params.get(name) for name in OPTION_NAMES}
    if any(value is not None for value in query.values()):
        read_destination(query["country"], query["at"], query["lang"], rules=rules)
    values = {name: body_options.get(name, query[name]) for name in OPTION_NAMES}
    return read_destination(values["country"], values["at"], values["lang"], rules=rules)
