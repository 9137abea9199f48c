"""CertLogic semantics the published suite leaves open, as verifier.certlogic decides them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from verifier.certlogic import CertLogicError, evaluate, validate
from verifier.certlogic.evaluate import MAX_DEPTH


def _plus(text: str, amount: int, unit: str) -> Any:
    return evaluate({"plusTime": [text, amount, unit]}, None)


def test_months_and_years_clamp_to_the_last_day_of_the_month() -> None:
    assert _plus("2021-01-31", 1, "month") == datetime(2021, 2, 28, tzinfo=UTC)
    assert _plus("2024-02-29", 1, "year") == datetime(2025, 2, 28, tzinfo=UTC)
    assert _plus("2021-03-31T10:00:00Z", -1, "month") == datetime(2021, 2, 28, 10, tzinfo=UTC)


def test_offsets_name_instants() -> None:
    earlier = {"plusTime": ["2021-06-01T10:00:00+02:00", 0, "hour"]}
    later = {"plusTime": ["2021-06-01T09:00:00Z", 0, "hour"]}
    assert evaluate({"before": [earlier, later]}, None) is True
    assert _plus("2021-06-01T10:00:00+2", 0, "hour") == datetime(2021, 6, 1, 8, tzinfo=UTC)
    assert _plus("2021-06-01T10:00:00", 0, "day") == datetime(2021, 6, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "data"),
    [
        ({"if": [{"plusTime": ["2021-01-01", 0, "day"]}, 1, 2]}, None),  # guard: a date-time
        ({"<": [1, "2"]}, None),
        ({"<": [True, 2]}, None),
        ({"after": [1, 2]}, None),
        ({"in": ["a", {"var": "x"}]}, {"x": None}),
        ({"+": [1, 2.5]}, None),
        ({"plusTime": [{"var": "x"}, 1, "day"]}, {"x": 7}),
        ({"plusTime": ["not a date", 1, "day"]}, None),
        ({"plusTime": ["2021-02-30", 1, "day"]}, None),
        ({"plusTime": ["2021-01-01", 1, "week"]}, None),
        ({"dccDateOfBirth": ["1990-13"]}, None),
        ({"reduce": [{"var": "x"}, 0, 0]}, {"x": "abc"}),
        ({"extractFromUVCI": [{"var": "x"}, 0]}, {"x": 5}),
        ({"if": [True, 1]}, None),
        ({"nope": [1]}, None),
        ({"var": 1}, None),
        (None, None),
        (1.5, None),
    ],
)
def test_what_cannot_be_evaluated_raises(expression: Any, data: Any) -> None:
    with pytest.raises(CertLogicError):
        evaluate(expression, data)


def test_equality_is_strict() -> None:
    assert evaluate({"===": [1, True]}, None) is False
    assert evaluate({"===": [1, 1.0]}, None) is True
    assert evaluate({"in": [1, [True, "1"]]}, None) is False
    assert evaluate({"===": [[1], [1]]}, None) is False  # arrays: identity, as in JavaScript


def test_nesting_is_bounded() -> None:
    deep: Any = True
    for _ in range(MAX_DEPTH + 1):
        deep = {"!": [deep]}
    with pytest.raises(CertLogicError, match="deeper"):
        evaluate(deep, None)
    assert any("deeper" in issue.message for issue in validate(deep))


def test_the_validator_checks_operations() -> None:
    assert validate({"if": [True, 1]})[0].message == '"if" has 2 operands'
    assert validate({"plusTime": ["2021-01-01", 1, "week"]})
    assert validate({"and": [{"var": "a"}, {"var": "x."}]})[0].expr == {"var": "x."}
    assert validate({"and": [{"var": "payload.t.0"}, {"var": ""}]}) == []
