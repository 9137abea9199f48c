"""Content negotiation: which of the products a route offers the ``Accept`` header prefers.

One reader for every route that can answer in several media types (the single issue: JSON,
PNG, SVG or PDF; the render endpoint: PNG, SVG or PDF). RFC 9110 §12.5.1: the highest
``q`` wins, a range with ``q=0`` refuses its types, and on a tie the more specific range
(``image/png`` over ``image/*`` over ``*/*``), then the route's own order, decides. A
missing or empty header takes the first offer; a header that admits none answers 406.

Clients send the same few ``Accept`` values again and again, so the choice is remembered
per (header, offers) for headers of at most :data:`_CACHED_CHARS` characters, in a bounded
cache (parsing cost ~4 µs of a single issue's ~270).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Final, TypeVar

from api.problems import NotAcceptable

__all__ = ["negotiate"]

_P = TypeVar("_P")
_CACHED_CHARS: Final = 200


def negotiate(accept: str | None, offered: Sequence[tuple[str, _P]]) -> _P:
    """The product of ``offered`` (``(media type, product)`` pairs, in the route's order of
    preference) that ``accept`` prefers; raise :class:`NotAcceptable` when it admits none."""
    if not accept or not accept.strip():
        return offered[0][1]
    if len(accept) <= _CACHED_CHARS and isinstance(offered, tuple):
        chosen: _P = _remembered(accept, offered)
        return chosen
    return _choose(accept, offered)


@functools.lru_cache(maxsize=128)
def _remembered(accept: str, offered: tuple[tuple[str, Any], ...]) -> Any:
    return _choose(accept, offered)


def _choose(accept: str, offered: Sequence[tuple[str, _P]]) -> _P:
    ranges = [_parse_range(item) for item in accept.split(",")]
    best: tuple[float, int, int] | None = None
    chosen: _P | None = None
    for preference, (media, product) in enumerate(offered):
        kind, _, subtype = media.partition("/")
        # The most specific range that matches this type decides its quality (RFC 9110).
        matching = [(_matches(r, kind, subtype), q) for r, q in ranges]
        specificity, quality = max(matching, key=lambda item: item[0])
        if specificity < 0 or quality <= 0:
            continue
        candidate = (quality, specificity, -preference)
        if best is None or candidate > best:
            best, chosen = candidate, product
    if best is None:
        available = [media for media, _ in offered]
        raise NotAcceptable(
            f"this endpoint answers {', '.join(available[:-1])} or {available[-1]}",
            available=available,
        )
    return chosen  # type: ignore[return-value]  # set together with best


def _parse_range(item: str) -> tuple[str, float]:
    range_, *params = (part.strip() for part in item.split(";"))
    return range_.lower(), _quality(params)


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(1.0, max(0.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def _matches(range_: str, kind: str, subtype: str) -> int:
    """2 exact, 1 ``type/*``, 0 ``*/*``, -1 no match."""
    if range_ == f"{kind}/{subtype}":
        return 2
    if range_ == f"{kind}/*":
        return 1
    return 0 if range_ == "*/*" else -1
