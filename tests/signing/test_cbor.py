"""Strict CBOR decoding of hostile input and deterministic encoding (hardening.md §4).

Inputs are hand-written CBOR bytes (RFC 8949 major types), so the tests do not depend on
how cbor2 would encode them.
"""

from __future__ import annotations

import io
import tracemalloc
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import signing.cbor
from signing.cbor import DEFAULT_MAX_DEPTH, dumps, loads_strict
from signing.errors import DecodeError


class StreamSpy:
    """Stands in for the ``io`` module of ``signing.cbor``: keeps every stream it decodes."""

    def __init__(self) -> None:
        self.streams: list[io.BytesIO] = []

    def BytesIO(self, data: bytes) -> io.BytesIO:
        stream = io.BytesIO(data)
        self.streams.append(stream)
        return stream

    def __getattr__(self, name: str) -> Any:
        return getattr(io, name)


@pytest.fixture
def streams(monkeypatch: pytest.MonkeyPatch) -> StreamSpy:
    """The input streams ``loads_strict`` reads, to see how far it read."""
    spy = StreamSpy()
    monkeypatch.setattr(signing.cbor, "io", spy)
    return spy


def refused(data: bytes, code: str = "cbor_invalid", stage: str = "cbor") -> DecodeError:
    with pytest.raises(DecodeError) as caught:
        loads_strict(data, stage=stage)
    assert caught.value.stage == stage
    assert caught.value.code == code
    return caught.value


def test_one_item_decodes() -> None:
    assert loads_strict(bytes.fromhex("a2016162 0382 0102")) == {1: "b", 3: [1, 2]}


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x01\x02", id="two-items"),
        pytest.param(bytes.fromhex("a0 00"), id="map-then-zero"),
        pytest.param(bytes.fromhex("4100 00"), id="bstr-then-zero"),
    ],
)
def test_trailing_bytes_are_refused(data: bytes) -> None:
    refused(data, "cbor_trailing_bytes")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("a2 01 02 01 03", id="int-key"),
        pytest.param("a2 6161 01 6161 02", id="text-key"),
        pytest.param("a2 c1 01 0a c1 01 0a", id="tagged-key"),
    ],
)
def test_duplicate_map_keys_are_refused(data: str) -> None:
    refused(bytes.fromhex(data))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("9f 01 ff", id="array"),
        pytest.param("bf 01 01 ff", id="map"),
        pytest.param("5f 41 00 ff", id="bytes"),
        pytest.param("7f 61 61 ff", id="text"),
    ],
)
def test_indefinite_lengths_are_refused(data: str) -> None:
    refused(bytes.fromhex(data))


def test_nesting_up_to_the_bound_is_accepted_and_one_more_is_refused() -> None:
    assert DEFAULT_MAX_DEPTH == 32
    loads_strict(b"\x81" * DEFAULT_MAX_DEPTH + b"\x00")
    refused(b"\x81" * (DEFAULT_MAX_DEPTH + 1) + b"\x00")


@pytest.mark.parametrize(
    "unit",
    [
        pytest.param(b"\x81", id="arrays"),
        pytest.param(b"\xa1\x01", id="maps"),
        pytest.param(b"\xd8\x40", id="tags"),
    ],
)
def test_100000_deep_nesting_is_refused_at_the_depth_bound(unit: bytes, streams: StreamSpy) -> None:
    """No recursion to the bottom: refused by the depth bound (as 33 levels are, not by
    Python's recursion limit), before the decoder has even read the whole input."""
    data = unit * 100_000 + b"\x00"
    error = refused(data)
    assert isinstance(error.__cause__, cbor2.CBORDecodeError)
    assert f"nesting depth ({DEFAULT_MAX_DEPTH}) exceeded" in str(error.__cause__)
    assert error.message == refused(unit * (DEFAULT_MAX_DEPTH + 1) + b"\x00").message
    assert 0 < streams.streams[0].tell() < len(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x62\xc3\x28", id="bad-continuation"),
        pytest.param(b"\x61\xff", id="ff"),
        pytest.param(b"\x62\xc0\x80", id="overlong-nul"),
        pytest.param(b"\x63\xed\xa0\x80", id="surrogate"),
    ],
)
def test_invalid_utf8_text_is_refused(data: bytes) -> None:
    refused(data)


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(b"\x5b", id="bytes"),
        pytest.param(b"\x7b", id="text"),
        pytest.param(b"\x9b", id="array"),
        pytest.param(b"\xbb", id="map"),
    ],
)
@pytest.mark.parametrize("length", [2**32, 2**62, 2**64 - 1])
def test_huge_declared_lengths_are_refused_without_allocating(head: bytes, length: int) -> None:
    data = head + length.to_bytes(8, "big") + b"\x00\x00"
    tracemalloc.start()
    try:
        refused(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff", id="lone-break"),
        pytest.param(b"\x1c", id="reserved-additional-info"),
        pytest.param(b"\x18", id="missing-argument"),
        pytest.param(b"\x82\x01", id="short-array"),
    ],
)
def test_malformed_items_are_refused(data: bytes) -> None:
    refused(data)


