"""What the fuzzer mutates: a valid test certificate, and a way to re-sign anything.

Re-signing matters: a mutated claims map that is validly signed gets past the signature
check and reaches the schema, the rules and the report encoder, where a byte flip never
arrives (the signature stops it first).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import cbor2
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from hcert.hc1 import encode_hc1
from keys.generate import generate_keys
from keys.load import SigningKeys, load_signing_keys
from signing.algorithms import sign_raw
from signing.cose import sig_structure
from verifier import TrustStore

__all__ = ["NOW", "SEED_DCC", "FuzzTarget", "make_target"]

NOW: Final = datetime(2021, 7, 8, 12, 31, tzinfo=UTC)
_IAT: Final = int(NOW.timestamp()) - 60
_EXP: Final = _IAT + 48 * 3600

SEED_DCC: Final[dict[str, Any]] = {
    "ver": "1.3.0",
    "nam": {"fn": "Muster", "fnt": "MUSTER", "gn": "Erika", "gnt": "ERIKA"},
    "dob": "1985-01-31",
    "t": [
        {
            "tg": "840539006",
            "tt": "LP217198-3",
            "ma": "1232",
            "sc": "2021-07-08T10:00:00Z",
            "tr": "260415000",
            "tc": "Test centre",
            "co": "LU",
            "is": "Ministry of Health",
            "ci": "URN:UVCI:01:LU:FUZZ0001#Q",
        }
    ],
}


@dataclass(frozen=True)
class FuzzTarget:
    """Signing keys, the trust store holding their DSC, and the validation time."""

    keys: SigningKeys
    trust: TrustStore
    now: datetime = NOW

    def _private_key(self) -> EllipticCurvePrivateKey | RSAPrivateKey:
        key = self.keys.private_key
        if key is None:
            raise RuntimeError("the fuzz target signs with a file key, not a token key")
        return key

    def claims(self) -> dict[object, Any]:
        """A fresh copy of the seed's CWT claims map (free to mutate)."""
        return {1: "LU", 4: _EXP, 6: _IAT, -260: {1: copy.deepcopy(SEED_DCC)}}

    def protected(self) -> dict[object, Any]:
        """A fresh copy of the seed's protected header map."""
        return {1: self.keys.alg, 4: self.keys.kid}

    def cose(self, claims: object, protected: object | None = None) -> bytes:
        """COSE_Sign1 (tag 18) over ``claims``, validly signed with the target's key."""
        payload = cbor2.dumps(claims)
        raw = cbor2.dumps(self.protected() if protected is None else protected)
        signature = sign_raw(self._private_key(), self.keys.alg, sig_structure(raw, payload))
        return cbor2.dumps(cbor2.CBORTag(18, [raw, {}, payload, signature]))

    def hc1(self, claims: object, protected: object | None = None) -> str:
        """The HC1 text of :meth:`cose`."""
        return encode_hc1(self.cose(claims, protected))

    def hc1_signed_payload(self, payload: bytes) -> str:
        """HC1 of a COSE_Sign1 over ``payload`` (any bytes), validly signed."""
        raw = cbor2.dumps(self.protected())
        signature = sign_raw(self._private_key(), self.keys.alg, sig_structure(raw, payload))
        return encode_hc1(cbor2.dumps(cbor2.CBORTag(18, [raw, {}, payload, signature])))

    def seed(self) -> str:
        """The valid seed certificate."""
        return self.hc1(self.claims())


def make_target(folder: Path) -> FuzzTarget:
    """Generate a CSCA and DSC in ``folder`` valid at :data:`NOW`."""
    generate_keys(folder, now=NOW - timedelta(days=7))
    keys = load_signing_keys(folder, now=NOW)
    return FuzzTarget(keys, TrustStore([keys.certificate]))
