"""Another country's issuer for tests: its keys, a certificate it signs, its trust list.

Trust-list tests need certificates this service did not sign: :func:`foreign_keys` makes a
CSCA and DSC for any country, :func:`foreign_hc1` issues a negative RAT certificate with
them (the real issuer), :func:`gateway_list` publishes DSCs in the EU gateway's JSON and
:func:`german_list` in the German signed two-line format.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from hcert.valuesets import DeviceRegistry
from issuer.issuer import Issuer, IssuerConfig
from keys.generate import generate_keys
from keys.load import SigningKeys, load_signing_keys
from keys.trust_list import trust_list_entry
from signing.pool import SignerPool
from signing.signer import LocalSigner

__all__ = ["PERSON", "foreign_hc1", "foreign_keys", "gateway_list", "german_list"]

PERSON = {"family_name": "Rossi", "given_name": "Maria", "date_of_birth": "1985-03-02"}


def foreign_keys(folder: Path, country: str, *, now: datetime | None = None) -> SigningKeys:
    """A CSCA and DSC of ``country`` (valid from 30 days before ``now``) in ``folder``."""
    moment = now or datetime.now(UTC)
    generate_keys(folder, country=country, now=moment - timedelta(days=30))
    return load_signing_keys(folder, now=moment)


def foreign_hc1(keys: SigningKeys, *, now: datetime | None = None) -> str:
    """A negative RAT certificate signed with ``keys``, sampled an hour before ``now``."""
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    issuer = Issuer(
        IssuerConfig(country=keys.country, issuer_name=f"Ministry of Health {keys.country}"),
        pool=SignerPool([LocalSigner(keys.private_key, keys.kid)]),
        devices=DeviceRegistry.format_only(),
        not_after=keys.not_after,
        clock=lambda: moment,
    )
    test = {
        "type": "rapid-antigen",
        "device": "1232",
        "result": "not-detected",
        "sample_collected_at": (moment - timedelta(hours=1)).isoformat(),
        "facility": "Centro test",
    }
    return issuer.issue({"person": PERSON, "test": test}).hc1


def gateway_list(*keys: SigningKeys, stamp: datetime | None = None) -> bytes:
    """The gateway's ``/trustList/DSC`` JSON for the DSCs of ``keys`` (plus a CSCA entry and a
    deleted DSC, which a reader must skip), each entry dated ``stamp``."""
    entries: list[dict[str, object]] = [
        trust_list_entry(item.certificate, timestamp=stamp) for item in keys
    ]
    entries.append({"certificateType": "CSCA", "rawData": "ignored", "country": "IT"})
    entries.append({"certificateType": "DSC", "rawData": None, "country": "IT"})
    return json.dumps(entries).encode()


def german_list(
    content: bytes, publisher: ec.EllipticCurvePrivateKey, *, raw: bool = True
) -> bytes:
    """``content`` in the German two-line format: base64 signature (raw r||s or DER), newline,
    content."""
    der = publisher.sign(content, ec.ECDSA(hashes.SHA256()))
    if raw:
        r, s = decode_dss_signature(der)
        der = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return base64.b64encode(der) + b"\n" + content
