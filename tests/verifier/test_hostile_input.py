"""hardening.md §4 rows 1-20: hostile text, base45, zlib, CBOR and COSE structure.

Every case starts from a certificate signed with our own keys, breaks one thing, and must
end in a report naming the right check and code, with no exception escaping. Hostile sizes
are stopped by the bound of their layer, which the cases show: the text length (row 1),
the inflated size and its memory (row 8), the CBOR nesting depth (row 14).
"""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest

from hcert.base45 import b45encode
from hcert.hc1 import encode_hc1
from keys.generate import generate_keys
from keys.load import SigningKeys, load_signing_keys
from signing.algorithms import sign_raw
from signing.cose import sig_structure
from verifier import VerificationReport, verify

NOW = datetime(2021, 7, 8, 12, 31, tzinfo=UTC)
IAT = int(NOW.timestamp()) - 60
EXP = IAT + 48 * 3600
DCC: dict[str, Any] = {
    "ver": "1.3.0",
    "nam": {"fn": "Muster", "fnt": "MUSTER", "gn": "Anna", "gnt": "ANNA"},
    "dob": "1985-03-02",
    "t": [
        {
            "tg": "840539006",
            "tt": "LP217198-3",
            "ma": "1232",
            "sc": "2021-07-08T11:30:00Z",
            "tr": "260415000",
            "co": "LU",
            "is": "Ministry of Health",
            "ci": "URN:UVCI:01:LU:HOSTILE1#X",
        }
    ],
}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> SigningKeys:
    folder: Path = tmp_path_factory.mktemp("es256")
    generate_keys(folder, now=NOW - timedelta(days=30))
    return load_signing_keys(folder, now=NOW)


def claims(dcc: object = DCC) -> bytes:
    return cbor2.dumps({1: "LU", 4: EXP, 6: IAT, -260: {1: dcc}})


def sign1(
    keys: SigningKeys,
    payload: bytes | None = None,
    *,
    protected: bytes | None = None,
    unprotected: object = None,
    items: list[Any] | None = None,
    tag: int | None = 18,
) -> bytes:
    """A COSE_Sign1 (tag 18) signed with ``keys``; any part may be replaced."""
    payload = claims() if payload is None else payload
    protected = cbor2.dumps({1: keys.alg, 4: keys.kid}) if protected is None else protected
    signature = sign_raw(keys.private_key, keys.alg, sig_structure(protected, payload))
    array = [protected, {} if unprotected is None else unprotected, payload, signature]
    array = array if items is None else items
    return cbor2.dumps(array if tag is None else cbor2.CBORTag(tag, array))


def expect(data: str | bytes, check: str, code: str, keys: SigningKeys) -> VerificationReport:
    report = verify(data, trust=[keys.certificate], now=NOW)
    assert report.error is not None, report.to_dict()
    assert (report.error.check, report.error.code) == (check, code), report.to_dict()
    assert not report.valid
    assert next(c.name for c in report.checks if not c.ok) == check
    json.dumps(report.to_dict())
    return report


def test_baseline_is_valid(keys: SigningKeys) -> None:
    report = verify(encode_hc1(sign1(keys)), trust=[keys.certificate], now=NOW)
    assert report.valid, report.to_dict()


# Row 1: reject before decoding.
@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("", "input_empty"),
        (b"", "input_empty"),
        ("HC1:" + "A" * 4600, "input_too_long"),
        (b"HC1:" + b"A" * 4600, "input_too_long"),
        ("HC1:NCFÄ", "input_invalid"),
        (b"HC1:NCF\xc3\x84", "input_invalid"),
        ("HC1:NCF\x00OX", "input_invalid"),
        ("HC1:NCFOXN\n", "input_invalid"),
    ],
)
def test_row01_rejected_before_decoding(keys: SigningKeys, data: str | bytes, code: str) -> None:
    report = expect(data, "prefix", code, keys)
    assert [c.name for c in report.checks] == ["prefix"]


@pytest.mark.parametrize("prefix", ["", "HL0:", "HC2:", "hc1:", "HC1"])
def test_row02_prefix(keys: SigningKeys, prefix: str) -> None:
    body = encode_hc1(sign1(keys)).removeprefix("HC1:")
    expect(prefix + body, "prefix", "prefix_invalid", keys)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("NCF!OX", "base45_alphabet"),
        ("NCFO", "base45_length"),
        ("GGW", "base45_overflow"),
        ("::", "base45_overflow"),
        ("ncfox", "base45_alphabet"),
    ],
)
def test_row03_base45(keys: SigningKeys, body: str, code: str) -> None:
    expect("HC1:" + body, "base45", code, keys)


def test_row04_not_compressed(keys: SigningKeys) -> None:
    expect("HC1:" + b45encode(sign1(keys)), "zlib", "zlib_missing", keys)