def test_the_stage_is_the_callers() -> None:
    refused(b"\x01\x02", "cbor_trailing_bytes", stage="claims")
    refused(b"\x9f\xff", stage="cose")


@pytest.mark.parametrize(
    ("data", "tag", "value"),
    [
        pytest.param("d823 63 61 28 62", 35, "a(b", id="35-regex-not-compiled"),
        pytest.param("c1 1a 60c2a77f", 1, 1623369599, id="1-epoch-not-datetime"),
        pytest.param(
            "c0 74 323032312d30372d30385431323a33303a30305a",
            0,
            "2021-07-08T12:30:00Z",
            id="0-text-not-datetime",
        ),
        pytest.param("c2 42 0100", 2, b"\x01\x00", id="2-bignum-not-int"),
        pytest.param("d81c 81 01", 28, [1], id="28-shareable"),
        pytest.param("d81d 00", 29, 0, id="29-shared-reference"),
        pytest.param("d90102 82 01 02", 258, [1, 2], id="258-set"),
        pytest.param("d9d9f7 01", 55799, 1, id="55799-self-describe"),
        pytest.param("d2 80", 18, (), id="18-cose-sign1"),
    ],
)
def test_tags_stay_cbortags(data: str, tag: int, value: object) -> None:
    """Semantic tags are returned as sent: later checks see exactly what was encoded."""
    decoded = loads_strict(bytes.fromhex(data))
    assert isinstance(decoded, cbor2.CBORTag)
    assert decoded.tag == tag
    assert decoded.value == value


def test_an_invalid_regex_in_tag_35_is_not_an_error() -> None:
    decoded = loads_strict(bytes.fromhex("d823 61 28"))  # 35("(")
    assert decoded == cbor2.CBORTag(35, "(")


def test_dumps_is_deterministic_across_insertion_orders() -> None:
    forward = {1: "LU", 4: 1625920200, 6: 1625747462, -260: {1: {"ver": "1.3.0", "dob": "1985"}}}
    backward = {-260: {1: {"dob": "1985", "ver": "1.3.0"}}, 6: 1625747462, 4: 1625920200, 1: "LU"}
    assert dumps(forward) == dumps(backward)
    assert dumps(forward).startswith(bytes.fromhex("a4 01 62 4c55 04 1a"))
    assert bytes.fromhex("39 0103") in dumps(forward)


def test_dumps_uses_shortest_integer_forms() -> None:
    assert dumps(23) == b"\x17"
    assert dumps(24) == b"\x18\x18"
    assert dumps(-260) == b"\x39\x01\x03"
    assert dumps(2**32) == b"\x1b" + (2**32).to_bytes(8, "big")


json_like = st.recursive(
    st.one_of(
        st.integers(min_value=-(2**63), max_value=2**64 - 1),
        st.text(max_size=20),
        st.binary(max_size=20),
        st.booleans(),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(
            st.one_of(st.integers(-300, 300), st.text(max_size=6)), children, max_size=5
        ),
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(json_like)
def test_dumps_then_loads_strict_round_trips(value: Any) -> None:
    assert loads_strict(dumps(value), max_depth=64) == value


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.one_of(st.integers(-1000, 1000), st.text(max_size=8)),
        st.integers(),
        min_size=2,
        max_size=10,
    )
)
def test_dumps_does_not_depend_on_insertion_order(mapping: dict[int | str, int]) -> None:
    reordered = dict(reversed(list(mapping.items())))
    assert dumps(reordered) == dumps(mapping)
