"""The verifier's ``revocation`` check, against lists built from hashes computed here from
the specification's text (hcert.md §8), not with the code under test."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hcert.hc1 import decode_hc1
from issuer.issuer import IssuedCertificate
from keys.load import SigningKeys
from signing.cose import parse_sign1
from signing.errors import DccError
from tests.conftest import FIXED_NOW, IssuerFactory
from verifier import CHECK_NAMES, RevocationList, load_revocation_lists, verify

NOW = FIXED_NOW + timedelta(minutes=1)


def spec_hash(data: bytes) -> str:
    """ "first 128 bits of SHA-256, base64 (24 chars ending ==)"."""
    return base64.b64encode(hashlib.sha256(data).digest()[:16]).decode()


def spec_hashes(issued: IssuedCertificate) -> dict[str, str]:
    """SIGNATURE: r alone for ES256 (first 32 bytes), the whole signature for PS256;
    UCI: the ci string, UTF-8; COUNTRYCODEUCI: iss followed by ci, UTF-8."""
    signature = parse_sign1(decode_hc1(issued.hc1)).signature
    signed = signature[:32] if len(signature) == 64 else signature
    ci = issued.certificate["t"][0]["ci"]
    return {
        "SIGNATURE": spec_hash(signed),
        "UCI": spec_hash(ci.encode()),
        "COUNTRYCODEUCI": spec_hash(("LU" + ci).encode()),
    }


@pytest.fixture(params=["ES256", "PS256"])
def keys(request: pytest.FixtureRequest) -> SigningKeys:
    found: SigningKeys = request.getfixturevalue(f"{request.param.lower()}_keys")
    return found


def _batch(keys: SigningKeys, hash_type: str, value: str) -> dict[str, Any]:
    kid = base64.b64encode(keys.kid).decode()
    entries = [{"hash": value}]
    return {"country": "LU", "kid": kid, "hashType": hash_type, "entries": entries}


@pytest.mark.parametrize("hash_type", ["SIGNATURE", "UCI", "COUNTRYCODEUCI"])
def test_each_hash_type_revokes_and_others_still_verify(
    keys: SigningKeys, build_issuer: IssuerFactory, rat_request: dict[str, Any], hash_type: str
) -> None:
    issuer = build_issuer(keys)
    revoked, kept = issuer.issue(rat_request), issuer.issue(rat_request)
    revocations = RevocationList.from_documents(
        [{"batches": [_batch(keys, hash_type, spec_hashes(revoked)[hash_type])]}]
    )
    report = verify(revoked.hc1, trust=[keys.certificate], now=NOW, revocation=revocations)
    assert not report.valid
    assert report.error is not None
    assert (report.error.check, report.error.code) == ("revocation", "revoked")
    assert hash_type in report.error.message
    assert [check.name for check in report.checks] == list(CHECK_NAMES)
    fine = verify(kept.hc1, trust=[keys.certificate], now=NOW, revocation=revocations)
    assert fine.valid, fine.to_dict()
    assert fine.check("revocation") is not None


def test_no_list_no_check_and_an_unverified_signature_is_never_looked_up(
    es256_keys: SigningKeys, build_issuer: IssuerFactory, rat_request: dict[str, Any]
) -> None:
    issued = build_issuer(es256_keys).issue(rat_request)
    report = verify(issued.hc1, trust=[es256_keys.certificate], now=NOW)
    assert report.valid
    assert report.check("revocation") is None
    revocations = RevocationList.from_documents(
        [[_batch(es256_keys, "UCI", spec_hashes(issued)["UCI"])]]
    )
    untrusted = verify(issued.hc1, trust=[], now=NOW, revocation=revocations)
    assert untrusted.check("revocation") is None


def test_lists_load_from_files_and_bad_files_are_refused(
    tmp_path: Path,
    es256_keys: SigningKeys,
    build_issuer: IssuerFactory,
    rat_request: dict[str, Any],
) -> None:
    issued = build_issuer(es256_keys).issue(rat_request)
    first, second = tmp_path / "ours.json", tmp_path / "imported.json"
    first.write_text(json.dumps({"country": "LU", "batches": []}))
    second.write_text(json.dumps(_batch(es256_keys, "SIGNATURE", spec_hashes(issued)["SIGNATURE"])))
    revocations = load_revocation_lists([first, second])
    report = verify(issued.hc1, trust=[es256_keys.certificate], now=NOW, revocation=revocations)
    assert report.error is not None
    assert report.error.code == "revoked"
    (tmp_path / "bad.json").write_text("{nope")
    for path in (tmp_path / "bad.json", tmp_path / "missing.json"):
        with pytest.raises(DccError) as caught:
            load_revocation_lists([path])
        assert caught.value.code == "revocation_list_invalid"
