"""Every EU interoperability vector (dgc-testdata, ~393 files) against the verifier.

One test per (vector file, EXPECTED* flag), trusting only ``TESTCTX.CERTIFICATE`` and using
``TESTCTX.VALIDATIONCLOCK`` as now. A ``true`` flag needs the matching check to run and
pass; a ``false`` flag needs it to fail, or not to run because an earlier check failed.
Flags the upstream project publishes wrongly sit in :data:`KNOWN_WRONG` (asserted as
expected failures, so a change in behaviour shows up); the NL schema flags, which follow no
schema version, are not asserted (their JSON is still checked by the schema oracle test).
"""

from __future__ import annotations

import base64
import fnmatch
import functools
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography import x509

from hcert.claims import dcc_to_json
from keys.kid import certificate_der, compute_kid, subject_country, thumbprint
from signing.errors import DecodeError
from verifier import CheckName, TrustStore, VerificationReport, validate_dcc, verify
from verifier.dates import parse_date_time
from verifier.qr_read import read_qr
from verifier.trust_lists import read_trust_list

TESTDATA = Path(__file__).resolve().parents[2].parent / "shared" / "dcc-testdata"

SCHEMA = "EXPECTEDSCHEMAVALIDATION"
OBJECT = "EXPECTEDVALIDOBJECT"
DECODE = "EXPECTEDDECODE"
VALID_JSON = "EXPECTEDVALIDJSON"

CHECKS_FOR_FLAG: dict[str, tuple[CheckName, ...]] = {
    "EXPECTEDUNPREFIX": ("prefix",),
    "EXPECTEDB45DECODE": ("base45",),
    "EXPECTEDCOMPRESSION": ("zlib",),
    "EXPECTEDVERIFY": ("kid", "signature"),
    SCHEMA: ("schema",),
    "EXPECTEDEXPIRATIONCHECK": ("expiry",),
    "EXPECTEDKEYUSAGE": ("key_usage",),
}
OTHER_FLAGS = {"EXPECTEDPICTUREDECODE", DECODE, VALID_JSON, OBJECT, "EXPECTEDENCODE"}

# {relative path (glob): (flags, reason)}: the published flag is wrong; we must disagree.
KNOWN_WRONG: dict[str, tuple[frozenset[str], str]] = {
    "ES/2DCode/raw/40[123].json": (
        frozenset({"EXPECTEDVERIFY"}),
        "claims ES256 but the certificate holds a P-384 key (README known issue)",
    ),
    "FR/2DCode/raw/test_pcr_ok.json": (
        frozenset({DECODE, VALID_JSON}),
        "its JSON differs from the signed payload (README known issue)",
    ),
    "PL/1.3.0/2DCode/raw/5.json": (
        frozenset({DECODE, VALID_JSON}),
        "its JSON differs from the signed payload (README known issue)",
    ),
    "PL/*/2DCode/raw/[89].json": (
        frozenset({SCHEMA}),
        "expects an unknown country / manufacturer code to fail the schema: value-set "
        "membership is not schema (README known issue)",
    ),
    "RO/2DCode/raw/2.json": (
        frozenset({SCHEMA}),
        "two vaccination entries; the schema allows exactly one (README known issue)",
    ),
    "SK/2DCode/raw/3.json": (
        frozenset({SCHEMA}),
        "two vaccination entries; the schema allows exactly one (README known issue)",
    ),
    "BG/2DCode/raw/[12].json": (
        frozenset({SCHEMA, OBJECT}),
        "null t/r groups next to v, and a date-time dob (README known issue)",
    ),
    "HU/2DCode/raw/3.json": (
        frozenset({SCHEMA, OBJECT}),
        "t[0].tc longer than 80 characters (README known issue)",
    ),
    "PL/*/2DCode/raw/1[123].json": (
        frozenset({SCHEMA}),
        "v[0].dt holds a date-time; the schema's format is date (ISO 8601 complete date)",
    ),
    "SG/2DCode/raw/4.json": (
        frozenset({SCHEMA}),
        "r[0].fr/df/du hold date-times; the schema's format is date",
    ),
    "PL/*/2DCode/raw/6.json": (
        frozenset({"EXPECTEDKEYUSAGE"}),
        "the flag describes TESTCTX.CERTIFICATE, which did not sign the DCC (its kid is "
        "unknown, EXPECTEDVERIFY is false); key usage is only checked for the signer",
    ),
}
NOT_ASSERTED: dict[str, tuple[frozenset[str], str]] = {
    "NL/2DCode/raw/*.json": (
        frozenset({SCHEMA, OBJECT}),
        "README: the NL schema flags follow no schema version",
    ),
}


def _lookup(table: dict[str, tuple[frozenset[str], str]], rel: str, flag: str) -> str | None:
    for pattern, (flags, reason) in table.items():
        if flag in flags and fnmatch.fnmatchcase(rel, pattern):
            return reason
    return None


