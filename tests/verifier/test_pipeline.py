"""verifier.verify end to end: what the issuer makes verifies, the report contract, inputs.

The round trip uses the real issuer (``issuer.issuer.Issuer``) with generated ES256 and
PS256 keys: every RAT and NAAT certificate it issues must verify valid, from the HC1 text
and from the rendered QR PNG.
"""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import verifier.trust
from hcert.base45 import b45encode
from hcert.valuesets import DeviceRegistry
from issuer.issuer import IssuedCertificate, Issuer, IssuerConfig
from issuer.render.qr import render_png
from keys.generate import generate_keys
from keys.load import SigningKeys, load_signing_keys
from signing.pool import SignerPool
from signing.signer import LocalSigner
from verifier import CHECK_NAMES, LU_2021_12, TrustStore, verify

NOW = datetime(2021, 7, 8, 12, 31, tzinfo=UTC)
PERSON = {
    "family_name": "Müller-Schmidt",
    "given_name": "Anna Maria",
    "date_of_birth": "1985-03-02",
}
RAT = {
    "type": "rapid-antigen",
    "device": "1232",
    "result": "not-detected",
    "sample_collected_at": "2021-07-08T14:30:00+02:00",
    "facility": "Pharmacie du Centre",
}
NAAT = {
    "type": "naat",
    "result": "not-detected",
    "name": "PCR kit",
    "sample_collected_at": "2021-07-07T09:00:00Z",
}
REPORT_KEYS = {"valid", "verdict", "checks", "error", "kid", "issuer", "issued_at", "expires_at"}


