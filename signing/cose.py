"""COSE_Sign1 (RFC 8152 / 9052) as the EU DCC uses it, built with cbor2 + cryptography.

Build: protected header ``{1: alg, 4: kid}``, empty unprotected map, tag 18, signature over
``Sig_structure = ["Signature1", protected, b"", payload]``.

Parse: strict and defensive (hardening.md §4): tag 18, or tag 61 around tag 18, or an
untagged array (reported through :attr:`Sign1.tags` so callers can be strict); exactly four
elements of the right types; header maps with integer or text labels only; the protected
bytes are kept exactly as received, because the signature covers them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

import cbor2

from signing.algorithms import ALG_NAMES, PublicKey, verify_raw
from signing.cbor import dumps, loads_strict
from signing.errors import DecodeError, SignatureError

__all__ = [
    "HEADER_ALG",
    "HEADER_CRIT",
    "HEADER_KID",
    "TAG_COSE_SIGN1",
    "TAG_CWT",
    "Sign1",
    "SignFunction",
    "encode_sign1",
    "encode_sign1_signed",
    "parse_sign1",
    "sig_structure",
    "verify_sign1",
]

TAG_COSE_SIGN1: Final = 18
TAG_CWT: Final = 61
HEADER_ALG: Final = 1
HEADER_CRIT: Final = 2
HEADER_KID: Final = 4
MAX_HEADER_ENTRIES: Final = 16

HeaderMap = Mapping[int | str, object]


class SignFunction(Protocol):
    """Turns Sig_structure bytes into a raw COSE signature."""

    def __call__(self, data: bytes, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Sign1:
    """A decoded COSE_Sign1 message; nothing in it is trusted before :func:`verify_sign1`."""

    protected_bytes: bytes
    protected: HeaderMap
    unprotected: HeaderMap
    payload: bytes
    signature: bytes
    tags: tuple[int, ...]

    @property
    def alg(self) -> object:
        """The ``alg`` header: protected bucket, else unprotected (some issuers put it there)."""
        if HEADER_ALG in self.protected:
            return self.protected[HEADER_ALG]
        return self.unprotected.get(HEADER_ALG)

    @property
    def kid(self) -> object:
        """The ``kid`` header: the protected one wins when both buckets hold one (hcert §3)."""
        if HEADER_KID in self.protected:
            return self.protected[HEADER_KID]
        return self.unprotected.get(HEADER_KID)

    @property
    def kid_location(self) -> str | None:
        if HEADER_KID in self.protected:
            return "protected"
        return "unprotected" if HEADER_KID in self.unprotected else None


# Hand-built framing (the same bytes cbor2 writes, without its per-call overhead): arrays
# of four, the text "Signature1", an empty byte string, an empty map, tag 18.
_ARRAY_OF_4: Final = b"\x84"
_SIGNATURE1_CONTEXT: Final = b"\x6aSignature1"
_EMPTY_BSTR: Final = b"\x40"
_EMPTY_MAP: Final = b"\xa0"
_TAG_18: Final = b"\xd2"


def _bstr_head(length: int) -> bytes:
    """The CBOR head of a byte string of ``length`` bytes (major type 2, shortest form)."""
    if length < 24:
        return bytes((0x40 + length,))
    if length < 0x100:
        return bytes((0x58, length))
    if length < 0x10000:
        return b"\x59" + length.to_bytes(2, "big")
    if length < 0x100000000:
        return b"\x5a" + length.to_bytes(4, "big")
    return b"\x5b" + length.to_bytes(8, "big")


def _protected_bytes(alg: int, kid: bytes) -> bytes:
    return dumps({HEADER_ALG: alg, HEADER_KID: kid})


# The protected header is the same for every message of a signer: encode it once per (alg,
# kid). ``typed`` keeps ``True`` and ``1`` apart (they encode differently).
_cached_protected_bytes: Final = functools.lru_cache(maxsize=64, typed=True)(_protected_bytes)


def sig_structure(protected_bytes: bytes, payload: bytes) -> bytes:
    """The bytes a COSE_Sign1 signature covers (external_aad is empty for the DCC)."""
    if type(protected_bytes) is not bytes or type(payload) is not bytes:
        return dumps(["Signature1", protected_bytes, b"", payload])
    return b"".join(
        (
            _ARRAY_OF_4,
            _SIGNATURE1_CONTEXT,
            _bstr_head(len(protected_bytes)),
            protected_bytes,
            _EMPTY_BSTR,
            _bstr_head(len(payload)),
            payload,
        )
    )


def encode_sign1(payload: bytes, *, alg: int, kid: bytes, sign: SignFunction) -> bytes:
    """Build a tagged COSE_Sign1 message with ``alg`` and ``kid`` in the protected header."""
    return encode_sign1_signed(payload, alg=alg, kid=kid, sign=sign)[0]


def encode_sign1_signed(
    payload: bytes, *, alg: int, kid: bytes, sign: SignFunction
) -> tuple[bytes, bytes]:
    """:func:`encode_sign1`, also returning the signature (the issuer keeps its hash)."""
    if type(alg) is int and type(kid) is bytes and type(payload) is bytes:
        to_sign_head, message_head = _cached_heads(alg, kid)
        payload_head = _bstr_head(len(payload))
        signature = sign(b"".join((to_sign_head, payload_head, payload)))
        if type(signature) is bytes:
            return b"".join(
                (message_head, payload_head, payload, _bstr_head(len(signature)), signature)
            ), signature
        protected = _cached_protected_bytes(alg, kid)
    else:
        protected = _protected_bytes(alg, kid)
        signature = sign(sig_structure(protected, payload))
    message = cbor2.dumps(cbor2.CBORTag(TAG_COSE_SIGN1, [protected, {}, payload, signature]))
    return message, signature


def _heads(alg: int, kid: bytes) -> tuple[bytes, bytes]:
    """What precedes the payload's head in the Sig_structure and in the COSE_Sign1 message."""
    protected = _cached_protected_bytes(alg, kid)
    protected_bstr = _bstr_head(len(protected)) + protected
    return (
        _ARRAY_OF_4 + _SIGNATURE1_CONTEXT + protected_bstr + _EMPTY_BSTR,
        _TAG_18 + _ARRAY_OF_4 + protected_bstr + _EMPTY_MAP,
    )