def _cases() -> list[Any]:
    if not TESTDATA.is_dir():
        return []
    cases = []
    for path in sorted(TESTDATA.rglob("*.json")):
        rel = path.relative_to(TESTDATA).as_posix()
        results = json.loads(path.read_text(encoding="utf-8"))["EXPECTEDRESULTS"]
        for flag, expected in sorted(results.items()):
            if flag not in CHECKS_FOR_FLAG and flag not in OTHER_FLAGS:
                continue  # typos and nested copies the README says to ignore
            marks = []
            wrong = _lookup(KNOWN_WRONG, rel, flag)
            if wrong is not None:
                marks.append(pytest.mark.xfail(reason=wrong, strict=True))
            skipped = _lookup(NOT_ASSERTED, rel, flag)
            if skipped is not None:
                marks.append(pytest.mark.skip(reason=skipped))
            cases.append(pytest.param(rel, flag, expected, marks=marks, id=f"{rel}:{flag}"))
    return cases


@functools.cache
def _vector(rel: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TESTDATA / rel).read_text(encoding="utf-8"))
    return data


@functools.cache
def _report(rel: str) -> VerificationReport:
    vector = _vector(rel)
    context = vector["TESTCTX"]
    certificate = x509.load_der_x509_certificate(base64.b64decode(context["CERTIFICATE"]))
    clock = context["VALIDATIONCLOCK"]
    now = parse_date_time(clock) or parse_date_time(clock + "Z")  # a few have no offset
    assert now is not None, clock
    return verify(vector["PREFIX"], trust=[certificate], now=now)


def _normalise(value: Any) -> Any:
    """JSON data with date-time strings replaced by the instant they name."""
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    if isinstance(value, str):
        moment = parse_date_time(value)
        return ("instant", moment) if moment is not None else value
    return value


def _checks_pass(report: VerificationReport, names: tuple[CheckName, ...]) -> bool:
    checks = [report.check(name) for name in names]
    return all(check is not None and check.ok for check in checks)


def _picture_decodes(vector: dict[str, Any]) -> bool:
    try:
        return bool(read_qr(base64.b64decode(vector["2DCODE"])) == vector["PREFIX"])
    except DecodeError:
        return False


def _cbor_matches_json(vector: dict[str, Any]) -> bool:
    content = cbor2.loads(bytes.fromhex(vector["CBOR"]))
    if isinstance(content, dict) and -260 in content:
        content = content[-260][1]
    from_json = dcc_to_json(cbor2.loads(cbor2.dumps(vector["JSON"])))
    return bool(_normalise(dcc_to_json(content)) == _normalise(from_json))


def _outcome(rel: str, flag: str, expected: bool) -> bool:
    vector = _vector(rel)
    if flag == "EXPECTEDPICTUREDECODE":
        if "2DCODE" not in vector:
            pytest.skip("EXPECTEDPICTUREDECODE is set but the vector has no 2DCODE")
        return _picture_decodes(vector)
    if flag in (OBJECT, "EXPECTEDENCODE", DECODE, VALID_JSON) and "JSON" not in vector:
        pytest.skip(f"{flag} is set but the vector has no JSON")
    if flag == OBJECT:
        return validate_dcc(vector["JSON"]) == []
    if flag == "EXPECTEDENCODE":
        if "CBOR" not in vector:
            pytest.skip("EXPECTEDENCODE is set but the vector has no CBOR")
        return _cbor_matches_json(vector)
    report = _report(rel)
    assert not (report.error and report.error.code == "internal_error"), report.error
    if flag in (DECODE, VALID_JSON):
        return report.certificate is not None and _normalise(report.certificate) == _normalise(
            vector["JSON"]
        )
    passed = _checks_pass(report, CHECKS_FOR_FLAG[flag])
    if not expected and not passed:
        assert not report.valid  # failed, or left out after an earlier failure
    return passed


@pytest.mark.parametrize(("rel", "flag", "expected"), _cases())
def test_vector_flag(testdata_dir: Path, rel: str, flag: str, expected: bool) -> None:
    assert testdata_dir == TESTDATA
    outcome = _outcome(rel, flag, expected)
    report = _report(rel)
    assert outcome is expected, (report.error, [c.to_dict() for c in report.checks])


def test_every_vector_file_is_collected(testdata_dir: Path) -> None:
    files = sorted(testdata_dir.rglob("*.json"))
    assert len(files) >= 390
    collected = {case.values[0] for case in _cases()}
    assert collected == {path.relative_to(testdata_dir).as_posix() for path in files}


def test_known_wrong_entries_all_match_a_vector(testdata_dir: Path) -> None:
    rels = [path.relative_to(testdata_dir).as_posix() for path in testdata_dir.rglob("*.json")]
    for pattern in (*KNOWN_WRONG, *NOT_ASSERTED):
        assert any(fnmatch.fnmatchcase(rel, pattern) for rel in rels), pattern


# -- the vectors against one trust list of every country's DSC (issue 16) -------------------

