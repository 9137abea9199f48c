"""The report boundary: every report can be written by the JSON encoder the API uses.

CBOR integers reach -2^64 and 2^64-1; orjson refuses below -2^63 and JSON readers hold
integers exactly only within ±(2^53-1). A validly signed certificate carrying such an
integer used to turn the HTTP answer into a 500.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadtests.fuzz.target import FuzzTarget, make_target
from verifier import verify
from verifier.json_safe import MAX_JSON_INTEGER, json_safe

BEYOND = -(2**64)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> FuzzTarget:
    return make_target(tmp_path_factory.mktemp("fuzz") / "keys")


def _signed(target: FuzzTarget, path: tuple[Any, ...], value: object) -> dict[str, Any]:
    claims = target.claims()
    node: Any = claims[-260][1]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    report = verify(target.hc1(claims), trust=target.trust, now=target.now)
    assert report.error is None or report.error.code != "internal_error", report.error
    encoded: dict[str, Any] = orjson.loads(orjson.dumps(report.to_dict()))
    return encoded


def test_ver_beyond_64_bits_is_a_schema_failure_not_a_500(target: FuzzTarget) -> None:
    report = _signed(target, ("ver",), BEYOND)
    assert report["error"]["code"] == "schema_wrong_type"
    assert report["certificate"]["ver"] == str(BEYOND)


def test_a_test_centre_beyond_64_bits_is_written_as_text(target: FuzzTarget) -> None:
    report = _signed(target, ("t", 0, "tc"), BEYOND)
    assert report["error"]["code"] == "schema_wrong_type"
    assert report["certificate"]["t"][0]["tc"] == "-18446744073709551616"


def test_an_unknown_field_beyond_64_bits_keeps_a_valid_certificate_writable(
    target: FuzzTarget,
) -> None:
    report = _signed(target, ("x",), 2**64 - 1)
    assert report["valid"] is True
    assert report["certificate"]["x"] == str(2**64 - 1)


def test_dose_numbers_are_bounded(target: FuzzTarget) -> None:
    claims = target.claims()
    del claims[-260][1]["t"]
    claims[-260][1]["v"] = [
        {
            "tg": "840539006", "vp": "J07BX03", "mp": "EU/1/20/1528", "ma": "ORG-100030215",
            "dn": 2**63, "sd": MAX_JSON_INTEGER + 1, "dt": "2021-06-11", "co": "LU",
            "is": "Ministry of Health", "ci": "URN:UVCI:01:LU:V1#X",
        }
    ]  # fmt: skip
    report = verify(target.hc1(claims), trust=target.trust, now=target.now)
    assert report.error is not None
    assert report.error.code == "schema_value"
    assert report.check("schema") is not None
    orjson.dumps(report.to_dict())


_JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64 - 1)
    | st.floats()
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=_JSONISH)
def test_json_safe_output_always_encodes_and_keeps_what_json_holds(value: object) -> None:
    safe = json_safe(value)
    orjson.loads(orjson.dumps(safe))

    def same(original: object, written: object) -> None:
        if isinstance(original, bool) or original is None:
            assert written is original
        elif isinstance(original, int):
            exact = abs(original) <= MAX_JSON_INTEGER
            assert written == (original if exact else str(original))
        elif isinstance(original, float):
            assert written == original if math.isfinite(original) else written == str(original)
        elif isinstance(original, list):
            assert isinstance(written, list)
            assert len(written) == len(original)
            for item, out in zip(original, written, strict=True):
                same(item, out)
        elif isinstance(original, dict):
            assert isinstance(written, dict)
            assert written.keys() == original.keys()
            for key in original:
                same(original[key], written[key])
        else:
            assert written == original

    same(value, safe)


def test_json_safe_replaces_what_is_not_json() -> None:
    assert json_safe({"a": b"x", "b": "\ud800", 1: (1,)}) == {"a": "(bytes)", "b": "?", "1": [1]}
