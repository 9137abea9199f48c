"""Trust lists: export → parse round trip, every accepted input form, and bounded refusals."""

from __future__ import annotations

import base64
import hashlib
import json
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.generate import generate_keys
from keys.kid import compute_kid, kid_b64, subject_country
from keys.load import load_certificate
from keys.trust_list import (
    MAX_TRUST_LIST_BYTES,
    MAX_TRUST_LIST_ENTRIES,
    export_trust_list,
    parse_certificates,
    trust_list_entry,
)
from signing.errors import KeyMaterialError

NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER


@pytest.fixture(scope="module")
def dscs(tmp_path_factory: pytest.TempPathFactory) -> list[x509.Certificate]:
    """Two generated DSCs (LU and BE) and their CSCAs' directory layout."""
    certs = []
    for country in ("LU", "BE"):
        directory = tmp_path_factory.mktemp(country)
        generated = generate_keys(directory, country=country, now=NOW)
        certs.append(load_certificate(generated.dsc_cert_path))
    return certs


@pytest.fixture(scope="module")
def csca(tmp_path_factory: pytest.TempPathFactory) -> x509.Certificate:
    """A generated CSCA certificate."""
    generated = generate_keys(tmp_path_factory.mktemp("csca"), now=NOW)
    return load_certificate(generated.csca_cert_path)


@pytest.fixture(scope="module")
def eu_dscs(testdata_dir: Path) -> list[x509.Certificate]:
    """The DSCs of every EU vector under LU/ and common/ (deduplicated by DER)."""
    found: dict[bytes, x509.Certificate] = {}
    for path in sorted(
        [*testdata_dir.glob("LU/2DCode/raw/*.json"), *testdata_dir.glob("common/2DCode/raw/*.json")]
    ):
        context = json.loads(path.read_text(encoding="utf-8")).get("TESTCTX", {})
        if "CERTIFICATE" in context:
            der = base64.b64decode(context["CERTIFICATE"])
            found.setdefault(der, x509.load_der_x509_certificate(der))
    assert found
    return list(found.values())


def _der(certs: list[x509.Certificate]) -> list[bytes]:
    return [cert.public_bytes(DER) for cert in certs]


def _code(data: bytes) -> str:
    with pytest.raises(KeyMaterialError) as info:
        parse_certificates(data)
    return info.value.code


def _parse_or_code(data: bytes) -> list[x509.Certificate] | str:
    """The certificates, or the error code when parse_certificates refuses."""
    try:
        return parse_certificates(data)
    except KeyMaterialError as exc:
        return exc.code


def test_entry_fields(dscs: list[x509.Certificate]) -> None:
    """kid, country, certificateType, thumbprint, timestamp, rawData as the DCCG has them."""
    cert = dscs[0]
    entry = trust_list_entry(cert)
    der = cert.public_bytes(DER)
    assert list(entry) == [
        "kid",
        "country",
        "certificateType",
        "thumbprint",
        "timestamp",
        "rawData",
    ]
    assert entry["kid"] == kid_b64(compute_kid(cert))
    assert base64.b64decode(str(entry["kid"])) == hashlib.sha256(der).digest()[:8]
    assert entry["country"] == "LU"
    assert entry["certificateType"] == "DSC"
    assert entry["thumbprint"] == hashlib.sha256(der).hexdigest()
    assert entry["timestamp"] == "2025-06-01T08:00:00+00:00"
    assert datetime.fromisoformat(str(entry["timestamp"])) == cert.not_valid_before_utc
    assert base64.b64decode(str(entry["rawData"]), validate=True) == der
    json.dumps(entry)  # JSON-serialisable as is


def test_entry_timestamp_argument(dscs: list[x509.Certificate]) -> None:
    """An explicit aware timestamp keeps its offset; a naive one is refused."""
    cet = timezone(timedelta(hours=2))
    entry = trust_list_entry(dscs[0], timestamp=datetime(2025, 6, 2, 10, 12, 8, tzinfo=cet))
    assert entry["timestamp"] == "2025-06-02T10:12:08+02:00"
    with pytest.raises(ValueError, match="timezone-aware"):
        trust_list_entry(dscs[0], timestamp=datetime(2025, 6, 2))


