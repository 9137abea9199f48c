"""The report boundary: every value a report writes is one any JSON encoder can write.

The DCC comes from signed but untrusted CBOR. The strict decoder and the claims reader
already refuse tags, byte strings, non-text keys, non-finite floats and deep nesting; what
CBOR still allows and JSON readers do not is an integer outside the range they hold
exactly (orjson refuses below -2^63, JavaScript loses digits beyond 2^53). Such an
integer is written as its decimal text, so no digit is lost and nothing can make the
encoder fail. Anything else that is not JSON data (a bug upstream) becomes its type name;
text that is not valid Unicode (lone surrogates) has the offending code points replaced.
"""

from __future__ import annotations

import math
from typing import Any, Final

__all__ = ["MAX_JSON_DEPTH", "MAX_JSON_INTEGER", "json_safe"]

MAX_JSON_INTEGER: Final = 2**53 - 1
"""The largest integer every JSON reader holds exactly (RFC 7493 §2.2, I-JSON)."""

MAX_JSON_DEPTH: Final = 64
"""Deeper containers are cut (the CBOR decoder already stops at 32 levels)."""


def _text(value: str) -> str:
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def json_safe(value: object, depth: int = 0) -> Any:
    """``value`` with every part JSON can hold exactly kept, and the rest made text."""
    kind = type(value)
    if kind is bool or value is None:
        return value
    if kind is str:
        return _text(value)  # type: ignore[arg-type]
    if kind is int:
        assert isinstance(value, int)
        return value if -MAX_JSON_INTEGER <= value <= MAX_JSON_INTEGER else str(value)
    if kind is float:
        assert isinstance(value, float)
        return value if math.isfinite(value) else str(value)
    if depth >= MAX_JSON_DEPTH:
        return f"(nested deeper than {MAX_JSON_DEPTH})"
    if isinstance(value, dict):
        return {_text(str(key)): json_safe(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item, depth + 1) for item in value]
    return f"({kind.__name__})"