@pytest.fixture(scope="module", params=["ES256", "PS256"])
def keys(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SigningKeys:
    folder: Path = tmp_path_factory.mktemp(request.param)
    generate_keys(folder, alg=request.param, now=NOW - timedelta(days=30))
    return load_signing_keys(folder, now=NOW)


def _issue(
    keys: SigningKeys, test: dict[str, str], devices: DeviceRegistry | None = None
) -> IssuedCertificate:
    issuer = Issuer(
        IssuerConfig(),
        pool=SignerPool([LocalSigner(keys.private_key, keys.kid)]),
        devices=devices or DeviceRegistry.format_only(),
        not_after=keys.not_after,
        clock=lambda: NOW,
    )
    return issuer.issue({"person": PERSON, "test": test})


@pytest.mark.parametrize("test", [RAT, NAAT], ids=["RAT", "NAAT"])
def test_round_trip_every_issued_certificate_verifies(
    keys: SigningKeys, test: dict[str, str]
) -> None:
    issued = _issue(keys, test)
    report = verify(issued.hc1, trust=[keys.certificate], now=NOW + timedelta(minutes=1))
    assert report.valid, report.to_dict()
    assert [c.name for c in report.checks] == [n for n in CHECK_NAMES if n != "revocation"]
    assert report.certificate == issued.certificate
    response = issued.to_response()
    assert report.kid == response["kid"]
    assert report.issued_at == response["issued_at"]
    assert report.expires_at == response["expires_at"]
    assert report.issuer == "LU"
    assert report.cert_type == "test"
    qr = verify(render_png(issued.hc1), trust=[keys.certificate], now=NOW)
    assert qr.valid
    assert qr.certificate == issued.certificate


def test_report_json_contract(keys: SigningKeys) -> None:
    issued = _issue(keys, RAT)
    good = verify(issued.hc1, trust=[keys.certificate], now=NOW).to_dict()
    assert set(good) == REPORT_KEYS | {"certificate"}
    assert good["error"] is None
    assert good["valid"] is True
    assert good["verdict"] == "valid"
    assert all(set(c) <= {"name", "ok", "detail"} and c["ok"] for c in good["checks"])
    expired = verify(issued.hc1, trust=[keys.certificate], now=NOW + timedelta(days=3))
    document = expired.to_dict()
    assert document["valid"] is False
    assert document["verdict"] == "invalid"
    assert document["error"]["check"] == "expiry"
    assert document["error"]["code"] == "expired"
    assert document["checks"][6] == {
        "name": "expiry",
        "ok": False,
        "detail": f"expired at {issued.to_response()['expires_at']}",
        "code": "expired",
    }
    assert "verified" not in document  # the signature did verify
    broken = verify("HC1:" + b45encode(b"not zlib"), trust=[keys.certificate], now=NOW).to_dict()
    assert set(broken) == REPORT_KEYS
    assert broken["checks"] == [
        {"name": "prefix", "ok": True},
        {"name": "base45", "ok": True},
        {
            "name": "zlib",
            "ok": False,
            "detail": broken["checks"][2]["detail"],
            "code": "zlib_invalid",
        },
    ]


def test_profiles_and_device_list(keys: SigningKeys, valuesets_file: Path) -> None:
    issued = _issue(keys, RAT)  # sample 12:30 UTC on 8 July
    report = verify(issued.hc1, trust=[keys.certificate], now=NOW + timedelta(hours=25))
    assert report.valid, report.to_dict()
    strict = verify(
        issued.hc1, trust=[keys.certificate], now=NOW + timedelta(hours=25), profile=LU_2021_12
    )
    assert strict.error is not None
    assert strict.error.code == "test_too_old"
    devices = DeviceRegistry.from_file(valuesets_file)
    listed = _issue(keys, {**RAT, "device": "1232"}, devices)
    assert verify(listed.hc1, trust=[keys.certificate], now=NOW, devices=devices).valid
    unlisted = _issue(keys, {**RAT, "device": "99999"})
    report = verify(unlisted.hc1, trust=[keys.certificate], now=NOW, devices=devices)
    assert report.error is not None
    assert report.error.code == "rat_device_unknown"
    assert verify(unlisted.hc1, trust=[keys.certificate], now=NOW).valid  # no list: no check


def test_inputs(keys: SigningKeys) -> None:
    issued = _issue(keys, NAAT)
    trust = TrustStore([keys.certificate])
    assert verify(issued.hc1.encode("ascii"), trust=trust, now=NOW).valid
    assert verify(bytearray(issued.hc1.encode("ascii")), trust=trust, now=NOW).valid
    blank = io.BytesIO()
    Image.new("L", (64, 64), 255).save(blank, format="PNG")
    for data, code in (
        (blank.getvalue(), "qr_not_found"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image_invalid"),
        (b"\xff\xd8\xff" + b"\x00" * 40, "image_invalid"),
        (None, "input_invalid"),
        (42, "input_invalid"),
    ):
        report = verify(data, trust=trust, now=NOW)  # type: ignore[arg-type]
        assert report.error is not None
        assert (report.error.check, report.error.code) == (
            "prefix",
            code,
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(issued.hc1, trust=trust, now=NOW.replace(tzinfo=None))


def test_a_bug_becomes_a_report(keys: SigningKeys, monkeypatch: pytest.MonkeyPatch) -> None:
    issued = _issue(keys, NAAT)

    def explode(dcc: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr("verifier.pipeline.validate_dcc", explode)
    report = verify(issued.hc1, trust=[keys.certificate], now=NOW)
    assert report.error is not None
    assert (report.error.check, report.error.code) == ("schema", "internal_error")
    assert not report.valid


def test_repeated_verification_does_the_per_certificate_work_once(
    keys: SigningKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one TrustStore, verifying again repeats no per-certificate work: the public key
    is read when the store is built, the allowed types (EKU) at the first verification.
    How fast one verification is: ``loadtests.bench_verify`` (BENCHMARKS.md §2)."""
    issued = _issue(keys, RAT)
    reads: list[str] = []
    read_public_key, read_eku = verifier.trust._public_key, verifier.trust.allowed_cert_types

    def public_key(cert: Any) -> Any:
        reads.append("public key")
        return read_public_key(cert)

    def allowed_cert_types(cert: Any) -> Any:
        reads.append("eku")
        return read_eku(cert)

    monkeypatch.setattr(verifier.trust, "_public_key", public_key)
    monkeypatch.setattr(verifier.trust, "allowed_cert_types", allowed_cert_types)
    store = TrustStore([keys.certificate])
    assert reads == ["public key"]
    for _ in range(50):
        assert verify(issued.hc1, trust=store, now=NOW).valid
    assert reads == ["public key", "eku"]
    assert base64.b64decode(verify(issued.hc1, trust=store, now=NOW).kid or "") == keys.kid
