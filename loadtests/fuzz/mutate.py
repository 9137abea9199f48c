"""A seeded mutator over the layers of an HC1 certificate.

Each input is made by one of five strategies, chosen at random:

* ``claims``: replace, add or delete one value anywhere in the CWT claims (the DCC, iat,
  exp, iss), with values picked to hurt (integers at and beyond the 64-bit edges, floats,
  tags, byte strings, format characters, deep nesting), then **re-sign**;
* ``header``: the same for the protected header (alg, kid, crit, ...), re-signed;
* ``cose``: byte edits (flip, insert, delete, duplicate a slice) of the COSE message,
  recompressed;
* ``zlib``: byte edits of the compressed bytes, base45-encoded again;
* ``text``: character edits of the HC1 text, in and out of the base45 alphabet.

The same seed gives the same mutations (ECDSA signatures are randomised, so re-signed
bytes differ from run to run). Inputs are never longer than a few times the seed, so
each one is bounded by the verifier's own caps (text length, inflated size, CBOR depth).
"""

from __future__ import annotations

import copy
import random
import zlib
from collections.abc import Callable
from typing import Any, Final

import cbor2

from hcert.base45 import ALPHABET, b45decode, b45encode
from hcert.hc1 import PREFIX, decode_hc1, encode_hc1
from loadtests.fuzz.target import FuzzTarget

__all__ = ["STRATEGIES", "Mutator", "interesting_values"]

STRATEGIES: Final = ("claims", "header", "cose", "zlib", "text")
_MAX_EDITS: Final = 4


def _nested(depth: int) -> object:
    value: object = 0
    for _ in range(depth):
        value = [value]
    return value


def interesting_values() -> tuple[object, ...]:
    """Values that broke (or could break) a decoder, a schema or a JSON encoder."""
    return (
        0, 1, -1, 2**31, 2**53, 2**53 + 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1,
        2**64 - 1, -(2**64), 1.5, -0.0, 1e308, float("nan"), float("inf"), float("-inf"),
        True, False, None, "", " ", "\u200b", "\u2060", "\ufeff", "\u00ad", "\u3164",
        "\U000e0041", "\u202e", "\x00", "A" * 81, "é" * 40, "1.3.0", "2021-02-30",
        "9999-12-31T23:59:59Z", b"", b"\x00" * 8, [], {}, [1, 2], {"": None}, {1: 2},
        cbor2.CBORTag(0, "2021-07-08T10:00:00Z"), cbor2.CBORTag(1, 0),
        cbor2.CBORTag(2, b"\x01" * 9),
        cbor2.CBORTag(35, "a+"), cbor2.CBORTag(18, []), cbor2.CBORSimpleValue(99),
        cbor2.undefined, _nested(20), _nested(40),
    )  # fmt: skip


class Mutator:
    """Hostile variants of ``target``'s seed certificate, reproducible from ``seed``."""

    def __init__(self, target: FuzzTarget, seed: int) -> None:
        self.target = target
        self.random = random.Random(seed)  # noqa: S311 - reproducible inputs, not secrets
        self.values = interesting_values()
        self.seed_text = target.seed()
        self.seed_cose = decode_hc1(self.seed_text)
        self.seed_compressed = b45decode(self.seed_text[len(PREFIX) :])
        self._strategies: dict[str, Callable[[], str]] = {
            "claims": self._claims,
            "header": self._header,
            "cose": self._cose,
            "zlib": self._zlib,
            "text": self._text,
        }

    def next(self) -> tuple[str, str]:
        """One input: ``(strategy, HC1 text)``."""
        strategy = self.random.choice(STRATEGIES)
        return strategy, self._strategies[strategy]()

    # -- structured, re-signed ------------------------------------------------------------

    def _value(self) -> object:
        if self.random.random() < 0.15:
            return self.random.randint(-(2**64), 2**64 - 1)
        value = self.random.choice(self.values)
        return copy.deepcopy(value) if isinstance(value, list | dict) else value

    def _containers(self, root: object) -> list[dict[Any, Any] | list[Any]]:
        found: list[dict[Any, Any] | list[Any]] = []
        pending = [root]
        while pending:
            item = pending.pop()
            if isinstance(item, dict):
                found.append(item)
                pending.extend(item.values())
            elif isinstance(item, list):
                found.append(item)
                pending.extend(item)
        return found

    def _edit_tree(self, root: dict[Any, Any]) -> None:
        for _ in range(self.random.randint(1, _MAX_EDITS)):
            container = self.random.choice(self._containers(root))
            action = self.random.random()
            if isinstance(container, dict):
                keys = list(container)
                if keys and action < 0.7:
                    container[self.random.choice(keys)] = self._value()
                elif keys and action < 0.85:
                    del container[self.random.choice(keys)]
                else:
                    key = self.random.choice(["x", "ver", "t", "v", "r", 1, -1, 7, ""])
                    container[key] = self._value()
            elif container and action < 0.8:
                container[self.random.randrange(len(container))] = self._value()
            else:
                container.append(self._value())

    def _claims(self) -> str:
        claims = self.target.claims()
        self._edit_tree(claims)
        return self.target.hc1(claims)

    def _header(self) -> str:
        protected = self.target.protected()
        self._edit_tree(protected)
        return self.target.hc1(self.target.claims(), protected)

    # -- bytes and text ---------------------------------------------------------------------

    def _bytes(self, data: bytes) -> bytes:
        out = bytearray(data)
        for _ in range(self.random.randint(1, _MAX_EDITS)):
            position = self.random.randrange(len(out) + 1)
            action = self.random.random()
            if action < 0.4 and position < len(out):
                out[position] ^= 1 << self.random.randrange(8)
            elif action < 0.6 and position < len(out):
                out[position] = self.random.choice((0x00, 0xFF, 0x7F, 0x80, 0xD8, 0x1B, 0x5F))
            elif action < 0.75:
                out.insert(position, self.random.randrange(256))
            elif action < 0.9 and position < len(out):
                del out[position]
            else:
                end = min(len(out), position + self.random.randint(1, 64))
                out[position:position] = out[position:end]
        return bytes(out)

    def _cose(self) -> str:
        return encode_hc1(self._bytes(self.seed_cose))

    def _zlib(self) -> str:
        data = self.seed_compressed
        if self.random.random() < 0.1:  # a well-formed stream around broken COSE
            data = zlib.compress(self._bytes(self.seed_cose) * self.random.randint(1, 30))
        return PREFIX + b45encode(self._bytes(data))

    def _text(self) -> str:
        text = list(self.seed_text)
        alphabet = ALPHABET + "a\x00é\n:-"
        for _ in range(self.random.randint(1, _MAX_EDITS)):
            position = self.random.randrange(len(text) + 1)
            action = self.random.random()
            if action < 0.5 and position < len(text):
                text[position] = self.random.choice(alphabet)
            elif action < 0.75:
                text.insert(position, self.random.choice(alphabet))
            elif position < len(text):
                del text[position]
        return "".join(text)
