"""A minimal DER reader, used only where ``cryptography`` refuses a certificate's extensions.

Some DSCs in circulation carry an *empty* extendedKeyUsage (``SEQUENCE {}``, forbidden by
RFC 5280 but accepted by the EU verifiers: dgc-testdata CO15). ``cryptography`` then fails
on every extension of that certificate, so :func:`extension_value` reads the one extension
we need straight from the DER. It is strict: definite lengths only, no trailing bytes.
"""

from __future__ import annotations

from typing import Final

__all__ = ["DerError", "extension_value", "parse_oid_sequence"]

_SEQUENCE: Final = 0x30
_OID: Final = 0x06
_BOOLEAN: Final = 0x01
_OCTET_STRING: Final = 0x04
_EXTENSIONS_TAG: Final = 0xA3  # [3] EXPLICIT in TBSCertificate
_MAX_LENGTH_BYTES: Final = 4


class DerError(ValueError):
    """DER that this reader cannot take apart."""


def _read_tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """Read one TLV at ``pos``; return (tag, content, position after it)."""
    if pos + 2 > len(data):
        raise DerError("truncated TLV header")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DerError("high tag numbers are not supported")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > _MAX_LENGTH_BYTES or pos + count > len(data):
            raise DerError("unsupported or truncated length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise DerError("content runs past the end")
    return tag, data[pos:end], end


def _children(content: bytes) -> list[tuple[int, bytes]]:
    """The TLVs that make up ``content``, in order."""
    items: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(content):
        tag, value, pos = _read_tlv(content, pos)
        items.append((tag, value))
    return items


def _single(data: bytes, expected_tag: int) -> bytes:
    """The content of ``data``, which must be exactly one TLV with ``expected_tag``."""
    tag, content, end = _read_tlv(data, 0)
    if tag != expected_tag or end != len(data):
        raise DerError(f"expected one TLV with tag {expected_tag:#x}")
    return content


def _decode_oid(content: bytes) -> str:
    """Dotted-decimal form of an OBJECT IDENTIFIER's content octets."""
    if not content or content[-1] & 0x80:
        raise DerError("malformed OID")
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(arc) for arc in head + arcs[1:])


def extension_value(certificate_der: bytes, oid: str) -> list[bytes]:
    """The extnValue contents of every extension with ``oid`` in a DER certificate."""
    certificate = _children(_single(certificate_der, _SEQUENCE))
    if not certificate or certificate[0][0] != _SEQUENCE:
        raise DerError("no TBSCertificate")
    values: list[bytes] = []
    for tag, content in _children(certificate[0][1]):
        if tag != _EXTENSIONS_TAG:
            continue
        for ext_tag, ext in _children(_single(content, _SEQUENCE)):
            if ext_tag != _SEQUENCE:
                raise DerError("extension is not a SEQUENCE")
            parts = _children(ext)
            if len(parts) not in (2, 3) or parts[0][0] != _OID or parts[-1][0] != _OCTET_STRING:
                raise DerError("malformed extension")
            if len(parts) == 3 and parts[1][0] != _BOOLEAN:
                raise DerError("malformed extension criticality")
            if _decode_oid(parts[0][1]) == oid:
                values.append(parts[-1][1])
    return values


def parse_oid_sequence(data: bytes) -> list[str]:
    """The dotted OIDs of a DER ``SEQUENCE OF OBJECT IDENTIFIER`` (may be empty)."""
    oids: list[str] = []
    for tag, content in _children(_single(data, _SEQUENCE)):
        if tag != _OID:
            raise DerError("SEQUENCE element is not an OID")
        oids.append(_decode_oid(content))
    return oids
