"""The HC1 text codec: prefix, zlib (one stored block; complete, bounded) and base45, both ways."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hcert.hc1
from hcert.base45 import b45decode, b45encode
from hcert.hc1 import (
    MAX_HC1_CHARS,
    MAX_INFLATED_BYTES,
    MAX_STORED_BYTES,
    PREFIX,
    compress,
    decode_hc1,
    encode_hc1,
    inflate,
    strip_prefix,
)
from signing.errors import DecodeError

QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
COSE_LIKE = bytes.fromhex("d2844da20126044899 1c5aa728b1489da0") + bytes(range(256)) * 2


class _RecordingInflater:
    """One zlib inflater whose ``decompress`` calls are recorded as (max_length, output size)."""

    def __init__(self, inner: Any, calls: list[tuple[int, int]]) -> None:
        self._inner = inner
        self._calls = calls

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        out: bytes = self._inner.decompress(data, max_length)
        self._calls.append((max_length, len(out)))
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class InflateSpy:
    """Stands in for the ``zlib`` module of ``hcert.hc1``: every other name is zlib's own."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def decompressobj(self, *args: Any, **kwargs: Any) -> _RecordingInflater:
        return _RecordingInflater(zlib.decompressobj(*args, **kwargs), self.calls)

    def __getattr__(self, name: str) -> Any:
        return getattr(zlib, name)


@pytest.fixture
def inflates(monkeypatch: pytest.MonkeyPatch) -> InflateSpy:
    """What the HC1 decoder asks of zlib, and how many bytes it got back."""
    spy = InflateSpy()
    monkeypatch.setattr(hcert.hc1, "zlib", spy)
    return spy


def refused(text: str, stage: str, code: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_hc1(text)
    assert caught.value.stage == stage
    assert caught.value.code == code


def test_prefix_is_hc1() -> None:
    assert PREFIX == "HC1:"
    assert encode_hc1(COSE_LIKE).startswith("HC1:")


def test_encoding_is_a_zlib_stream_with_one_stored_block_then_base45() -> None:
    text = encode_hc1(COSE_LIKE)
    compressed = b45decode(text[4:])
    assert compressed[:2] == b"\x78\x01"  # zlib header: deflate, 32 KiB window (0x78)
    assert compressed[2] == 0x01  # BFINAL, BTYPE 00 (stored)
    size = len(COSE_LIKE)
    assert compressed[3:7] == size.to_bytes(2, "little") + (size ^ 0xFFFF).to_bytes(2, "little")
    assert compressed[7:-4] == COSE_LIKE
    assert compressed[-4:] == zlib.adler32(COSE_LIKE).to_bytes(4, "big")
    assert zlib.decompress(compressed) == COSE_LIKE
    assert compress(COSE_LIKE) == compressed == zlib.compress(COSE_LIKE, 0)
    assert set(text) <= QR_ALPHANUMERIC


def test_a_stored_payload_of_the_largest_size_gives_the_longest_hc1_text() -> None:
    assert MAX_STORED_BYTES == 2986
    longest = encode_hc1(bytes(range(256)) * 11 + bytes(MAX_STORED_BYTES - 2816))
    assert len(longest) == MAX_HC1_CHARS
    assert b45decode(longest[4:])[2] == 0x01  # stored


@pytest.mark.parametrize(
    "size", [0, 1, 2, 383, MAX_STORED_BYTES - 1, MAX_STORED_BYTES, MAX_STORED_BYTES + 1, 65536]
)
def test_compress_is_zlib_level_0_up_to_the_stored_limit_then_level_9(size: int) -> None:
    data = bytes((i * 7 + size) % 256 for i in range(size))
    level = 0 if size <= MAX_STORED_BYTES else 9
    assert compress(data) == zlib.compress(data, level)
    assert zlib.decompress(compress(data)) == data
    assert inflate(compress(data), limit=max(size, 1)) == data


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=2000),
        st.integers(min_value=MAX_STORED_BYTES - 50, max_value=MAX_STORED_BYTES + 50).flatmap(
            lambda n: st.binary(min_size=n, max_size=n)
        ),
    )
)
def test_compress_is_byte_identical_to_zlib(data: bytes) -> None:
    """The oracle: the hand-framed stored block is what zlib itself writes at level 0."""
    level = 0 if len(data) <= MAX_STORED_BYTES else 9
    assert compress(data) == zlib.compress(data, level)
    assert zlib.decompress(compress(data)) == data


def test_a_large_compressible_payload_still_fits_a_qr_code() -> None:
    """Above the stored limit, level 9: 100 KB of one byte deflate to a short text."""
    text = encode_hc1(b"\x81" * 100_000)
    assert len(text) < MAX_HC1_CHARS
    assert b45decode(text[4:])[:2] == b"\x78\xda"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_encode_then_decode_is_the_identity(data: bytes) -> None:
    text = encode_hc1(data)
    assert set(text) <= QR_ALPHANUMERIC
    assert decode_hc1(text) == data


