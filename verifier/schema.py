"""The DCC payload's structure and value formats, per the official JSON schema 1.3.x.

Hand-written (no JSON-schema engine at runtime) and checked against ``jsonschema`` with the
official schema in the tests. What it enforces, as ``DCC.schema.json`` 1.3.3 does:

* top level: ``ver`` (``^\\d+.\\d+.\\d+$``), ``nam``, ``dob`` and exactly one of ``v``,
  ``t``, ``r``, that one an array with exactly one entry;
* ``nam``: ``fn``/``gn`` text ≤ 80, ``fnt``/``gnt`` ``^[A-Z<]*$`` ≤ 80, at least one of
  ``fnt``/``gnt``;
* each entry's required fields, JSON types, lengths (``is``, ``ci``, ``tc``, ``nm`` ≤ 80),
  ``dn``/``sd`` integers ≥ 1, ``co`` ``[A-Z]{1,10}``, ``date`` and ``date-time`` formats.

Deliberate differences from a literal reading of the schema (documented choices):

* ``dn``/``sd`` must also be at most 2^53−1, the largest integer every JSON reader holds
  exactly (the schema gives only the minimum 1; CBOR integers reach ±2^64);
* ``dob`` must also name a real month and day (the pattern alone accepts ``2021-13-45``);
* ``co`` must match ``[A-Z]{1,10}`` as a whole (the schema's pattern is unanchored, so it
  would accept any text holding one capital letter);
* ``date-time`` is read leniently (hcert.md §2, :mod:`verifier.dates`); ``date`` strictly;
* patterns are ASCII and anchored at the real end of the text (no ``$``-before-newline).

Value-set membership (``tg``, ``tt``, ``ma``, ``tr``, ``co`` codes) is **not** schema: the
schema's ``valueset-uri`` is informational only. Additional properties are allowed, as in
the official schema. Messages name the field path, never the value (it may be personal).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from verifier.dates import is_date, is_date_of_birth, parse_date_time
from verifier.json_safe import MAX_JSON_INTEGER

__all__ = ["GROUP_TYPES", "SchemaViolation", "dcc_type", "validate_dcc"]

GroupKey = Literal["v", "t", "r"]
GROUP_TYPES: Final[dict[GroupKey, Literal["vaccination", "test", "recovery"]]] = {
    "v": "vaccination",
    "t": "test",
    "r": "recovery",
}
MAX_TEXT: Final = 80
MAX_VIOLATIONS: Final = 20

_VERSION: Final = re.compile(r"\d+.\d+.\d+", re.ASCII)
_STANDARDISED_NAME: Final = re.compile(r"[A-Z<]*", re.ASCII)
_COUNTRY: Final = re.compile(r"[A-Z]{1,10}", re.ASCII)


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """One broken schema rule: the JSON path (``t[0].sc``), a stable code, a message."""

    path: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(payload)'}: {self.message}"


Rule = Callable[[object, str, list[SchemaViolation]], None]


def _add(out: list[SchemaViolation], path: str, code: str, message: str) -> None:
    out.append(SchemaViolation(path, code, message))


def _text(
    *, max_length: int | None = None, pattern: re.Pattern[str] | None = None, fmt: str = ""
) -> Rule:
    def check(value: object, path: str, out: list[SchemaViolation]) -> None:
        if not isinstance(value, str):
            _add(out, path, "schema_wrong_type", "must be a string")
            return
        if max_length is not None and len(value) > max_length:
            _add(out, path, "schema_too_long", f"must be at most {max_length} characters")
        if pattern is not None and not pattern.fullmatch(value):
            _add(out, path, "schema_pattern", f"must match {pattern.pattern}")
        if fmt == "date" and not is_date(value):
            _add(out, path, "schema_date_format", "must be a date YYYY-MM-DD")
        elif fmt == "date-time" and parse_date_time(value) is None:
            _add(out, path, "schema_date_format", "must be a date-time with an offset")
        elif fmt == "dob" and not is_date_of_birth(value):
            _add(out, path, "schema_pattern", "must be YYYY-MM-DD, YYYY-MM, YYYY or empty")

    return check


def _positive_integer(value: object, path: str, out: list[SchemaViolation]) -> None:
    # JSON Schema's "integer" includes 1.0 (a number with a zero fractional part).
    integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not integral:
        _add(out, path, "schema_wrong_type", "must be an integer")
    elif isinstance(value, int | float) and value < 1:
        _add(out, path, "schema_value", "must be at least 1")
    elif isinstance(value, int | float) and value > MAX_JSON_INTEGER:
        _add(out, path, "schema_value", f"must be at most {MAX_JSON_INTEGER}")


_CODE = _text()
_SHORT = _text(max_length=MAX_TEXT)
_COUNTRY_CODE = _text(pattern=_COUNTRY)
_DATE = _text(fmt="date")

_ENTRY_RULES: Final[dict[GroupKey, tuple[tuple[str, Rule, bool], ...]]] = {
    "v": (
        ("tg", _CODE, True),
        ("vp", _CODE, True),
        ("mp", _CODE, True),
        ("ma", _CODE, True),
        ("dn", _positive_integer, True),
        ("sd", _positive_integer, True),
        ("dt", _DATE, True),
        ("co", _COUNTRY_CODE, True),
        ("is", _SHORT, True),
        ("ci", _SHORT, True),
    ),
    "t": (
        ("tg", _CODE, True),
        ("tt", _CODE, True),
        ("nm", _SHORT, False),
        ("ma", _CODE, False),
        ("sc", _text(fmt="date-time"), True),
        ("tr", _CODE, True),
        ("tc", _SHORT, False),
        ("co", _COUNTRY_CODE, True),
        ("is", _SHORT, True),
        ("ci", _SHORT, True),
    ),
    "r": (
        ("tg", _CODE, True),
        ("fr", _DATE, True),
        ("co", _COUNTRY_CODE, True),
        ("is", _SHORT, True),
        ("df", _DATE, True),
        ("du", _DATE, True),
        ("ci", _SHORT, True),
    ),
}

_NAME_RULES: Final[tuple[tuple[str, Rule], ...]] = (
    ("fn", _SHORT),
    ("fnt", _text(max_length=MAX_TEXT, pattern=_STANDARDISED_NAME)),
    ("gn", _SHORT),
    ("gnt", _text(max_length=MAX_TEXT, pattern=_STANDARDISED_NAME)),
)


def _fields(
    value: Mapping[str, Any],
    rules: tuple[tuple[str, Rule, bool], ...],
    path: str,
    out: list[SchemaViolation],
) -> None:
    for name, rule, required in rules:
        if name in value:
            rule(value[name], f"{path}.{name}", out)
        elif required:
            _add(out, f"{path}.{name}", "schema_missing_field", "is required")


def _name(value: object, path: str, out: list[SchemaViolation]) -> None:
    if type(value) is not dict and not isinstance(value, Mapping):
        _add(out, path, "schema_wrong_type", "must be an object")
        return
    for name, rule in _NAME_RULES:
        if name in value:
            rule(value[name], f"{path}.{name}", out)
    if "fnt" not in value and "gnt" not in value:
        _add(out, path, "schema_missing_field", "needs fnt or gnt")


def _group(key: GroupKey, value: object, out: list[SchemaViolation]) -> None:
    if not isinstance(value, list):
        _add(out, key, "schema_wrong_type", "must be an array")
        return
    if len(value) != 1:
        _add(out, key, "schema_entry_count", "must hold exactly one entry")
    for index, entry in enumerate(value[:2]):
        path = f"{key}[{index}]"
        if type(entry) is not dict and not isinstance(entry, Mapping):
            _add(out, path, "schema_wrong_type", "must be an object")
        else:
            _fields(entry, _ENTRY_RULES[key], path, out)


_TOP_RULES: Final[tuple[tuple[str, Rule], ...]] = (
    ("ver", _text(pattern=_VERSION)),
    ("nam", _name),
    ("dob", _text(fmt="dob")),
)


# ``type(x) is not dict and not isinstance(x, Mapping)``: the same test as the isinstance
# alone, but a dict (what the strict decoder builds) skips the slower ABC check.
def dcc_type(dcc: object) -> Literal["vaccination", "test", "recovery"] | None:
    """The DCC's type when exactly one of ``v``/``t``/``r`` is present, else None."""
    if type(dcc) is not dict and not isinstance(dcc, Mapping):
        return None
    present = [key for key in GROUP_TYPES if key in dcc]
    return GROUP_TYPES[present[0]] if len(present) == 1 else None


def validate_dcc(dcc: object) -> list[SchemaViolation]:
    """Every schema violation of ``dcc`` (JSON data), at most 20; empty when it is valid."""
    out: list[SchemaViolation] = []
    if type(dcc) is not dict and not isinstance(dcc, Mapping):
        return [SchemaViolation("", "schema_wrong_type", "must be an object")]
    for key, rule in _TOP_RULES:
        if key in dcc:
            rule(dcc[key], key, out)
        else:
            _add(out, key, "schema_missing_field", "is required")
    groups: list[GroupKey] = [key for key in GROUP_TYPES if key in dcc]
    if len(groups) != 1:
        _add(out, "", "schema_group", "must hold exactly one of v, t, r")
    for key in groups:
        _group(key, dcc[key], out)
    return out[:MAX_VIOLATIONS]
