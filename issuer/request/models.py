"""The JSON model of an issue request (``POST /v1/certificates``, ``dcc issue``).

These pydantic models describe the body for the OpenAPI document and refuse unknown fields.
They are deliberately permissive (plain strings, constraints only documented in the JSON
schema): the rules, with stable error codes, live in
:func:`issuer.request.validate_issue_request`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hcert.valuesets import TEST_TYPE_NAAT, TEST_TYPE_RAT

__all__ = ["DESIGN_EXAMPLE", "IssueRequestInput", "PersonInput", "TestInput"]

DESIGN_EXAMPLE: dict[str, Any] = {
    "person": {
        "family_name": "Müller-Schmidt",
        "given_name": "Anna Maria",
        "date_of_birth": "1985-03-02",
    },
    "test": {
        "type": "rapid-antigen",
        "device": "1232",
        "sample_collected_at": "2021-07-08T14:30:00+02:00",
        "result": "not-detected",
        "facility": "Pharmacie du Centre, Luxembourg",
    },
}
_P, _T = DESIGN_EXAMPLE["person"], DESIGN_EXAMPLE["test"]
_MAX80: dict[str, Any] = {"maxLength": 80}
_STANDARDISED: dict[str, Any] = {"pattern": "^[A-Z<]{1,80}$"}


class PersonInput(BaseModel):
    """The certificate holder, as written in their identity document."""

    model_config = ConfigDict(extra="forbid", strict=True)

    family_name: str | None = Field(
        None, description="Surname(s), any script; at least one of the two names.",
        examples=[_P["family_name"]], json_schema_extra=_MAX80,
    )  # fmt: skip
    given_name: str | None = Field(
        None, description="Forename(s), any script.",
        examples=[_P["given_name"]], json_schema_extra=_MAX80,
    )  # fmt: skip
    family_name_standardised: str | None = Field(
        None, description="Overrides the ICAO 9303 transliteration of family_name (fnt).",
        examples=["MUELLER<SCHMIDT"], json_schema_extra=_STANDARDISED,
    )  # fmt: skip
    given_name_standardised: str | None = Field(
        None, description="Overrides the ICAO 9303 transliteration of given_name (gnt).",
        examples=["ANNA<MARIA"], json_schema_extra=_STANDARDISED,
    )  # fmt: skip
    date_of_birth: str = Field(
        description="YYYY-MM-DD, YYYY-MM or YYYY; from 1900, not in the future.",
        examples=[_P["date_of_birth"]],
        json_schema_extra={"pattern": "^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"},
    )


class TestInput(BaseModel):
    """The negative COVID-19 test the certificate attests."""

    __test__ = False  # not a pytest test class
    model_config = ConfigDict(extra="forbid", strict=True)

    type: str = Field(
        description="rapid-antigen or naat (or the LOINC code LP217198-3 / LP6464-4).",
        examples=[_T["type"]],
        json_schema_extra={"enum": ["rapid-antigen", "naat", TEST_TYPE_RAT, TEST_TYPE_NAAT]},
    )
    device: str | None = Field(
        None, description="EU RAT device id (JRC); required for rapid-antigen, not for naat.",
        examples=[_T["device"]], json_schema_extra={"pattern": "^[0-9]{3,6}$"},
    )  # fmt: skip
    name: str | None = Field(
        None, description="Free-text NAAT test name; naat only.", json_schema_extra=_MAX80
    )
    sample_collected_at: str = Field(
        description="RFC 3339 date-time with an explicit offset; not in the future.",
        examples=[_T["sample_collected_at"]], json_schema_extra={"format": "date-time"},
    )  # fmt: skip
    result: str = Field(
        description="not-detected (or 260415000); positive results are refused.",
        examples=[_T["result"]], json_schema_extra={"enum": ["not-detected", "260415000"]},
    )  # fmt: skip
    facility: str | None = Field(
        None, description="Test centre (tc).", examples=[_T["facility"]], json_schema_extra=_MAX80
    )


class IssueRequestInput(BaseModel):
    """Body of ``POST /v1/certificates``; the server sets tg, co, is, ci, iat, exp, kid."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [DESIGN_EXAMPLE]}
    )

    person: PersonInput
    test: TestInput
