"""Base45 (RFC 9285): the RFC's vectors, strict decoding, and agreement with a naive codec."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hcert.base45 import ALPHABET, b45decode, b45encode
from signing.errors import DecodeError

RFC_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

VECTORS = [
    (b"AB", "BB8"),
    (b"Hello!!", "%69 VD92EX0"),
    (b"base-45", "UJCLQE7W581"),
    (b"ietf!", "QED8WEX0"),
    (b"", ""),
    (b"\x00", "00"),
    (b"\x00\x00", "000"),
    (b"\xff", "U5"),
    (b"\xff\xff", "FGW"),
]


def naive_encode(data: bytes) -> str:
    """RFC 9285 §4 written out, one group at a time."""
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        c, n = n % 45, n // 45
        d, e = n % 45, n // 45
        out.append(RFC_ALPHABET[c] + RFC_ALPHABET[d] + RFC_ALPHABET[e])
    if len(data) % 2:
        n = data[-1]
        out.append(RFC_ALPHABET[n % 45] + RFC_ALPHABET[n // 45])
    return "".join(out)


def test_alphabet_is_rfc_9285_with_the_space() -> None:
    assert ALPHABET == RFC_ALPHABET
    assert ALPHABET[36] == " "
    assert len(set(ALPHABET)) == 45


@pytest.mark.parametrize(("raw", "text"), VECTORS, ids=[v[1] or "empty" for v in VECTORS])
def test_rfc_vectors(raw: bytes, text: str) -> None:
    assert b45encode(raw) == text
    assert b45decode(text) == raw


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("bb8", "base45_alphabet", id="lower-case"),
        pytest.param("BB#", "base45_alphabet", id="hash"),
        pytest.param("BB8€A", "base45_alphabet", id="euro"),
        pytest.param("BB\x00", "base45_alphabet", id="nul"),
        pytest.param("B_", "base45_alphabet", id="trailing-pair-bad-char"),
        pytest.param("A", "base45_length", id="one-char"),
        pytest.param("BB8A", "base45_length", id="four-chars"),
        pytest.param("BB8BB8B", "base45_length", id="seven-chars"),
        pytest.param("GGW", "base45_overflow", id="GGW-65536"),
        pytest.param(":::", "base45_overflow", id="max-triplet"),
        pytest.param("BB8GGW", "base45_overflow", id="second-group"),
        pytest.param("V5", "base45_overflow", id="pair-256"),
        pytest.param("GG", "base45_overflow", id="pair-736"),
        pytest.param("BB8::", "base45_overflow", id="trailing-pair-2024"),
    ],
)
def test_malformed_text_is_refused(text: str, code: str) -> None:
    with pytest.raises(DecodeError) as caught:
        b45decode(text)
    assert caught.value.stage == "base45"
    assert caught.value.code == code


def test_the_largest_valid_values_decode() -> None:
    assert b45decode("FGW") == b"\xff\xff"  # 15 + 16·45 + 32·45² = 65535
    assert b45decode("U5") == b"\xff"  # 30 + 5·45 = 255


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1500))
def test_round_trip_and_agreement_with_the_naive_codec(data: bytes) -> None:
    text = b45encode(data)
    assert text == naive_encode(data)
    assert len(text) == 3 * (len(data) // 2) + 2 * (len(data) % 2)
    assert set(text) <= set(RFC_ALPHABET)
    assert b45decode(text) == data


def naive_decode(text: str) -> bytes | None:
    """RFC 9285 §4.2 written out; None where the RFC says the input is invalid."""
    if len(text) % 3 == 1 or any(ch not in RFC_ALPHABET for ch in text):
        return None
    out = bytearray()
    for i in range(0, len(text), 3):
        chunk = [RFC_ALPHABET.index(ch) for ch in text[i : i + 3]]
        n = sum(value * 45**power for power, value in enumerate(chunk))
        if n > (0xFFFF if len(chunk) == 3 else 0xFF):
            return None
        out += n.to_bytes(len(chunk) - 1, "big")
    return bytes(out)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=RFC_ALPHABET + "abc#\x00é", max_size=30))
def test_decode_agrees_with_the_naive_decoder_on_any_text(text: str) -> None:
    """Same bytes where the RFC allows the text, a base45 DecodeError where it does not."""
    expected = naive_decode(text)
    if expected is None:
        with pytest.raises(DecodeError) as caught:
            b45decode(text)
        assert caught.value.stage == "base45"
    else:
        assert b45decode(text) == expected
        assert b45encode(expected) == text  # no second spelling of the same bytes


def test_every_16_bit_group_encodes_as_the_naive_codec_does() -> None:
    """All 65,536 groups in one input (and with an odd byte after them): the lane arithmetic
    (a magic-number division by 45 in 32-bit lanes of a big integer) is exact for each."""
    data = b"".join(value.to_bytes(2, "big") for value in range(65536))
    assert b45encode(data) == naive_encode(data)
    assert b45encode(data + b"\xff") == naive_encode(data + b"\xff")
    assert b45decode(b45encode(data)) == data


def previous_decode(text: str) -> bytes:
    """The decoder before the lane arithmetic (one triplet at a time), kept as an oracle:
    the same bytes, and the same error code and message, for every input."""
    values_of = {ch: index for index, ch in enumerate(RFC_ALPHABET)}
    if len(text) % 3 == 1:
        raise DecodeError("base45", "base45 length must not be 1 modulo 3", code="base45_length")
    if any(ch not in values_of for ch in text):
        raise DecodeError("base45", "character outside the base45 alphabet", code="base45_alphabet")
    values = [values_of[ch] for ch in text]
    full = len(values) - len(values) % 3
    out = bytearray()
    for i in range(0, full, 3):
        group = values[i] + 45 * values[i + 1] + 2025 * values[i + 2]
        if group > 0xFFFF:
            raise DecodeError("base45", "base45 group exceeds 65535", code="base45_overflow")
        out += group.to_bytes(2, "big")
    if full != len(values):
        last = values[full] + 45 * values[full + 1]
        if last > 0xFF:
            raise DecodeError("base45", "base45 trailing pair exceeds 255", code="base45_overflow")
        out.append(last)
    return bytes(out)


def _outcome(text: str) -> tuple[object, ...]:
    try:
        return ("bytes", b45decode(text))
    except DecodeError as exc:
        return ("error", exc.stage, exc.code, exc.message)


def _previous_outcome(text: str) -> tuple[object, ...]:
    try:
        return ("bytes", previous_decode(text))
    except DecodeError as exc:
        return ("error", exc.stage, exc.code, exc.message)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=RFC_ALPHABET + "abc#\x00é\n", max_size=40),
        st.text(alphabet="FGUVW:/.-%+ 0", max_size=40),
        st.binary(max_size=600).map(b45encode),
    )
)
def test_decode_agrees_with_the_previous_decoder(text: str) -> None:
    """Same bytes, or the same error (code and message), as the per-triplet decoder."""
    assert _outcome(text) == _previous_outcome(text)


def test_every_triplet_decodes_as_the_previous_decoder_does() -> None:
    """All 45³ triplets: the valid ones together in one text (lanes next to each other), each
    one that overflows alone after a valid group and before a trailing pair."""
    valid: list[str] = []
    for e in RFC_ALPHABET:
        for d in RFC_ALPHABET:
            for c in RFC_ALPHABET:
                triplet = c + d + e
                if (
                    RFC_ALPHABET.index(c)
                    + 45 * RFC_ALPHABET.index(d)
                    + 2025 * RFC_ALPHABET.index(e)
                    <= 0xFFFF
                ):
                    valid.append(triplet)
                else:
                    text = "BB8" + triplet + "U5"
                    assert _outcome(text) == _previous_outcome(text)
    assert len(valid) == 65536
    text = "".join(valid)
    assert b45decode(text) == previous_decode(text)
    assert b45decode(text + "U5") == previous_decode(text) + b"\xff"
