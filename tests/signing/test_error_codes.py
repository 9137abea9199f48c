"""The error-code vocabulary (signing.error_codes) is complete, live and spelled one way.

The code base is read with ``ast``: every code given as ``code="…"``, ``default_code = "…"``
or as the code argument of the calls that build coded errors (FieldError, the collector's
``add``, the verifier's ``failed``, RuleViolation, SchemaViolation, problem_response…)
must be in the vocabulary, and every code of the vocabulary must be raised somewhere.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

from signing.error_codes import ERROR_CODES, GROUPS

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("signing", "hcert", "keys", "issuer", "verifier", "store", "api", "cli")
# Which positional argument holds the code, per callable name.
CODE_ARGUMENT = {
    "FieldError": 1,
    "cls": 1,  # FieldError.unknown
    "add": 1,
    "_add": 2,
    "failed": 1,
    "_claims_error": 0,
    "problem_response": 1,
    "RuleViolation": 0,
    "SchemaViolation": 1,
}
# Codes built with an f-string, each with the literal values it takes.
GENERATED = {
    "claim_iat_invalid": "hcert/claims.py: f'claim_{name}_invalid' for iat",
    "claim_exp_invalid": "hcert/claims.py: f'claim_{name}_invalid' for exp",
}
HTTP_STATUS_CODES = {"bad_request", "method_not_allowed"}  # api/problems.py _HTTP_CODES


def _source_files() -> list[Path]:
    return [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]


def _called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def raised_codes() -> dict[str, list[str]]:
    """Every code literal the production code raises, with where."""
    found: dict[str, list[str]] = {}
    for path in _source_files():
        where = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            codes: list[str | None] = []
            if isinstance(node, ast.Call):
                codes += [_text(kw.value) for kw in node.keywords if kw.arg == "code"]
                position = CODE_ARGUMENT.get(_called_name(node))
                if position is not None and len(node.args) > position:
                    codes.append(_text(node.args[position]))
            elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == "default_code" for t in targets):
                    codes.append(_text(node.value))
            for code in codes:
                if code is not None:
                    found.setdefault(code, []).append(f"{where}:{node.lineno}")
    return found


def test_every_raised_code_is_in_the_vocabulary() -> None:
    unknown = {code: where for code, where in raised_codes().items() if code not in ERROR_CODES}
    assert not unknown, f"add these codes to signing/error_codes.py (or fix them): {unknown}"


def test_every_code_of_the_vocabulary_is_raised() -> None:
    live = set(raised_codes()) | set(GENERATED) | HTTP_STATUS_CODES
    assert sorted(ERROR_CODES - live) == []


def test_codes_are_snake_case_and_in_one_group_only() -> None:
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", code) for code in ERROR_CODES)
    counts = Counter(code for group in GROUPS.values() for code in group)
    assert [code for code, count in counts.items() if count > 1] == []


def test_one_spelling_per_meaning() -> None:
    """No two codes are the same words in another order (``unknown_field``/``field_unknown``)."""
    by_words: dict[tuple[str, ...], list[str]] = {}
    for code in ERROR_CODES:
        by_words.setdefault(tuple(sorted(code.split("_"))), []).append(code)
    assert [codes for codes in by_words.values() if len(codes) > 1] == []


def test_the_report_documents_only_vocabulary_codes() -> None:
    """The error-code table of verifier/report.py names codes of the vocabulary."""
    doc = (ROOT / "verifier" / "report.py").read_text(encoding="utf-8")
    table = doc[doc.index("Error codes") : doc.index('"""', doc.index("Error codes"))]
    documented = set(re.findall(r"``([a-z][a-z0-9_]+)``", table))
    assert documented
    assert sorted(documented - ERROR_CODES) == []


@pytest.mark.parametrize("spelling", ["field_unknown", "unknown_key", "key_unknown"])
def test_the_unknown_field_code_has_one_spelling(spelling: str) -> None:
    assert spelling not in ERROR_CODES
    assert "unknown_field" in ERROR_CODES
