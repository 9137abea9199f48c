"""Properties of verify over random and mutated input (hypothesis, ~200 examples in all).

* any text or bytes gives a report, never an exception (how much work hostile input can
  cause is bounded per layer, tested in tests/hcert/test_hc1.py and signing/test_cbor.py);
* a mutation of a valid certificate (characters of the HC1 text, or bytes of the COSE
  message) either fails verification or leaves the verified claims unchanged.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hcert.base45 import ALPHABET, b45encode
from hcert.hc1 import decode_hc1, encode_hc1
from hcert.valuesets import DeviceRegistry
from issuer.issuer import Issuer, IssuerConfig
from keys.generate import generate_keys
from keys.load import load_signing_keys
from signing.pool import SignerPool
from signing.signer import LocalSigner
from verifier import TrustStore, VerificationReport, verify

NOW = datetime(2021, 7, 8, 12, 31, tzinfo=UTC)
REQUEST = {
    "person": {"family_name": "Ñúñez", "given_name": "José", "date_of_birth": "1990-12"},
    "test": {
        "type": "rapid-antigen",
        "device": "1232",
        "result": "not-detected",
        "sample_collected_at": "2021-07-08T11:00:00Z",
    },
}


class Certificate:
    """A valid issued certificate and what verifying it yields."""

    def __init__(self, folder: Path) -> None:
        generate_keys(folder, now=NOW - timedelta(days=1))
        keys = load_signing_keys(folder, now=NOW)
        issuer = Issuer(
            IssuerConfig(),
            pool=SignerPool([LocalSigner(keys.private_key, keys.kid)]),
            devices=DeviceRegistry.format_only(),
            not_after=keys.not_after,
            clock=lambda: NOW,
        )
        self.hc1 = issuer.issue(REQUEST).hc1
        self.trust = TrustStore([keys.certificate])
        self.report = self.check(self.hc1)
        assert self.report.valid

    def check(self, data: str | bytes) -> VerificationReport:
        report = verify(data, trust=self.trust, now=NOW)
        assert report.error is None or report.error.code != "internal_error", report.error
        assert report.valid == (report.error is None)
        return report

    def assert_fails_or_same(self, data: str | bytes) -> None:
        report = self.check(data)
        if report.valid:
            assert report.certificate == self.report.certificate
            assert (report.issuer, report.issued_at, report.expires_at) == (
                self.report.issuer,
                self.report.issued_at,
                self.report.expires_at,
            )


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return Certificate(tmp_path_factory.mktemp("keys"))


@settings(max_examples=50, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=300),
        st.text(alphabet=ALPHABET, max_size=300).map(lambda body: "HC1:" + body),
    )
)
def test_random_text_gives_a_report(certificate: Certificate, text: str) -> None:
    assert not certificate.check(text).valid


@settings(max_examples=40, deadline=None)
@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.binary(max_size=400).map(lambda raw: encode_hc1(raw)),
        st.binary(max_size=300).map(
            lambda raw: "HC1:" + b45encode(zlib.compress(b"\xd2\x84" + raw))
        ),
    )
)
def test_random_bytes_give_a_report(certificate: Certificate, data: bytes | str) -> None:
    assert not certificate.check(data).valid


_EDITS = st.lists(
    st.tuples(
        st.sampled_from(["substitute", "insert", "delete"]),
        st.integers(min_value=0, max_value=10_000),
        st.sampled_from(ALPHABET + "a\x00é"),
    ),
    min_size=1,
    max_size=3,
)


def _edit(text: str, edits: list[tuple[str, int, str]], start: int = 0) -> str:
    for kind, position, char in edits:
        index = start + position % max(1, len(text) - start)
        if kind == "substitute":
            text = text[:index] + char + text[index + 1 :]
        elif kind == "insert":
            text = text[:index] + char + text[index:]
        else:
            text = text[:index] + text[index + 1 :]
    return text


@settings(max_examples=60, deadline=None)
@given(edits=_EDITS)
def test_mutated_hc1_text_fails_or_keeps_the_claims(
    certificate: Certificate, edits: list[tuple[str, int, str]]
) -> None:
    certificate.assert_fails_or_same(_edit(certificate.hc1, edits))


@settings(max_examples=60, deadline=None)
@given(
    mutations=st.lists(
        st.tuples(st.integers(min_value=0, max_value=10_000), st.integers(0, 255)),
        min_size=1,
        max_size=3,
    )
)
def test_mutated_cose_bytes_fail_or_keep_the_claims(
    certificate: Certificate, mutations: list[tuple[int, int]]
) -> None:
    """Byte edits past the compression layer reach the CBOR, COSE and signature checks."""
    cose = bytearray(decode_hc1(certificate.hc1))
    for position, value in mutations:
        cose[position % len(cose)] = value
    certificate.assert_fails_or_same(encode_hc1(bytes(cose)))
