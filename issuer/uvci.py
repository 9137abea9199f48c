"""UVCI (``ci``): generation, syntax check and the Luhn mod 38 check character.

Form issued here (hcert.md §4)::

    URN:UVCI:01:<CC>:<opaque>#<check>             scheme 1 (default)
    URN:UVCI:01:<CC>:<issuer>/<opaque>#<check>    scheme 2 (``issuer_prefix``)

The opaque part is drawn from the OS CSPRNG (``os.urandom``, what :mod:`secrets` uses) over
``A-Z0-9`` (26 characters ≈ 134 bits): unguessable, and unique without any counter or
shared state between processes. The check character is Luhn mod N with N = 38 over
``A-Z 0-9 / :`` computed on the whole string before ``#``, including ``URN:UVCI:``; it
detects every single-character substitution. An issuer builds one :class:`UvciGenerator`
(settings checked once); :func:`generate_uvci` is the one-off form.

A UVCI is personal data: no error raised here carries it (or any part of it).
"""

from __future__ import annotations

import os
import re
import string
from typing import Final

from signing.errors import ConfigError, DccError

__all__ = [
    "CHECK_ALPHABET",
    "MAX_UVCI_LENGTH",
    "MIN_OPAQUE_LENGTH",
    "UvciGenerator",
    "generate_uvci",
    "luhn_mod38_check",
    "uvci_key",
    "validate_uvci",
]

CHECK_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:"
"""Code points of the check character: A=0 … Z=25, 0=26 … 9=35, ``/``=36, ``:``=37."""

MAX_UVCI_LENGTH: Final = 80
"""Schema limit of ``ci``."""

MIN_OPAQUE_LENGTH: Final = 16
"""Shortest opaque part :func:`generate_uvci` accepts (≈ 83 bits: still unguessable)."""

_MODULUS: Final = len(CHECK_ALPHABET)
_CODE_POINT: Final = {char: index for index, char in enumerate(CHECK_ALPHABET)}
_ADDEND_2: Final = {
    char: 2 * code_point // _MODULUS + 2 * code_point % _MODULUS
    for char, code_point in _CODE_POINT.items()
}
"""Luhn addend of each character at factor 2 (at factor 1 the addend is the code point)."""
_CODE_POINT_BYTES: Final = bytes(_CODE_POINT.get(chr(byte), 0) for byte in range(256))
_ADDEND_2_BYTES: Final = bytes(_ADDEND_2.get(chr(byte), 0) for byte in range(256))
"""The two tables as ``bytes.translate`` tables (only ``A-Z0-9`` is ever looked up)."""
_OPAQUE_ALPHABET: Final = string.ascii_uppercase + string.digits
_KEPT_BYTES: Final = 256 - 256 % len(_OPAQUE_ALPHABET)
"""Random bytes below 252 = 7 × 36 map uniformly onto the alphabet by ``b % 36``."""
_BYTE_TO_CHAR: Final = bytes(
    ord(_OPAQUE_ALPHABET[value % len(_OPAQUE_ALPHABET)]) for value in range(256)
)
_REJECTED_BYTES: Final = bytes(range(_KEPT_BYTES, 256))
_PREFIX: Final = "URN:UVCI:01:"
_ASCII_UPPER: Final = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)

_COUNTRY_RE: Final = re.compile(r"[A-Z]{2}")
_COMPONENT_RE: Final = re.compile(r"[A-Z0-9]+")
_UVCI_RE: Final = re.compile(
    r"(?:URN:UVCI:)?01:[A-Z]{2}:[A-Z0-9]+(?:/[A-Z0-9]+){0,2}(?:#[A-Z0-9/:])?"
)


def luhn_mod38_check(text: str) -> str:
    """The Luhn mod 38 check character of ``text`` (case-insensitive, without ``#check``).

    Walk from the right with the factor starting at 2 and alternating 2/1, add
    ``(f·cp) div 38 + (f·cp) mod 38``; the check is ``(38 − sum mod 38) mod 38``.
    Raises :class:`DccError` (``uvci_invalid``) for an empty text or a character outside
    ``A-Z 0-9 / :``.
    """
    if not text:
        raise DccError("UVCI is empty", code="uvci_invalid", reason="empty")
    if not text.isascii():  # str.upper() would turn e.g. "ß" into "SS": refuse first
        raise _bad_character()
    upper = text.translate(_ASCII_UPPER)
    try:  # from the right: factor 2 on the last character, then 1, 2, 1 …
        total = sum(map(_ADDEND_2.__getitem__, upper[::-2]))
        total += sum(map(_CODE_POINT.__getitem__, upper[-2::-2]))
    except KeyError:
        raise _bad_character() from None
    return CHECK_ALPHABET[(_MODULUS - total % _MODULUS) % _MODULUS]