# Both heads are the same for every message of a signer (see _cached_protected_bytes).
_cached_heads: Final = functools.lru_cache(maxsize=64, typed=True)(_heads)


# ``type(x) is not dict and not isinstance(x, Mapping)``: the same test as the isinstance
# alone, but a dict (what the strict decoder builds) skips the slower ABC check.
def _header_map(value: object, bucket: str) -> HeaderMap:
    if type(value) is not dict and not isinstance(value, Mapping):
        raise DecodeError("cose", f"the {bucket} header is not a map", code="cose_header_invalid")
    if len(value) > MAX_HEADER_ENTRIES:
        raise DecodeError("cose", f"the {bucket} header is too large", code="cose_header_invalid")
    for label in value:
        if not isinstance(label, int | str) or isinstance(label, bool):
            raise DecodeError(
                "cose",
                f"the {bucket} header has a label of the wrong type",
                code="cose_header_invalid",
            )
    return value


def _decode_protected(raw: bytes) -> HeaderMap:
    if raw == b"":
        return {}
    scalars = _cached_scalar_protected(raw) if len(raw) <= _MAX_CACHED_PROTECTED else None
    if scalars is not None:
        return dict(scalars)  # a fresh map per message, as below
    decoded = loads_strict(raw, max_depth=4, stage="cose")
    return _header_map(decoded, "protected")


_SCALAR_TYPES: Final = (int, str, bytes)
_MAX_CACHED_PROTECTED: Final = 64  # bytes; a DCC's is 13 (alg + kid)


@functools.lru_cache(maxsize=64)
def _cached_scalar_protected(raw: bytes) -> tuple[tuple[int | str, object], ...] | None:
    """The entries of a valid protected header whose values are all ints, texts or bytes
    (immutable, so they can be shared): every message of a signer carries the same bytes.
    None for any other header; a failure raises and is not cached.
    """
    header = _header_map(loads_strict(raw, max_depth=4, stage="cose"), "protected")
    if type(header) is not dict or any(type(v) not in _SCALAR_TYPES for v in header.values()):
        return None
    return tuple(header.items())


def _unwrap_tags(item: object) -> tuple[object, tuple[int, ...]]:
    tags: list[int] = []
    while isinstance(item, cbor2.CBORTag):
        tags.append(item.tag)
        item = item.value
    if tags not in ([], [TAG_COSE_SIGN1], [TAG_CWT, TAG_COSE_SIGN1]):
        raise DecodeError(
            "cose",
            f"unsupported COSE/CWT tags {tags}: expected 18, or 61 around 18",
            code="cose_tag_unsupported",
        )
    return item, tuple(tags)


def parse_sign1(data: bytes) -> Sign1:
    """Decode a COSE_Sign1 message; raise ``DecodeError("cose")`` for any structural fault."""
    item, tags = _unwrap_tags(loads_strict(data, stage="cose"))
    if not isinstance(item, list | tuple) or len(item) != 4:
        raise DecodeError(
            "cose", "COSE_Sign1 must be an array of four elements", code="cose_structure"
        )
    protected_raw, unprotected, payload, signature = item
    if not isinstance(protected_raw, bytes):
        raise DecodeError(
            "cose", "the protected header is not a byte string", code="cose_structure"
        )
    if not isinstance(payload, bytes):
        raise DecodeError(
            "cose", "the payload is missing or not a byte string", code="cose_payload_missing"
        )
    if not isinstance(signature, bytes):
        raise DecodeError("cose", "the signature is not a byte string", code="cose_structure")
    protected = _decode_protected(protected_raw)
    unprotected_map = _header_map(unprotected, "unprotected")
    if HEADER_CRIT in protected or HEADER_CRIT in unprotected_map:
        raise DecodeError("cose", "critical headers are not supported", code="cose_crit")
    if HEADER_ALG in protected and HEADER_ALG in unprotected_map:
        raise DecodeError("cose", "alg appears in both header buckets", code="cose_header_conflict")
    return Sign1(
        protected_bytes=protected_raw,
        protected=protected,
        unprotected=unprotected_map,
        payload=payload,
        signature=signature,
        tags=tags,
    )


def verify_sign1(message: Sign1, key: PublicKey) -> None:
    """Check the signature with ``key``; the algorithm must be the one the key allows."""
    alg = message.alg
    if not isinstance(alg, int) or isinstance(alg, bool) or alg not in ALG_NAMES:
        raise SignatureError(f"unsupported COSE algorithm {alg!r}", code="alg_unsupported")
    verify_raw(key, alg, sig_structure(message.protected_bytes, message.payload), message.signature)
