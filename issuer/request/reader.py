"""Reading one JSON object of an issue request while collecting every error found.

:class:`SectionReader` checks JSON types, required and unknown fields, runs the value rules
of :mod:`issuer.request.rules`, and appends each :class:`FieldError` (with its dotted path)
to a list shared by the whole request, so that one answer names every problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Concatenate, ParamSpec, TypeVar

from signing.errors import MAX_FIELD_ERRORS, FieldError

__all__ = ["SectionReader", "blank_to_none"]

_T = TypeVar("_T")
_P = ParamSpec("_P")

Rule = Callable[Concatenate[str, str, _P], "_T | FieldError | None"]


class SectionReader:
    """One JSON object (``prefix`` is its dotted path, "" for the body) of a request."""

    def __init__(
        self,
        data: Mapping[object, object],
        prefix: str,
        errors: list[FieldError],
        omitted: list[int] | None = None,
    ) -> None:
        self.data = data
        self.prefix = prefix
        self.errors = errors
        # Unknown fields beyond MAX_FIELD_ERRORS are counted, not built: [count], shared by
        # every section of the request like ``errors``.
        self.omitted = [0] if omitted is None else omitted

    def path(self, key: str) -> str:
        """The dotted path of ``key`` inside this object ("" means the object itself)."""
        return f"{self.prefix}.{key}" if self.prefix and key else self.prefix or key

    def add(self, key: str, code: str, message: str) -> None:
        """Record a broken rule on ``key``."""
        self.errors.append(FieldError(self.path(key), code, message))

    def keep(self, outcome: _T | FieldError | None) -> _T | None:
        """The value of a rule's outcome, or None after recording its error."""
        if isinstance(outcome, FieldError):
            self.errors.append(outcome)
            return None
        return outcome

    def refuse_unknown(self, allowed: Iterable[str]) -> None:
        """An ``unknown_field`` error for every key not in ``allowed``."""
        known = allowed if isinstance(allowed, frozenset | set) else set(allowed)
        room = MAX_FIELD_ERRORS - len(self.errors)
        for key in self.data:
            if key not in known:
                if room > 0:
                    self.errors.append(FieldError.unknown(key, self.prefix))
                    room -= 1
                else:
                    self.omitted[0] += 1

    def present(self, key: str) -> bool:
        """True when ``key`` holds anything but null or a blank string (wrong types count)."""
        value = self.data.get(key)
        return value is not None and not (isinstance(value, str) and not value.strip())

    def string(self, key: str, *, required: bool = False) -> str | None:
        """The string at ``key``; None when absent (``required`` error if required) or
        not a string (``type`` error)."""
        value = self.data.get(key)
        if value is None:
            if required:
                self.add(key, "required", "is required")
            return None
        if not isinstance(value, str):
            self.add(key, "type", "must be a string")
            return None
        return value

    def check(
        self,
        key: str,
        required: bool,
        rule: Rule[_P, _T],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> _T | None:
        """Read the string at ``key`` and apply ``rule(value, path, ...)`` to it; None when
        absent, of the wrong type, or refused by the rule (errors recorded)."""
        raw = self.string(key, required=required)
        return None if raw is None else self.keep(rule(raw, self.path(key), *args, **kwargs))

    def section(self, key: str) -> SectionReader | None:
        """The JSON object at ``key``; None (``required`` or ``type`` error) otherwise."""
        value = self.data.get(key)
        if value is None:
            self.add(key, "required", "is required")
            return None
        if not isinstance(value, Mapping):
            self.add(key, "type", "must be a JSON object")
            return None
        return SectionReader(value, self.path(key), self.errors, self.omitted)


def blank_to_none(value: str | None) -> str | None:
    """``value`` unless it is None, empty or only whitespace."""
    return value if value is not None and value.strip() else None