class UvciGenerator:
    """Makes UVCIs of one configuration, checked once at construction.

    ``country`` must match ``^[A-Z]{2}$``; ``issuer_prefix`` (scheme 2) ``^[A-Z0-9]+$``;
    ``opaque_length`` must be at least :data:`MIN_OPAQUE_LENGTH` and the whole UVCI at most
    :data:`MAX_UVCI_LENGTH` characters. A setting that breaks this raises
    :class:`ConfigError` (``uvci_config_invalid``). Each call then costs ~2 µs: the Luhn sum
    of the fixed part before the opaque one is computed here once (the opaque part has a
    fixed length, so every character keeps its factor), and the opaque part's sum comes from
    two ``bytes.translate`` through per-factor addend tables.
    """

    __slots__ = ("_body_prefix", "_length", "_prefix_sum")

    def __init__(
        self, country: str, *, opaque_length: int = 26, issuer_prefix: str | None = None
    ) -> None:
        if _COUNTRY_RE.fullmatch(country) is None:
            raise ConfigError(
                "UVCI country must be two upper-case letters",
                code="uvci_config_invalid",
                setting="country",
            )
        if issuer_prefix is not None and _COMPONENT_RE.fullmatch(issuer_prefix) is None:
            raise ConfigError(
                "UVCI issuer prefix must be upper-case letters and digits",
                code="uvci_config_invalid",
                setting="issuer_prefix",
            )
        if opaque_length < MIN_OPAQUE_LENGTH:
            raise ConfigError(
                f"UVCI opaque part must be at least {MIN_OPAQUE_LENGTH} characters",
                code="uvci_config_invalid",
                setting="opaque_length",
            )
        body_prefix = f"{_PREFIX}{country}:"
        if issuer_prefix is not None:
            body_prefix += f"{issuer_prefix}/"
        total_length = len(body_prefix) + opaque_length + 2
        if total_length > MAX_UVCI_LENGTH:
            raise ConfigError(
                f"UVCI would be {total_length} characters, more than {MAX_UVCI_LENGTH}",
                code="uvci_config_invalid",
                setting="opaque_length",
            )
        self._body_prefix = body_prefix
        self._length = opaque_length
        # Factors run 2, 1, 2 … from the right end of the body, i.e. of the opaque part: the
        # prefix's last character has factor 2 when the opaque length is even.
        with_factor_2 = body_prefix[::-2] if opaque_length % 2 == 0 else body_prefix[-2::-2]
        with_factor_1 = body_prefix[-2::-2] if opaque_length % 2 == 0 else body_prefix[::-2]
        self._prefix_sum = sum(map(_ADDEND_2.__getitem__, with_factor_2)) + sum(
            map(_CODE_POINT.__getitem__, with_factor_1)
        )

    def __call__(self) -> str:
        """A new ``URN:UVCI:01:<country>:[<issuer_prefix>/]<opaque>#<check>``."""
        opaque = _random_opaque_bytes(self._length)
        total = (
            self._prefix_sum
            + sum(opaque[::-2].translate(_ADDEND_2_BYTES))
            + sum(opaque[-2::-2].translate(_CODE_POINT_BYTES))
        )
        check = CHECK_ALPHABET[-total % _MODULUS]
        return f"{self._body_prefix}{opaque.decode('ascii')}#{check}"


def generate_uvci(
    country: str, *, opaque_length: int = 26, issuer_prefix: str | None = None
) -> str:
    """A new ``URN:UVCI:01:<country>:[<issuer_prefix>/]<opaque>#<check>``.

    The settings are checked as by :class:`UvciGenerator` (``ConfigError``,
    ``uvci_config_invalid``, before any randomness is drawn); an issuer making many UVCIs
    builds one generator instead.
    """
    return UvciGenerator(country, opaque_length=opaque_length, issuer_prefix=issuer_prefix)()


def validate_uvci(uvci: str) -> None:
    """Check the syntax of ``uvci`` and, when one follows ``#``, its check character.

    Accepts the registered form ``[URN:UVCI:]01:<CC>:<C_NSS>[#<check>]`` case-insensitively,
    C_NSS being one to three ``/``-separated ``A-Z0-9`` components, at most 80 characters.
    The check character is verified over the string exactly as given before ``#`` (with its
    ``URN:UVCI:`` prefix when present). National deviations (``URN:UCI:``, ``01/LU/…``) do
    not pass. Raises :class:`DccError` (``uvci_invalid``, ``reason`` in the context).
    """
    if not uvci.isascii():
        raise _bad_character()
    if len(uvci) > MAX_UVCI_LENGTH:
        raise DccError(
            f"UVCI is longer than {MAX_UVCI_LENGTH} characters",
            code="uvci_invalid",
            reason="length",
        )
    upper = uvci.translate(_ASCII_UPPER)
    if _UVCI_RE.fullmatch(upper) is None:
        raise DccError("UVCI syntax is invalid", code="uvci_invalid", reason="syntax")
    body, hash_sign, check = upper.partition("#")
    if hash_sign and luhn_mod38_check(body) != check:
        raise DccError(
            "UVCI check character does not match", code="uvci_invalid", reason="check_character"
        )


def uvci_key(uvci: str) -> str:
    """The identity of ``uvci`` for equality: ASCII upper-case, without ``#check``.

    It does not validate, so foreign UVCIs in national formats get a key too.
    """
    return uvci.translate(_ASCII_UPPER).partition("#")[0]


def _random_opaque_bytes(length: int) -> bytes:
    """``length`` ASCII characters uniformly drawn from ``A-Z0-9`` with the OS CSPRNG.

    Rejection sampling: bytes 252-255 are dropped and the rest map to ``b % 36``, so every
    character is equally likely; a few spare bytes are drawn, more while too few remain.
    ``os.urandom`` is what ``secrets.token_bytes`` calls, without two Python frames.
    """
    chars = os.urandom(length + 4).translate(_BYTE_TO_CHAR, _REJECTED_BYTES)
    while len(chars) < length:
        chars += os.urandom(length - len(chars) + 4).translate(_BYTE_TO_CHAR, _REJECTED_BYTES)
    return chars[:length]


def _random_opaque(length: int) -> str:
    """:func:`_random_opaque_bytes` as text."""
    return _random_opaque_bytes(length).decode("ascii")


def _bad_character() -> DccError:
    return DccError(
        "UVCI contains a character outside A-Z 0-9 / :", code="uvci_invalid", reason="character"
    )