def test_lu_dsc_entry(eu_dscs: list[x509.Certificate]) -> None:
    """The LU test DSC exports with the EU kid mRxapyixSJ0= and country LU."""
    with_country = [cert for cert in eu_dscs if subject_country(cert) is not None]
    entries = [e for e in export_trust_list(with_country) if e["kid"] == "mRxapyixSJ0="]
    assert len(entries) == 1
    assert entries[0]["country"] == "LU"


def test_entry_needs_a_country(eu_dscs: list[x509.Certificate]) -> None:
    """The EU vectors' 'CN=EC-Me' DSCs have no C=: no entry can be made for them."""
    no_country = [c for c in eu_dscs if c.subject.rfc4514_string() == "CN=EC-Me"]
    assert no_country
    with pytest.raises(KeyMaterialError) as info:
        trust_list_entry(no_country[0])
    assert info.value.code == "certificate_country_missing"


def test_export_parse_round_trip(dscs: list[x509.Certificate]) -> None:
    """export_trust_list → JSON → parse_certificates gives the same certificates, in order."""
    data = json.dumps(export_trust_list(dscs)).encode()
    assert _der(parse_certificates(data)) == _der(dscs)
    assert export_trust_list([]) == []


def test_eu_certificates_parse_as_base64_der(eu_dscs: list[x509.Certificate]) -> None:
    """Every EU vector DSC (EC, RSA 3072, empty EKU) reads from its base64 DER."""
    for cert in eu_dscs:
        text = base64.b64encode(cert.public_bytes(DER))
        assert _der(parse_certificates(text)) == _der([cert])


def test_pem_one_and_several(dscs: list[x509.Certificate]) -> None:
    """PEM with one certificate, or several with text around them."""
    one = dscs[0].public_bytes(PEM)
    assert _der(parse_certificates(one)) == _der(dscs[:1])
    several = b"subject=LU\n" + one + b"\nsubject=BE\n" + dscs[1].public_bytes(PEM)
    assert _der(parse_certificates(several)) == _der(dscs)


def test_der(dscs: list[x509.Certificate]) -> None:
    """Raw DER."""
    assert _der(parse_certificates(dscs[1].public_bytes(DER))) == _der(dscs[1:])


def test_base64_der_with_and_without_whitespace(dscs: list[x509.Certificate]) -> None:
    """Base64 DER on one line, wrapped at 64 characters, or with CRLF and indentation."""
    text = base64.b64encode(dscs[0].public_bytes(DER)).decode()
    wrapped = "\n".join(textwrap.wrap(text, 64)) + "\n"
    indented = "\r\n  ".join(textwrap.wrap(text, 76))
    for form in (text, wrapped, indented):
        assert _der(parse_certificates(form.encode())) == _der(dscs[:1])


def test_gateway_and_single_entry_shapes(dscs: list[x509.Certificate]) -> None:
    """{"certificates": [...]} and a lone entry object (with a UTF-8 BOM) are accepted."""
    entries = export_trust_list(dscs)
    gateway = json.dumps({"certificates": entries}).encode()
    assert _der(parse_certificates(gateway)) == _der(dscs)
    single = b"\xef\xbb\xbf" + json.dumps(entries[1]).encode()
    assert _der(parse_certificates(single)) == _der(dscs[1:])


def test_german_two_line_list(dscs: list[x509.Certificate]) -> None:
    """Line 1 (base64 signature, not verified) is skipped; line 2's JSON is read."""
    body = json.dumps({"certificates": export_trust_list(dscs)}, separators=(",", ":"))
    for signature in ("MEUCIQDmZk2yS2r1Y8E3rT3sZ0b1lwc0uIr7f6s6wE0=", "0" * 88):
        data = f"{signature}\n{body}".encode()
        assert _der(parse_certificates(data)) == _der(dscs)


def test_deleted_and_non_dsc_entries_are_skipped(
    dscs: list[x509.Certificate], csca: x509.Certificate
) -> None:
    """rawData null (deleted DSC) and certificateType CSCA/UPLOAD are left out."""
    entries = export_trust_list(dscs)
    csca_entry = {**trust_list_entry(csca), "certificateType": "CSCA"}
    upload_entry = {**entries[0], "certificateType": "UPLOAD"}
    deleted = {**entries[1], "rawData": None}
    data = json.dumps([csca_entry, upload_entry, deleted, entries[0]]).encode()
    assert _der(parse_certificates(data)) == _der(dscs[:1])
    assert parse_certificates(json.dumps([deleted]).encode()) == []


