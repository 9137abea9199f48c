"""CertLogic evaluation: ``evaluate(expression, data)``, per the CertLogic specification 1.x.

CertLogic is the JsonLogic subset the EU DCC business rules are written in, with its own
additions. The semantics implemented here are those of the specification and its published
test suite (tests/verifier/certlogic/ runs every case):

* literals: strings, booleans, integers (a non-integer number is an error), arrays
  (evaluated element by element); ``null`` is not an expression;
* ``{"var": "a.0.b"}`` reads the data along a dot-separated path (integer fragments index
  arrays); a missing step gives ``null``; ``""`` is the data itself;
* ``if`` (three operands), ``and`` (two or more; the first falsy value, else the last),
  ``!``: guards must be *truthy* or *falsy*, anything else is an error. Falsy: ``false``,
  ``null``, ``""``, ``0``, ``[]``, ``{}``; truthy: ``true``, other strings, numbers,
  arrays and objects; a date-time is neither;
* ``===`` (strict: no type coercion; arrays and objects are equal only to themselves),
  ``in`` (the right operand must be an array), ``+`` (integers);
* ``<``, ``>``, ``<=``, ``>=`` on integers and ``before``, ``after``, ``not-before``,
  ``not-after`` on date-times, with two operands or three (``a < b < c``);
* ``plusTime`` [date-time string, integer literal, "year"|"month"|"day"|"hour"] → a
  date-time (:mod:`verifier.certlogic.dates`); ``dccDateOfBirth`` [date string];
* ``reduce`` [operand, lambda, initial]: a ``null`` operand gives the initial value; the
  lambda sees only ``{"accumulator", "current"}``;
* ``extractFromUVCI`` [operand, integer literal]: the index-th fragment of a UVCI (without
  its ``URN:UVCI:`` prefix, split on ``/``, ``#`` and ``:``), or ``null``.

Any other operator, a wrong operand count or type raises :class:`CertLogicError`.
Evaluation is recursive; expressions come from rule files an operator installed, and the
nesting depth is bounded (:data:`MAX_DEPTH`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from verifier.certlogic.dates import (
    TIME_UNITS,
    TimeUnit,
    date_of_birth,
    parse_date_time,
    plus_time,
)
from verifier.certlogic.errors import CertLogicError

__all__ = ["MAX_DEPTH", "evaluate", "is_falsy", "is_truthy", "strictly_equal"]

MAX_DEPTH: Final = 64
"""The deepest expression nesting evaluated (the EU rules nest 6 levels or so)."""

_UVCI_PREFIX: Final = "URN:UVCI:"
_UVCI_SEPARATORS: Final = re.compile(r"[/#:]")
_LEADING_INT: Final = re.compile(r"\s*([+-]?\d+)", re.ASCII)
_INTEGER_COMPARISONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}
_DATE_COMPARISONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "before": lambda a, b: a < b,
    "after": lambda a, b: a > b,
    "not-after": lambda a, b: a <= b,
    "not-before": lambda a, b: a >= b,
}


def _integer(value: object) -> int | None:
    """``value`` as an integer when it is one (``2.0`` is, ``True`` is not), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def is_falsy(value: object) -> bool:
    """CertLogic's falsy values: false, null, "", 0, [], {}."""
    if value is None or value is False:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, str | list | dict):
        return len(value) == 0
    if isinstance(value, int | float):
        return value == 0
    return False


def is_truthy(value: object) -> bool:
    """CertLogic's truthy values: true, non-empty strings, arrays and objects, non-zero
    numbers. A value may be neither (a date-time)."""
    if value is True:
        return True
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, str | list | dict):
        return len(value) > 0
    if isinstance(value, int | float):
        return value != 0
    return False


def strictly_equal(left: object, right: object) -> bool:
    """JavaScript's ``===`` on JSON values: same type and value; containers by identity."""
    if isinstance(left, list | dict) or isinstance(right, list | dict):
        return left is right
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    return type(left) is type(right) and left == right


