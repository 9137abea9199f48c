"""The one error CertLogic evaluation raises (part of the :mod:`signing.errors` hierarchy)."""

from __future__ import annotations

from typing import ClassVar

from signing.errors import DccError

__all__ = ["CertLogicError"]


class CertLogicError(DccError):
    """An expression that is not CertLogic, or that cannot be evaluated on the given data
    (an ``if`` guard neither truthy nor falsy, a comparison of non-integers, ...).

    Never reaches a client as such: a rule whose evaluation raises it is reported "open".
    """

    default_code: ClassVar[str] = "certlogic_error"