@pytest.mark.parametrize("wrap", ["broken", "raw_deflate", "gzip"])
def test_row05_broken_zlib(keys: SigningKeys, wrap: str) -> None:
    cose = sign1(keys)
    data = {
        "broken": b"\x78\x9c" + b"\xff" * 40,
        "raw_deflate": zlib.compress(cose)[2:-4],
        "gzip": gzip.compress(cose),
    }[wrap]
    expect("HC1:" + b45encode(data), "zlib", "zlib_invalid", keys)


def test_row06_truncated_zlib(keys: SigningKeys) -> None:
    expect("HC1:" + b45encode(zlib.compress(sign1(keys))[:-6]), "zlib", "zlib_truncated", keys)


def test_row07_trailing_bytes_after_zlib(keys: SigningKeys) -> None:
    data = zlib.compress(sign1(keys)) + b"\x00junk"
    expect("HC1:" + b45encode(data), "zlib", "zlib_trailing_bytes", keys)


def test_row08_zip_bomb_stops_at_the_cap(keys: SigningKeys) -> None:
    bomb = zlib.compress(b"\x00" * 2_000_000, 9)
    assert len(bomb) < 3000  # fits a QR code
    tracemalloc.start()
    try:
        expect("HC1:" + b45encode(bomb), "zlib", "zlib_too_large", keys)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024


def test_row08_fifty_megabyte_bomb_is_too_long_to_be_a_qr_code(keys: SigningKeys) -> None:
    bomb = zlib.compress(b"\x00" * 50_000_000, 9)
    expect("HC1:" + b45encode(bomb), "prefix", "input_too_long", keys)


@pytest.mark.parametrize("cose", [b"\xff\xfe", b"\xd2\x84\x43", b"\x5b" + b"\xff" * 8])
def test_row09_not_cbor(keys: SigningKeys, cose: bytes) -> None:
    expect(encode_hc1(cose), "cose", "cbor_invalid", keys)


def test_row10_untagged_array_is_accepted(keys: SigningKeys) -> None:
    """Policy: the ES vectors 1501/1502 are untagged and must verify."""
    report = verify(encode_hc1(sign1(keys, tag=None)), trust=[keys.certificate], now=NOW)
    assert report.valid, report.to_dict()


def test_row11_cwt_tag_around_cose_tag(keys: SigningKeys) -> None:
    cose = b"\xd8\x3d" + sign1(keys)
    report = verify(encode_hc1(cose), trust=[keys.certificate], now=NOW)
    assert report.valid, report.to_dict()


@pytest.mark.parametrize("tags", [(98,), (17,), (16,), (96,), (61,), (18, 18), (61, 61, 18)])
def test_row12_other_cose_tags(keys: SigningKeys, tags: tuple[int, ...]) -> None:
    item: Any = cbor2.loads(sign1(keys)).value
    for tag in reversed(tags):
        item = cbor2.CBORTag(tag, item)
    expect(encode_hc1(cbor2.dumps(item)), "cose", "cose_tag_unsupported", keys)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda a: a[:3], "cose_structure"),
        (lambda a: [*a, b""], "cose_structure"),
        (lambda a: [cbor2.loads(a[0]), *a[1:]], "cose_structure"),
        (lambda a: [a[0], [], *a[2:]], "cose_header_invalid"),
        (lambda a: [a[0], a[1], None, a[3]], "cose_payload_missing"),
        (lambda a: [a[0], a[1], cbor2.loads(a[2]), a[3]], "cose_payload_missing"),
        (lambda a: [*a[:3], a[3].hex()], "cose_structure"),
        (lambda a: {"protected": a[0]}, "cose_structure"),
    ],
)
def test_row13_wrong_structure(keys: SigningKeys, change: Any, code: str) -> None:
    array = list(cbor2.loads(sign1(keys)).value)
    expect(encode_hc1(sign1(keys, items=change(array))), "cose", code, keys)


def test_row14_deep_nesting(keys: SigningKeys) -> None:
    # 100 000 levels inflate past the 64 KiB cap; 60 000 reach the CBOR depth limit (32).
    expect(encode_hc1(b"\x81" * 100_000 + b"\x00"), "zlib", "zlib_too_large", keys)
    expect(encode_hc1(b"\x81" * 60_000 + b"\x00"), "cose", "cbor_invalid", keys)
    deep_payload = b"\x81" * 60_000 + b"\x00"
    expect(encode_hc1(sign1(keys, deep_payload)), "cose", "cbor_invalid", keys)