def test_a_zip_bomb_inside_a_qr_sized_text_is_stopped_at_the_inflate_limit(
    inflates: InflateSpy,
) -> None:
    """3 MB of zeros in a QR-sized text: zlib is asked for one byte more than the limit,
    once, and that is all the decoder ever inflates before refusing."""
    bomb = zlib.compress(b"\x00" * 3_000_000, 9)
    text = PREFIX + b45encode(bomb)
    assert len(text) <= MAX_HC1_CHARS
    refused(text, "zlib", "zlib_too_large")
    assert inflates.calls == [(MAX_INFLATED_BYTES + 1, MAX_INFLATED_BYTES + 1)]


def test_inflate_stops_a_large_bomb_at_its_limit(inflates: InflateSpy) -> None:
    """~200 KB in, 200 MB out: inflated output stops at ``limit + 1`` bytes (64 KiB + 1)."""
    bomb = zlib.compress(b"\x00" * 200_000_000, 9)
    with pytest.raises(DecodeError) as caught:
        inflate(bomb)
    assert caught.value.code == "zlib_too_large"
    assert caught.value.context["limit"] == MAX_INFLATED_BYTES
    assert inflates.calls == [(MAX_INFLATED_BYTES + 1, MAX_INFLATED_BYTES + 1)]


def test_the_inflate_limit_is_exact() -> None:
    assert MAX_INFLATED_BYTES == 64 * 1024
    assert len(inflate(zlib.compress(b"a" * MAX_INFLATED_BYTES))) == MAX_INFLATED_BYTES
    with pytest.raises(DecodeError) as caught:
        inflate(zlib.compress(b"a" * (MAX_INFLATED_BYTES + 1)))
    assert caught.value.code == "zlib_too_large"
    assert inflate(zlib.compress(b"abc"), limit=3) == b"abc"
    with pytest.raises(DecodeError):
        inflate(zlib.compress(b"abcd"), limit=3)


@pytest.mark.parametrize("cut", [1, 4, 10, len(zlib.compress(COSE_LIKE, 9)) - 2])
def test_a_truncated_stream_is_refused(cut: int) -> None:
    compressed = zlib.compress(COSE_LIKE, 9)
    refused(PREFIX + b45encode(compressed[:-cut]), "zlib", "zlib_truncated")


def test_bytes_after_the_stream_are_refused() -> None:
    compressed = zlib.compress(COSE_LIKE, 9)
    for extra in (b"\x00", b"junk", compressed):
        refused(PREFIX + b45encode(compressed + extra), "zlib", "zlib_trailing_bytes")


def test_raw_deflate_gzip_and_uncompressed_cose_are_refused() -> None:
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = deflater.compress(COSE_LIKE) + deflater.flush()
    for data in (raw, gzip.compress(COSE_LIKE), COSE_LIKE):
        refused(PREFIX + b45encode(data), "zlib", "zlib_invalid")


def test_a_wrong_checksum_is_refused() -> None:
    compressed = bytearray(zlib.compress(COSE_LIKE, 9))
    compressed[-1] ^= 0x01
    refused(PREFIX + b45encode(bytes(compressed)), "zlib", "zlib_invalid")


def test_oversize_text_is_refused_before_any_decoding(
    inflates: InflateSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even garbage is refused as too long, at stage prefix: nothing else ran."""

    def no_base45(text: str) -> bytes:
        raise AssertionError("base45 decoding ran on oversize text")

    monkeypatch.setattr(hcert.hc1, "b45decode", no_base45)
    refused("HC1:" + "!" * MAX_HC1_CHARS, "prefix", "input_too_long")
    refused("\x00" * 10_000_000, "prefix", "input_too_long")
    assert inflates.calls == []
    assert strip_prefix("HC1:" + "0" * (MAX_HC1_CHARS - 4)) == "0" * (MAX_HC1_CHARS - 4)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("", "input_empty", id="empty"),
        pytest.param("HC1:NCF\x00", "input_invalid", id="nul"),
        pytest.param("HC1:NCF\n", "input_invalid", id="newline"),
        pytest.param("HC1:ÄBC", "input_invalid", id="non-ascii"),
        pytest.param("HC1:BB8\u200b", "input_invalid", id="zero-width-space"),
        pytest.param("HC2:BB8", "prefix_invalid", id="HC2"),
        pytest.param("HL0:BB8", "prefix_invalid", id="HL0"),
        pytest.param("hc1:BB8", "prefix_invalid", id="lower-case"),
        pytest.param(" HC1:BB8", "prefix_invalid", id="leading-space"),
        pytest.param("BB8", "prefix_invalid", id="missing"),
    ],
)
def test_bad_text_is_refused_at_the_prefix(text: str, code: str) -> None:
    refused(text, "prefix", code)


def test_bad_base45_after_the_prefix_is_refused_at_stage_base45() -> None:
    refused("HC1:bb8", "base45", "base45_alphabet")
    refused("HC1:A", "base45", "base45_length")
    refused("HC1:", "zlib", "zlib_truncated")