def test_wrong_kid_field_is_ignored(dscs: list[x509.Certificate]) -> None:
    """The certificate is kept; consumers recompute the kid from rawData."""
    entry = {**trust_list_entry(dscs[0]), "kid": "AAAAAAAAAAA="}
    (cert,) = parse_certificates(json.dumps([entry]).encode())
    assert kid_b64(compute_kid(cert)) != "AAAAAAAAAAA="


def test_duplicates_appear_once(dscs: list[x509.Certificate]) -> None:
    """The same certificate twice is returned once."""
    pem = dscs[0].public_bytes(PEM)
    assert len(parse_certificates(pem + pem)) == 1


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \n\t",
        b"hello world",
        b"\xff\xfe\x00garbage",
        b"\x30\x82\x01\x00truncated DER",
        b"MIIBaGVsbG8=",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        b"-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n",
        b"{}",
        b'{"certificates": {}}',
        b'"MIIB"',
        b"42",
        b"[1, 2]",
        b'[{"kid": "AAAAAAAAAAA="}]',
        b'[{"rawData": 12}]',
        b'[{"rawData": "not base64!"}]',
        b'[{"rawData": "aGVsbG8="}]',
        b"[" * 100_000,
        b'[{"rawData": "MIIB"',
        b"signature\nnot json {",
    ],
)
def test_garbage_is_refused(data: bytes) -> None:
    """Anything unreadable raises trust_list_invalid (never another exception)."""
    assert _code(data) == "trust_list_invalid"


def test_oversize_is_refused_unparsed() -> None:
    """Over 16 MiB is refused before parsing."""
    data = b"[" + b" " * MAX_TRUST_LIST_BYTES + b"]"
    with pytest.raises(KeyMaterialError) as info:
        parse_certificates(data)
    assert info.value.code == "trust_list_invalid"
    assert "larger than" in info.value.message


def test_too_many_entries_are_refused() -> None:
    """More than 10,000 entries is refused, even if each would be skipped."""
    at_limit = json.dumps([{"rawData": None}] * MAX_TRUST_LIST_ENTRIES).encode()
    assert parse_certificates(at_limit) == []
    over = json.dumps({"certificates": [{"rawData": None}] * (MAX_TRUST_LIST_ENTRIES + 1)})
    with pytest.raises(KeyMaterialError) as info:
        parse_certificates(over.encode())
    assert info.value.code == "trust_list_invalid"
    assert "10000" in info.value.message


def test_too_many_pem_certificates_are_refused(dscs: list[x509.Certificate]) -> None:
    """The entry bound applies to PEM bundles too."""
    pem = dscs[0].public_bytes(PEM)
    assert _code(pem * (MAX_TRUST_LIST_ENTRIES + 1)) == "trust_list_invalid"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_parse_or_raise_our_error(data: bytes) -> None:
    """Any bytes: a list of certificates or KeyMaterialError, nothing else."""
    result = _parse_or_code(data)
    if isinstance(result, str):
        assert result == "trust_list_invalid"
    else:
        assert all(isinstance(cert, x509.Certificate) for cert in result)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["rawData", "certificateType", "certificates", "kid", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_arbitrary_json_parse_or_raise_our_error(value: object) -> None:
    """Any JSON document: a list or trust_list_invalid."""
    result = _parse_or_code(json.dumps(value).encode())
    assert result in ("trust_list_invalid", [])


def test_a_der_ending_in_a_whitespace_byte_is_read_whole() -> None:
    """A DER whose last byte is 0x09-0x0d or 0x20 (about one signature in 40) was cut by the
    strip meant for text forms: seen as a flaky `dcc verify --trust dsc.der`."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "LU")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2021, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2031, 1, 1, tzinfo=UTC))
    )
    for _ in range(5000):  # ECDSA signatures are random: the last byte changes each time
        der = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
        if der[-1:] in (b"\t", b"\n", b"\x0b", b"\x0c", b"\r", b" "):
            break
    else:
        pytest.fail("no DER ending in a whitespace byte in 5,000 signatures")
    assert [c.public_bytes(serialization.Encoding.DER) for c in parse_certificates(der)] == [der]
