"""Bounding the field errors one batch answers (amplification, issue 19).

Each item's problem already holds at most ``signing.errors.MAX_FIELD_ERRORS`` field
errors (the rest counted in ``errors_omitted``). A batch of 1,000 such items could still
answer 20,000 errors, so the whole answer lists at most :data:`MAX_BATCH_FIELD_ERRORS`;
the items after the budget is spent keep their code and detail, with ``errors_omitted``
saying how many field errors were left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

__all__ = ["MAX_BATCH_FIELD_ERRORS", "cap_batch_errors"]

MAX_BATCH_FIELD_ERRORS: Final = 1000


def cap_batch_errors(
    results: Iterable[dict[str, Any]], limit: int = MAX_BATCH_FIELD_ERRORS
) -> None:
    """Cut the ``errors`` of the batch ``results``' problems to ``limit`` in all, in place."""
    budget = limit
    for result in results:
        problem = result.get("error")
        if not isinstance(problem, dict) or "errors" not in problem:
            continue
        errors: list[Any] = problem["errors"]
        if len(errors) > budget:
            problem["errors_omitted"] = problem.get("errors_omitted", 0) + len(errors) - budget
            if budget:
                problem["errors"] = errors[:budget]
            else:
                del problem["errors"]
        budget -= len(problem.get("errors", ()))