def _var(path: object, data: Any) -> Any:
    if not isinstance(path, str):
        raise CertLogicError('not of the form { "var": "<path>" }')
    if data is None or path == "":
        return data
    current = data
    for fragment in path.split("."):
        if current is None:
            return None
        number = _LEADING_INT.match(fragment)
        if isinstance(current, list):
            index = int(number[1]) if number else -1
            current = current[index] if 0 <= index < len(current) else None
        elif isinstance(current, dict):
            key = str(int(number[1])) if number else fragment
            current = current.get(key)
        else:
            return None
    return current


class _Evaluator:
    def __init__(self) -> None:
        self.depth = 0

    def run(self, expr: Any, data: Any) -> Any:
        if self.depth >= MAX_DEPTH:
            raise CertLogicError(f"expression nested deeper than {MAX_DEPTH} levels")
        self.depth += 1
        try:
            return self._run(expr, data)
        finally:
            self.depth -= 1

    def _run(self, expr: Any, data: Any) -> Any:
        if isinstance(expr, str | bool):
            return expr
        if isinstance(expr, int | float):
            number = _integer(expr)
            if number is None:
                raise CertLogicError(f"{expr} is a non-integer number")
            return number
        if isinstance(expr, list):
            return [self.run(item, data) for item in expr]
        if not isinstance(expr, dict):
            raise CertLogicError("invalid CertLogic expression")
        if len(expr) != 1:
            raise CertLogicError(
                f"expression object must have exactly one key, but it has {len(expr)}"
            )
        ((operator, operands),) = expr.items()
        if operator == "var":
            return _var(operands, data)
        if not isinstance(operands, list) or not operands:
            raise CertLogicError('operation not of the form { "<operator>": [ <values...> ] }')
        handler = _OPERATIONS.get(operator)
        if handler is None:
            raise CertLogicError(f'unrecognised operator: "{operator}"')
        return handler(self, operator, operands, data)

    # -- operations ------------------------------------------------------------------------

    def if_(self, _: str, operands: list[Any], data: Any) -> Any:
        _arity("if", operands, 3, 3)
        guard = self.run(operands[0], data)
        if is_truthy(guard):
            return self.run(operands[1], data)
        if is_falsy(guard):
            return self.run(operands[2], data)
        raise CertLogicError("if-guard evaluates to something neither truthy, nor falsy")

    def and_(self, _: str, operands: list[Any], data: Any) -> Any:
        _arity("and", operands, 2, None)
        value: Any = True
        for operand in operands:
            if is_falsy(value):
                return value
            if not is_truthy(value):
                raise CertLogicError('all operands of an "and" must be truthy or falsy')
            value = self.run(operand, data)
        return value

    def not_(self, _: str, operands: list[Any], data: Any) -> Any:
        _arity("!", operands, 1, 1)
        value = self.run(operands[0], data)
        if is_falsy(value):
            return True
        if is_truthy(value):
            return False
        raise CertLogicError("operand of ! evaluates to something neither truthy, nor falsy")

    def binary(self, operator: str, operands: list[Any], data: Any) -> Any:
        _arity(operator, operands, 2, 2)
        left, right = (self.run(operand, data) for operand in operands)
        if operator == "===":
            return strictly_equal(left, right)
        if operator == "in":
            if not isinstance(right, list):
                raise CertLogicError('right-hand side of an "in" operation must be an array')
            return any(strictly_equal(left, item) for item in right)
        a, b = _integer(left), _integer(right)
        if a is None or b is None:
            raise CertLogicError('operands of "+" must both be integers')
        return a + b

    def compare(self, operator: str, operands: list[Any], data: Any) -> Any:
        _arity(operator, operands, 2, 3)
        values = [self.run(operand, data) for operand in operands]
        if operator in _INTEGER_COMPARISONS:
            numbers = [_integer(value) for value in values]
            if any(number is None for number in numbers):
                raise CertLogicError(f'all operands of "{operator}" must be integers')
            return _chain(_INTEGER_COMPARISONS[operator], numbers)
        if not all(isinstance(value, datetime) for value in values):
            raise CertLogicError(f'all operands of "{operator}" must be date-times')
        return _chain(_DATE_COMPARISONS[operator], values)

    def plus_time(self, _: str, operands: list[Any], data: Any) -> Any:
        _arity("plusTime", operands, 3, 3)
        text = self.run(operands[0], data)
        amount, unit = _integer(operands[1]), operands[2]
        if not isinstance(text, str):
            raise CertLogicError("the date-time operand of plusTime must be a string")
        if amount is None:
            raise CertLogicError("the amount of plusTime must be an integer literal")
        if unit not in TIME_UNITS:
            raise CertLogicError(f"the unit of plusTime must be one of {', '.join(TIME_UNITS)}")
        unit_name: TimeUnit = unit
        return plus_time(parse_date_time(text), amount, unit_name)

    def reduce(self, _: str, operands: list[Any], data: Any) -> Any:
        _arity("reduce", operands, 3, 3)
        items = self.run(operands[0], data)
        accumulator = self.run(operands[2], data)
        if items is None:
            return accumulator
        if not isinstance(items, list):
            raise CertLogicError("operand of reduce evaluated to a non-null non-array")
        for current in items:
            accumulator = self.run(operands[1], {"accumulator": accumulator, "current": current})
        return accumulator

    def extract_from_uvci(self, _: str, operands: list[Any], data: Any) -> Any:
        _arity("extractFromUVCI", operands, 2, 2)
        uvci, index = self.run(operands[0], data), _integer(operands[1])
        if uvci is not None and not isinstance(uvci, str):
            raise CertLogicError("the operand of extractFromUVCI must be a string or null")
        if index is None:
            raise CertLogicError("the index of extractFromUVCI must be an integer literal")
        if uvci is None or index < 0:
            return None
        fragments = _UVCI_SEPARATORS.split(uvci.removeprefix(_UVCI_PREFIX))
        return fragments[index] if index < len(fragments) else None

    def date_of_birth(self, _: str, operands: list[Any], data: Any) -> Any:
        _arity("dccDateOfBirth", operands, 1, 1)
        text = self.run(operands[0], data)
        if not isinstance(text, str):
            raise CertLogicError("the operand of dccDateOfBirth must be a string")
        return date_of_birth(text)


