"""Validation of an issue request into the :class:`NegativeTestRequest` the issuer consumes.

:func:`validate_issue_request` walks an already-parsed JSON body, checks every rule of the
issue-request contract (docs/http-api.md), and raises :class:`RequestInvalid` with *all*
broken rules (one :class:`FieldError` each, with a dotted path and a stable code). The fast
path (:mod:`issuer.request.fast`) reads the common valid request directly and hands anything
else to the full collector (:mod:`issuer.request.collect`), which alone words errors.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from hcert.valuesets import DeviceRegistry
from issuer.request.collect import collect
from issuer.request.contract import NegativeTestRequest, RequestPolicy
from issuer.request.fast import Unclear, quick

__all__ = ["validate_issue_request"]

_DEFAULT_POLICY = RequestPolicy()


def validate_issue_request(
    data: object,
    *,
    now: datetime,
    devices: DeviceRegistry,
    policy: RequestPolicy = _DEFAULT_POLICY,
) -> NegativeTestRequest:
    """Check an issue request against every rule and return it normalised.

    ``data`` is the parsed JSON body (or an :class:`IssueRequestInput`); ``now`` must be
    timezone-aware and decides "in the future" and the sample's age. Raises
    :class:`RequestInvalid` listing every broken rule.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    if type(data) is not dict and isinstance(data, BaseModel):
        data = data.model_dump(exclude_unset=True)
    if type(data) is dict:
        try:
            return quick(data, now, devices, policy)
        except Unclear:
            pass  # the full collector names every broken rule
    return collect(data, now=now, devices=devices, policy=policy)
