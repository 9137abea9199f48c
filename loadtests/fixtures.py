"""What every benchmark needs: throw-away keys, an issuing runtime, realistic requests.

Keys are generated into a temporary directory (never ``var/keys``); requests are varied
(Latin names with and without diacritics, a few Greek and Cyrillic ones, rapid antigen and
NAAT) and their sample times are recent, so each one passes validation when it is used.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Generic, TypeVar

from api.issuing_runtime import IssuingRuntime, build_issuing_runtime
from api.settings import Settings
from keys.generate import generate_keys

__all__ = [
    "KEYS_SUBDIR",
    "Cycle",
    "issuing_runtime",
    "make_keys",
    "sample_request",
    "sample_requests",
]

KEYS_SUBDIR: Final = "keys"
T = TypeVar("T")

# (family name, given name): mostly Latin with diacritics, as a Luxembourg pharmacy sees them.
_NAMES: Final[tuple[tuple[str, str], ...]] = (
    ("Müller-Schmidt", "Anna Maria"),
    ("Schmit", "Jean-Luc"),
    ("Weber", "Claude"),
    ("da Silva Gonçalves", "João Pedro"),
    ("Hoffmann", "Léa"),
    ("Wagner", "Tom"),
    ("Ferreira", "Inês"),
    ("Kieffer", "Marie-Thérèse"),
    ("Øster-Ågren", "Søren"),
    ("Nowak", "Zofia"),
    ("Papadopoulos", "Nikos"),
    ("Παπαδόπουλος", "Νίκος"),
    ("Шевченко", "Олена"),
    ("Rossi", "Giulia"),
    ("Dupont", "Émile"),
    ("Thill", "Nathalie"),
)
_FACILITIES: Final = (
    "Pharmacie du Centre, Luxembourg",
    "Pharmacie de la Gare, Esch-sur-Alzette",
    "Laboratoire Ketterthill",
    "Centre de test Kirchberg",
)
_DEVICES: Final = ("1232", "1304", "1268", "1833", "2010")


def make_keys(directory: Path) -> Path:
    """Generate a test CSCA and DSC (ES256) under ``directory``; return the keys directory."""
    keys_dir = directory / KEYS_SUBDIR
    generate_keys(keys_dir)
    return keys_dir


def issuing_runtime(keys_dir: Path, **overrides: Any) -> IssuingRuntime:
    """The issuing runtime the service would build from these keys (default settings)."""
    return build_issuing_runtime(Settings(keys_dir=keys_dir, **overrides))


def sample_request(index: int, *, now: datetime | None = None) -> dict[str, Any]:
    """The ``index``-th realistic issue request (a NAAT every fifth, else rapid antigen)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    family, given = _NAMES[index % len(_NAMES)]
    sampled = (moment - timedelta(minutes=20 + index % 600)).replace(microsecond=0)
    test: dict[str, Any] = {
        "type": "naat" if index % 5 == 4 else "rapid-antigen",
        "sample_collected_at": sampled.isoformat(),
        "result": "not-detected",
        "facility": _FACILITIES[index % len(_FACILITIES)],
    }
    if test["type"] == "rapid-antigen":
        test["device"] = _DEVICES[index % len(_DEVICES)]
    year = 1940 + index % 70
    return {
        "person": {
            "family_name": family,
            "given_name": given,
            "date_of_birth": f"{year:04d}-{1 + index % 12:02d}-{1 + index % 28:02d}",
        },
        "test": test,
    }


def sample_requests(count: int, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """``count`` different realistic issue requests."""
    return [sample_request(index, now=now) for index in range(count)]


class Cycle(Generic[T]):
    """Hands out a fixed list of items round-robin (cheap: one ``next`` per call)."""

    def __init__(self, items: Sequence[T]) -> None:
        if not items:
            raise ValueError("a cycle needs at least one item")
        self._iterator: Iterator[T] = itertools.cycle(items)

    def next(self) -> T:
        """The next item of the cycle."""
        return next(self._iterator)