FLAGS_FOR_CHECK: dict[CheckName, tuple[str, ...]] = {
    "prefix": ("EXPECTEDUNPREFIX", VALID_JSON),
    "base45": ("EXPECTEDB45DECODE", VALID_JSON),
    "zlib": ("EXPECTEDCOMPRESSION", VALID_JSON),
    "cose": (DECODE, VALID_JSON, "EXPECTEDVERIFY"),
    "kid": ("EXPECTEDVERIFY",),
    "signature": ("EXPECTEDVERIFY",),
    "expiry": ("EXPECTEDEXPIRATIONCHECK",),
    "schema": (SCHEMA,),
    "key_usage": ("EXPECTEDKEYUSAGE",),
}


def _dsc(rel: str) -> x509.Certificate:
    der = base64.b64decode(_vector(rel)["TESTCTX"]["CERTIFICATE"])
    return x509.load_der_x509_certificate(der)


def _now(rel: str) -> datetime:
    clock = _vector(rel)["TESTCTX"]["VALIDATIONCLOCK"]
    now = parse_date_time(clock) or parse_date_time(clock + "Z")
    assert now is not None, clock
    return now


@functools.cache
def _eu_list() -> TrustStore:
    """Every vector's DSC in one gateway-format list, read as an imported list is."""
    entries = {}
    for path in sorted(TESTDATA.rglob("*.json")):
        rel = path.relative_to(TESTDATA).as_posix()
        if "CERTIFICATE" not in _vector(rel).get("TESTCTX", {}):
            continue
        cert = _dsc(rel)
        entry = {
            "certificateType": "DSC",
            "country": subject_country(cert) or rel.split("/")[0],
            "kid": base64.b64encode(compute_kid(cert)).decode(),
            "thumbprint": thumbprint(cert),
            "timestamp": "2021-06-01T00:00:00Z",
            "rawData": base64.b64encode(certificate_der(cert)).decode(),
        }
        entries[entry["thumbprint"]] = entry
    return read_trust_list(json.dumps(list(entries.values())).encode(), name="eu-vectors.json")


def _vector_files() -> list[str]:
    if not TESTDATA.is_dir():
        return []
    return sorted(
        rel
        for path in TESTDATA.rglob("*.json")
        if "CERTIFICATE" in _vector(rel := path.relative_to(TESTDATA).as_posix())["TESTCTX"]
    )


def _excused(rel: str, flags: tuple[str, ...]) -> bool:
    return any(
        _lookup(KNOWN_WRONG, rel, flag) or _lookup(NOT_ASSERTED, rel, flag) for flag in flags
    )


@pytest.mark.parametrize("rel", _vector_files())
def test_vector_with_every_countrys_trust_list(rel: str) -> None:
    """Trusting the list of all countries' DSCs, a vector verifies or fails a check whose
    flag its expected results set to false (or leave out: that step is not tested with the
    file); a kid in no list is never called forged."""
    expected = _vector(rel)["EXPECTEDRESULTS"]
    report = verify(_vector(rel)["PREFIX"], trust=_eu_list(), now=_now(rel))
    for check in report.checks:
        if check.ok or check.name == "rules":  # rules: the destination's policy, no flag
            continue
        flags = FLAGS_FOR_CHECK[check.name]
        named = any(expected.get(flag) is False for flag in flags)
        untested = all(flag not in expected for flag in flags)
        assert named or untested or _excused(rel, flags), (check, expected)
    if report.error is not None and report.error.code == "kid_unknown":
        assert report.check("signature") is None
    if report.valid:
        assert report.trust_list is not None
        assert report.trust_list.name == "eu-vectors.json"


@pytest.mark.parametrize("rel", _vector_files())
def test_vector_whose_issuer_is_in_no_list_cannot_be_checked(rel: str) -> None:
    """Without its own DSC in the list, a vector that verifies with it is "cannot check
    this issuer" (kid_unknown), never a failed signature."""
    expected = _vector(rel)["EXPECTEDRESULTS"]
    if expected.get("EXPECTEDVERIFY") is not True or _excused(rel, ("EXPECTEDVERIFY",)):
        pytest.skip("the vector is not expected to verify with its DSC")
    own = certificate_der(_dsc(rel))
    others = [
        entry.certificate
        for kid_entries in (_eu_list().candidates(kid) for kid in _all_kids())
        for entry in kid_entries
        if certificate_der(entry.certificate) != own
    ]
    report = verify(_vector(rel)["PREFIX"], trust=others, now=_now(rel))
    assert report.error is not None
    assert report.error.code == "kid_unknown", report.error
    assert report.check("signature") is None
    other_failures = [c for c in report.checks if not c.ok and c.name != "kid"]
    assert report.verdict == ("invalid" if other_failures else "issuer_unknown")


@functools.cache
def _all_kids() -> tuple[bytes, ...]:
    return tuple(sorted({compute_kid(_dsc(rel)) for rel in _vector_files()}))