_Operation = Callable[[_Evaluator, str, list[Any], Any], Any]
_OPERATIONS: Final[Mapping[str, _Operation]] = {
    "if": _Evaluator.if_,
    "and": _Evaluator.and_,
    "!": _Evaluator.not_,
    "===": _Evaluator.binary,
    "in": _Evaluator.binary,
    "+": _Evaluator.binary,
    **{operator: _Evaluator.compare for operator in (*_INTEGER_COMPARISONS, *_DATE_COMPARISONS)},
    "plusTime": _Evaluator.plus_time,
    "reduce": _Evaluator.reduce,
    "extractFromUVCI": _Evaluator.extract_from_uvci,
    "dccDateOfBirth": _Evaluator.date_of_birth,
}
OPERATORS: Final = frozenset(_OPERATIONS) | {"var"}
"""Every CertLogic operator."""


def _arity(operator: str, operands: Sequence[Any], low: int, high: int | None) -> None:
    if len(operands) < low or (high is not None and len(operands) > high):
        expected = f"{low}" if low == high else f"{low} to {high}" if high else f"≥ {low}"
        raise CertLogicError(f'"{operator}" takes {expected} operands, not {len(operands)}')


def _chain(compare: Callable[[Any, Any], bool], values: Sequence[Any]) -> bool:
    return all(compare(a, b) for a, b in itertools.pairwise(values))


def evaluate(expression: Any, data: Any) -> Any:
    """The value of the CertLogic ``expression`` on ``data`` (JSON-like values).

    Date-time results are aware :class:`datetime` values. Raises :class:`CertLogicError`
    when the expression is not CertLogic or cannot be evaluated on this data.
    """
    return _Evaluator().run(expression, data)
