"""The published CertLogic test suites, every case, as the oracle of verifier.certlogic.

``testSuite/*.json``: each assertion evaluates an expression on data and compares with the
expected value. ``validation-testSuite/*.json``: each case lists the issues the validator
must report. A ``"directive": "skip"`` (on a file, a case or an assertion) marks proposed
semantics the reference implementations do not follow yet; those are reported as skipped,
with the suite's reason, exactly as the reference test runners do. Skips when the suite is
absent (../shared not beside the clone).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SCHEMA_DIR
from verifier.certlogic import evaluate, validate

SPEC = SCHEMA_DIR / "eu-dcc-business-rules" / "certlogic" / "specification"


def _files(folder: str) -> list[Path]:
    return sorted((SPEC / folder).glob("*.json")) if SPEC.is_dir() else []


def _skip_reason(*directives: Any) -> str | None:
    if "skip" in directives:
        return "the suite marks this case 'skip' (proposed semantics, not CertLogic 1.x yet)"
    return None


def _evaluation_cases() -> list[Any]:
    cases = []
    for path in _files("testSuite"):
        suite = json.loads(path.read_text(encoding="utf-8"))
        for case in suite["cases"]:
            for number, assertion in enumerate(case["assertions"]):
                expression = assertion.get("certLogicExpression", case.get("certLogicExpression"))
                reason = _skip_reason(
                    suite.get("directive"), case.get("directive"), assertion.get("directive")
                )
                marks = [pytest.mark.skip(reason=reason)] if reason else []
                cases.append(
                    pytest.param(
                        expression,
                        assertion["data"],
                        assertion["expected"],
                        id=f"{path.stem}: {case['name']} #{number}",
                        marks=marks,
                    )
                )
    return cases


def _validation_cases() -> list[Any]:
    cases = []
    for path in _files("validation-testSuite"):
        suite = json.loads(path.read_text(encoding="utf-8"))
        for number, case in enumerate(suite["cases"]):
            reason = _skip_reason(suite.get("directive"), case.get("directive"))
            cases.append(
                pytest.param(
                    case["certLogicExpression"],
                    case["issues"],
                    id=f"{path.stem} #{number}",
                    marks=[pytest.mark.skip(reason=reason)] if reason else [],
                )
            )
    return cases


EVALUATION_CASES = _evaluation_cases()
VALIDATION_CASES = _validation_cases()


def test_the_suite_is_there() -> None:
    if not SPEC.is_dir():
        pytest.skip(f"the CertLogic specification is not at {SPEC} (clone next to ../shared)")
    assert len(EVALUATION_CASES) >= 200
    assert len(VALIDATION_CASES) >= 15


@pytest.mark.parametrize(("expression", "data", "expected"), EVALUATION_CASES)
def test_evaluation(expression: Any, data: Any, expected: Any) -> None:
    result = evaluate(expression, data)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(("expression", "issues"), VALIDATION_CASES)
def test_validation(expression: Any, issues: list[dict[str, Any]]) -> None:
    found = [{"expr": issue.expr, "message": issue.message} for issue in validate(expression)]
    assert found == issues
