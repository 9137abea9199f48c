"""CertLogic, the JsonLogic dialect of the EU DCC business rules: evaluation and validation.

Written from the CertLogic specification (1.x) with its published test suite as the oracle
(tests/verifier/certlogic/). No JsonLogic library is used: JsonLogic's own semantics differ
(type coercion in ``==``/``<``, truthiness, ``var`` defaults, no date-times), and the one
Python package that claims CertLogic (panzi-json-logic 1.0.1, 2021) has had no release
since, ships no type information, lacks ``dccDateOfBirth`` and installs a ``json_logic``
module that clashes with the ``json-logic`` package.
"""

from __future__ import annotations

from verifier.certlogic.errors import CertLogicError
from verifier.certlogic.evaluate import OPERATORS, evaluate, is_falsy, is_truthy
from verifier.certlogic.validate import Issue, validate

__all__ = ["OPERATORS", "CertLogicError", "Issue", "evaluate", "is_falsy", "is_truthy", "validate"]
