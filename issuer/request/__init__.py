"""The issue-request contract: its JSON models, its value rules, and its validation.

:func:`validate_issue_request` turns a parsed JSON body into the :class:`NegativeTestRequest`
the issuer signs, or raises :class:`~signing.errors.RequestInvalid` naming every broken rule.

- :mod:`~issuer.request.models`: the pydantic models (the OpenAPI document's request schema);
- :mod:`~issuer.request.rules`: one rule per kind of value (names, dates, test type, result);
- :mod:`~issuer.request.reader` and :mod:`~issuer.request.collect`: the full collector;
- :mod:`~issuer.request.fast`: the fast path for plainly valid requests;
- :mod:`~issuer.request.contract`: the policy a deployment tunes and the validated request.
"""

from __future__ import annotations

from issuer.request.contract import NegativeTestRequest, RequestPolicy
from issuer.request.models import DESIGN_EXAMPLE, IssueRequestInput, PersonInput, TestInput
from issuer.request.rules import standardise_name
from issuer.request.validate import validate_issue_request

__all__ = [
    "DESIGN_EXAMPLE",
    "IssueRequestInput",
    "NegativeTestRequest",
    "PersonInput",
    "RequestPolicy",
    "TestInput",
    "standardise_name",
    "validate_issue_request",
]