@pytest.mark.parametrize(
    "cose",
    [
        b"\x5b" + (1 << 40).to_bytes(8, "big") + b"ab",
        b"\x9a\xff\xff\xff\xff\x01",
        b"\xba\x10\x00\x00\x00\x01\x02",
        b"\xd2\x9b" + (1 << 32).to_bytes(8, "big"),
    ],
)
def test_row15_huge_declared_lengths(keys: SigningKeys, cose: bytes) -> None:
    expect(encode_hc1(cose), "cose", "cbor_invalid", keys)


def test_row16_indefinite_lengths(keys: SigningKeys) -> None:
    array = cbor2.loads(sign1(keys)).value
    indefinite = b"\xd2\x9f" + b"".join(cbor2.dumps(item) for item in array) + b"\xff"
    expect(encode_hc1(indefinite), "cose", "cbor_invalid", keys)
    payload = b"\xbf" + cbor2.dumps(1) + cbor2.dumps("LU") + b"\xff"
    expect(encode_hc1(sign1(keys, payload)), "cose", "cbor_invalid", keys)


def _map(*pairs: tuple[object, object]) -> bytes:
    return bytes([0xA0 + len(pairs)]) + b"".join(cbor2.dumps(k) + cbor2.dumps(v) for k, v in pairs)


def test_row17_duplicate_keys(keys: SigningKeys) -> None:
    protected = _map((1, keys.alg), (4, keys.kid), (1, keys.alg))
    expect(encode_hc1(sign1(keys, protected=protected)), "cose", "cbor_invalid", keys)
    hcert = {1: DCC}
    payload = _map((1, "LU"), (4, EXP), (6, IAT), (-260, hcert), (-260, hcert))
    expect(encode_hc1(sign1(keys, payload)), "cose", "cbor_invalid", keys)


@pytest.mark.parametrize(
    ("where", "value", "code"),
    [
        ("dcc", cbor2.CBORTag(35, "^a+$"), "dcc_invalid"),
        ("dcc", cbor2.CBORTag(28, ["x"]), "dcc_invalid"),
        ("dcc", cbor2.CBORTag(29, 0), "dcc_invalid"),
        ("dcc", cbor2.CBORTag(1, 1625745000), "dcc_invalid"),
        ("dcc", b"bytes", "dcc_invalid"),
        ("iat", cbor2.CBORTag(1, IAT), "claim_iat_invalid"),
        ("exp", cbor2.CBORTag(0, "2021-07-10T12:30:00Z"), "claim_exp_invalid"),
        ("iat", cbor2.CBORTag(2, b"\xff" * 50_000), "claim_iat_invalid"),  # 64 KiB cap
    ],
)
def test_row18_semantic_tags(keys: SigningKeys, where: str, value: object, code: str) -> None:
    content: dict[object, object] = {1: "LU", 4: EXP, 6: IAT, -260: {1: DCC}}
    if where == "dcc":
        content[-260] = {1: {**DCC, "ver": value}}
    else:
        content[{"iat": 6, "exp": 4}[where]] = value
    report = expect(encode_hc1(sign1(keys, cbor2.dumps(content))), "cose", code, keys)
    assert len(str(report.to_dict())) < 5000  # nothing huge echoed, nothing crashes


def test_row18_tag0_date_time_string_is_accepted(keys: SigningKeys) -> None:
    entry = {**DCC["t"][0], "sc": cbor2.CBORTag(0, "2021-07-08T11:30:00Z")}
    payload = claims({**DCC, "t": [entry]})
    report = verify(encode_hc1(sign1(keys, payload)), trust=[keys.certificate], now=NOW)
    assert report.valid, report.to_dict()
    assert report.certificate is not None
    assert report.certificate["t"][0]["sc"] == "2021-07-08T11:30:00Z"


def test_row19_invalid_utf8(keys: SigningKeys) -> None:
    payload = claims().replace(b"\x66MUSTER", b"\x66MUST\xff\xfe")
    assert payload != claims()
    expect(encode_hc1(sign1(keys, payload)), "cose", "cbor_invalid", keys)


def test_row20_protected_header_encodings(keys: SigningKeys) -> None:
    not_a_map = cbor2.dumps(7)
    expect(encode_hc1(sign1(keys, protected=not_a_map)), "cose", "cose_header_invalid", keys)
    expect(encode_hc1(sign1(keys, protected=b"\xff")), "cose", "cbor_invalid", keys)
    # Policy: an empty map encoded in the bstr (a0) is accepted like the empty bstr (RFC 9052),
    # here with alg and kid unprotected (as CO20); the signature covers the a0 exactly.
    for empty in (b"", b"\xa0"):
        cose = sign1(keys, protected=empty, unprotected={1: keys.alg, 4: keys.kid})
        report = verify(encode_hc1(cose), trust=[keys.certificate], now=NOW)
        assert report.valid, (empty, report.to_dict())
