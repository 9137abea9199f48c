"""Static validation of CertLogic expressions: what is wrong with an expression, before any
data is seen (the specification's validation test suite is the oracle for the messages it
lists). Rule files are validated when they are loaded, so that a broken rule is refused
with a reason instead of failing at every verification.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from verifier.certlogic.dates import TIME_UNITS
from verifier.certlogic.evaluate import MAX_DEPTH, OPERATORS

__all__ = ["Issue", "validate"]

_PATH: Final = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*", re.ASCII)
_ARITY: Final[dict[str, tuple[int, int | None]]] = {
    "if": (3, 3),
    "and": (2, None),
    "!": (1, 1),
    "===": (2, 2),
    "in": (2, 2),
    "+": (2, 2),
    "<": (2, 3),
    ">": (2, 3),
    "<=": (2, 3),
    ">=": (2, 3),
    "before": (2, 3),
    "after": (2, 3),
    "not-before": (2, 3),
    "not-after": (2, 3),
    "plusTime": (3, 3),
    "reduce": (3, 3),
    "extractFromUVCI": (2, 2),
    "dccDateOfBirth": (1, 1),
}


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem: the (sub-)expression it is about and a message."""

    expr: Any
    message: str


def _is_integer(value: object) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )


class _Validator:
    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def issue(self, expr: Any, message: str) -> None:
        self.issues.append(Issue(expr, message))

    def check(self, expr: Any, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.issue(expr, f"expression nested deeper than {MAX_DEPTH} levels")
        elif isinstance(expr, str | bool):
            return
        elif isinstance(expr, int | float):
            if not _is_integer(expr):
                self.issue(expr, f"{expr} is a non-integer number")
        elif isinstance(expr, list):
            for item in expr:
                self.check(item, depth + 1)
        elif isinstance(expr, dict):
            self.operation(expr, depth)
        else:
            self.issue(expr, "invalid CertLogic expression")

    def operation(self, expr: dict[str, Any], depth: int) -> None:
        if len(expr) != 1:
            self.issue(expr, f"expression object must have exactly one key, but it has {len(expr)}")
            return
        ((operator, operands),) = expr.items()
        if operator == "var":
            if not isinstance(operands, str):
                self.issue(expr, 'not of the form { "var": "<path>" }')
            elif operands and not _PATH.fullmatch(operands):
                self.issue(expr, f"data access path doesn't have a valid format: {operands}")
            return
        if not isinstance(operands, list):
            self.issue(expr, 'operation not of the form { "<operator>": [ <values...> ] }')
            return
        if operator not in OPERATORS:
            self.issue(expr, f'unrecognised operator: "{operator}"')
            return
        low, high = _ARITY[operator]
        if len(operands) < low or (high is not None and len(operands) > high):
            self.issue(expr, f'"{operator}" has {len(operands)} operands')
            return
        self.literals(expr, operator, operands)
        for operand in operands:
            self.check(operand, depth + 1)

    def literals(self, expr: dict[str, Any], operator: str, operands: list[Any]) -> None:
        if operator == "plusTime":
            if not _is_integer(operands[1]):
                self.issue(expr, "the amount of plusTime must be an integer literal")
            if operands[2] not in TIME_UNITS:
                self.issue(expr, f"the unit of plusTime must be one of {', '.join(TIME_UNITS)}")
        elif operator == "extractFromUVCI" and not _is_integer(operands[1]):
            self.issue(expr, "the index of extractFromUVCI must be an integer literal")


def validate(expression: Any) -> list[Issue]:
    """Every issue of ``expression``; empty when it is valid CertLogic."""
    validator = _Validator()
    validator.check(expression, 0)
    return validator.issues
