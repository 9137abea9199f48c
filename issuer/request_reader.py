"""Reading one JSON object of an issue request while collecting every error found.

:class:`SectionReader` checks JSON types, required and unknown fields, runs the value rules
of :mod:`issuer.request_rules`, and appends each :class:`FieldError` (with its dotted path)
to a list shared by the whole request, so that one answer names every problem.

:func:`exact_str` and :func:`quick_text` read a field for the fast path of
:mod:`issuer.request`: they raise :class:`Unclear` instead of recording anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Concatenate, ParamSpec, TypeVar

from issuer.errors import FieldError
from issuer.request_rules import clean_text

__all__ = ["SectionReader", "Unclear", "blank_to_none", "exact_str", "quick_text"]

_T = TypeVar("_T")
_P = ParamSpec("_P")
_MAX_KEY_ECHO = 64

Rule = Callable[Concatenate[str, str, _P], "_T | FieldError | None"]


class SectionReader:
    """One JSON object (``prefix`` is its dotted path, "" for the body) of a request."""

    def __init__(
        self, data: Mapping[object, object], prefix: str, errors: list[FieldError]
    ) -> None:
        self.data = data
        self.prefix = prefix
        self.errors = errors

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
        for key in self.data:
            if key not in known:
                self.add(_echo_key(key), "unknown_field", "is not a field of this object")

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
        return SectionReader(value, self.path(key), self.errors)


def blank_to_none(value: str | None) -> str | None:
    """``value`` unless it is None, empty or only whitespace."""
    return value if value is not None and value.strip() else None


def _echo_key(key: object) -> str:
    """An unknown key as it may appear in a field path: short printable ASCII, else "?"."""
    text = key if isinstance(key, str) else ""
    ok = 0 < len(text) <= _MAX_KEY_ECHO and text.isascii() and text.isprintable()
    return text if ok else "?"


class Unclear(Exception):
    """The fast path cannot vouch for a request: the full collector must judge it.

    Raised for anything but the plain valid shape, so that only the collector ever decides
    (and words) an error.
    """


def exact_str(value: object) -> str:
    """``value`` when it is exactly a ``str`` (subclasses go to the collector too)."""
    if type(value) is not str:
        raise Unclear
    return value


def quick_text(value: object, max_length: int) -> str | None:
    """Optional free text cleaned by :func:`clean_text`; None when absent or blank."""
    if value is None:
        return None
    text = clean_text(exact_str(value), "", max_length=max_length)
    if isinstance(text, FieldError):
        raise Unclear
    return text
