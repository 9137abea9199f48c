"""COSE_Sign1: the exact bytes we emit, a defensive parser, and verification.

Oracles: literal bytes from hcert.md §1.3 and RFC 8152 written out by hand, the LU test
vector of dgc-testdata (signed by a real issuer), and the whole dgc-testdata corpus.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from signing.algorithms import ES256, PS256, sign_raw
from signing.cose import Sign1, encode_sign1, parse_sign1, sig_structure, verify_sign1
from signing.errors import DecodeError, SignatureError

PAYLOAD = bytes.fromhex("a3 01 62 4c55 04 1a 60e9a6c8 06 1a 60e7026e")  # {1:"LU",4:..,6:..}
LU_KID = bytes.fromhex("991c5aa728b1489d")


def signed(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, alg: int, kid: bytes) -> bytes:
    return encode_sign1(PAYLOAD, alg=alg, kid=kid, sign=lambda data: sign_raw(key, alg, data))


def raw_message(
    protected: dict[Any, Any] | bytes,
    unprotected: dict[Any, Any],
    *,
    key: ec.EllipticCurvePrivateKey,
    payload: bytes = PAYLOAD,
    tags: tuple[int, ...] = (18,),
) -> bytes:
    """A COSE_Sign1 built by hand with cbor2, signed over a hand-built Sig_structure."""
    protected_bytes = protected if isinstance(protected, bytes) else cbor2.dumps(protected)
    to_sign = cbor2.dumps(["Signature1", protected_bytes, b"", payload])
    signature = sign_raw(key, ES256, to_sign)
    item: object = [protected_bytes, unprotected, payload, signature]
    for tag in reversed(tags):
        item = cbor2.CBORTag(tag, item)
    return cbor2.dumps(item)


# --- what we emit ---------------------------------------------------------------------


def test_es256_message_bytes_are_exactly_hcert_1_3(p256_key: ec.EllipticCurvePrivateKey) -> None:
    """Tag 18, a 13-byte protected bstr ``a2 01 26 04 48 <kid>``, ``a0``, payload, 64 bytes."""
    message = signed(p256_key, ES256, LU_KID)
    protected = bytes.fromhex("a2 01 26 04 48") + LU_KID
    assert message[0] == 0xD2
    assert message[1] == 0x84  # array of 4
    assert message[2] == 0x4D  # bstr of 13
    assert message[3:16] == protected
    assert message[16] == 0xA0  # empty unprotected map
    payload_head = bytes([0x40 + len(PAYLOAD)])
    assert message[17 : 18 + len(PAYLOAD)] == payload_head + PAYLOAD
    assert message[18 + len(PAYLOAD) :][:2] == b"\x58\x40"  # bstr of 64
    assert len(message) == 18 + len(PAYLOAD) + 2 + 64


def test_ps256_protected_header_carries_alg_minus_37(rsa_key: rsa.RSAPrivateKey) -> None:
    message = signed(rsa_key, PS256, LU_KID)
    decoded = cbor2.loads(message)
    assert decoded.tag == 18
    assert decoded.value[0] == bytes.fromhex("a2 01 3824 04 48") + LU_KID
    assert len(decoded.value[3]) == 256


def test_the_signature_covers_exactly_the_rfc_sig_structure(
    p256_key: ec.EllipticCurvePrivateKey,
) -> None:
    """["Signature1", protected, h'', payload], written out byte by byte."""
    seen: list[bytes] = []

    def sign(data: bytes) -> bytes:
        seen.append(data)
        return sign_raw(p256_key, ES256, data)

    message = encode_sign1(PAYLOAD, alg=ES256, kid=LU_KID, sign=sign)
    protected = bytes.fromhex("a2 01 26 04 48") + LU_KID
    expected = (
        b"\x84"
        + b"\x6aSignature1"
        + b"\x4d"
        + protected
        + b"\x40"
        + bytes([0x40 + len(PAYLOAD)])
        + PAYLOAD
    )
    assert seen == [expected]
    assert sig_structure(protected, PAYLOAD) == expected
    signature = cbor2.loads(message).value[3]
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    p256_key.public_key().verify(encode_dss_signature(r, s), expected, ec.ECDSA(hashes.SHA256()))


def test_our_message_parses_and_verifies(
    p256_key: ec.EllipticCurvePrivateKey, rsa_key: rsa.RSAPrivateKey
) -> None:
    for key, alg in ((p256_key, ES256), (rsa_key, PS256)):
        message = parse_sign1(signed(key, alg, LU_KID))
        assert message.tags == (18,)
        assert message.alg == alg
        assert message.kid == LU_KID
        assert message.kid_location == "protected"
        assert dict(message.unprotected) == {}
        assert message.payload == PAYLOAD
        verify_sign1(message, key.public_key())


# --- parsing ----------------------------------------------------------------------------


def test_cwt_tag_61_around_18_is_accepted_and_reported(
    p256_key: ec.EllipticCurvePrivateKey,
) -> None:
    data = raw_message({1: -7, 4: LU_KID}, {}, key=p256_key, tags=(61, 18))
    assert data[:3] == b"\xd8\x3d\xd2"
    message = parse_sign1(data)
    assert message.tags == (61, 18)
    verify_sign1(message, p256_key.public_key())


def test_an_untagged_array_is_accepted_and_reported(p256_key: ec.EllipticCurvePrivateKey) -> None:
    message = parse_sign1(raw_message({1: -7, 4: LU_KID}, {}, key=p256_key, tags=()))
    assert message.tags == ()
    verify_sign1(message, p256_key.public_key())


@pytest.mark.parametrize(
    "tags",
    [(61,), (98,), (17,), (18, 18), (18, 61), (61, 61, 18), (55799, 18)],
    ids=lambda tags: "-".join(map(str, tags)),
)
def test_other_tags_are_refused(
    p256_key: ec.EllipticCurvePrivateKey, tags: tuple[int, ...]
) -> None:
    with pytest.raises(DecodeError) as caught:
        parse_sign1(raw_message({1: -7, 4: LU_KID}, {}, key=p256_key, tags=tags))
    assert caught.value.stage == "cose"
    assert caught.value.code == "cose_tag_unsupported"


PROTECTED = cbor2.dumps({1: -7, 4: LU_KID})
SIG = b"\x00" * 64


@pytest.mark.parametrize(
    ("item", "code"),
    [
        pytest.param([PROTECTED, {}, PAYLOAD], "cose_structure", id="three-elements"),
        pytest.param([PROTECTED, {}, PAYLOAD, SIG, b""], "cose_structure", id="five-elements"),
        pytest.param({0: PROTECTED}, "cose_structure", id="map"),
        pytest.param(PAYLOAD, "cose_structure", id="bstr"),
        pytest.param(["a2012604", {}, PAYLOAD, SIG], "cose_structure", id="protected-text"),
        pytest.param([PROTECTED, {}, None, SIG], "cose_payload_missing", id="detached-payload"),
        pytest.param([PROTECTED, {}, "payload", SIG], "cose_payload_missing", id="payload-text"),
        pytest.param([PROTECTED, {}, PAYLOAD, "sig"], "cose_structure", id="signature-text"),
        pytest.param([PROTECTED, {}, PAYLOAD, None], "cose_structure", id="signature-null"),
        pytest.param([PROTECTED, [], PAYLOAD, SIG], "cose_header_invalid", id="unprotected-array"),
        pytest.param([PROTECTED, None, PAYLOAD, SIG], "cose_header_invalid", id="unprotected-null"),
        pytest.param(
            [cbor2.dumps([1, -7]), {}, PAYLOAD, SIG], "cose_header_invalid", id="protected-array"
        ),
        pytest.param([cbor2.dumps(7), {}, PAYLOAD, SIG], "cose_header_invalid", id="protected-int"),
        pytest.param(
            [PROTECTED + b"\x00", {}, PAYLOAD, SIG], "cbor_trailing_bytes", id="protected-trailing"
        ),
        pytest.param(
            [bytes.fromhex("a2 01 26 01 26"), {}, PAYLOAD, SIG], "cbor_invalid", id="protected-dup"
        ),
        pytest.param(
            [bytes.fromhex("bf 01 26 ff"), {}, PAYLOAD, SIG], "cbor_invalid", id="protected-indef"
        ),
        pytest.param(
            [cbor2.dumps({1.5: -7}), {}, PAYLOAD, SIG], "cose_header_invalid", id="float-label"
        ),
        pytest.param(
            [cbor2.dumps({True: -7}), {}, PAYLOAD, SIG], "cose_header_invalid", id="bool-label"
        ),
        pytest.param([PROTECTED, {b"k": 1}, PAYLOAD, SIG], "cose_header_invalid", id="bytes-label"),
        pytest.param(
            [cbor2.dumps({i: 0 for i in range(100, 117)}), {}, PAYLOAD, SIG],
            "cose_header_invalid",
            id="17-headers",
        ),
        pytest.param(
            [cbor2.dumps({1: -7, 2: [4]}), {}, PAYLOAD, SIG], "cose_crit", id="crit-protected"
        ),
        pytest.param([PROTECTED, {2: [4]}, PAYLOAD, SIG], "cose_crit", id="crit-unprotected"),
        pytest.param([PROTECTED, {1: -7}, PAYLOAD, SIG], "cose_header_conflict", id="alg-both"),
        pytest.param(
            [cbor2.dumps({1: -7}), {1: -37}, PAYLOAD, SIG],
            "cose_header_conflict",
            id="alg-both-differ",
        ),
    ],
)
def test_malformed_messages_are_refused_at_stage_cose(item: object, code: str) -> None:
    for tagged in (cbor2.CBORTag(18, item), item):
        with pytest.raises(DecodeError) as caught:
            parse_sign1(cbor2.dumps(tagged))
        assert caught.value.stage == "cose"
        assert caught.value.code == code


def test_not_cbor_at_all_is_refused_at_stage_cose() -> None:
    for data in (b"", b"\xd2", b"HC1:NCF", b"\xd2\x84" + b"\x40" * 3):
        with pytest.raises(DecodeError) as caught:
            parse_sign1(data)
        assert caught.value.stage == "cose"


def test_an_empty_protected_header_is_an_empty_map() -> None:
    message = parse_sign1(cbor2.dumps(cbor2.CBORTag(18, [b"", {1: -7, 4: LU_KID}, PAYLOAD, SIG])))
    assert dict(message.protected) == {}
    assert message.alg == -7
    assert message.kid == LU_KID
    assert message.kid_location == "unprotected"


def test_the_protected_kid_wins_over_the_unprotected_one(
    p256_key: ec.EllipticCurvePrivateKey,
) -> None:
    """dgc-testdata CO18-CO23: the protected bucket is authoritative."""
    other = b"\x00" * 8
    message = parse_sign1(raw_message({1: -7, 4: LU_KID}, {4: other}, key=p256_key))
    assert message.kid == LU_KID
    assert message.kid_location == "protected"
    only_unprotected = parse_sign1(raw_message({1: -7}, {4: other}, key=p256_key))
    assert only_unprotected.kid == other
    assert only_unprotected.kid_location == "unprotected"
    assert parse_sign1(raw_message({1: -7}, {}, key=p256_key)).kid_location is None


def test_alg_in_the_unprotected_header_alone_is_read(p256_key: ec.EllipticCurvePrivateKey) -> None:
    message = parse_sign1(raw_message({4: LU_KID}, {1: -7}, key=p256_key))
    assert message.alg == -7
    verify_sign1(message, p256_key.public_key())


def test_protected_bytes_are_kept_as_received(p256_key: ec.EllipticCurvePrivateKey) -> None:
    """A non-canonical protected header (kid first, 2-byte alg) still verifies: the signature
    covers the bytes as transmitted, never a re-encoding."""
    protected = bytes.fromhex("a2 04 48") + LU_KID + bytes.fromhex("01 3806")  # 1: -7 as 38 06
    message = parse_sign1(raw_message(protected, {}, key=p256_key))
    assert message.protected_bytes == protected
    assert message.alg == -7
    verify_sign1(message, p256_key.public_key())


# --- verification ---------------------------------------------------------------------


def flip_each_byte(message: bytes, start: int, end: int) -> list[bytes]:
    return [message[:i] + bytes([message[i] ^ 0x01]) + message[i + 1 :] for i in range(start, end)]


@pytest.mark.parametrize("alg", [ES256, PS256], ids=["ES256", "PS256"])
def test_any_single_byte_change_is_detected(
    alg: int, p256_key: ec.EllipticCurvePrivateKey, rsa_key: rsa.RSAPrivateKey
) -> None:
    """Flip one bit in every byte of protected, payload and signature: never valid."""
    key = p256_key if alg == ES256 else rsa_key
    message = signed(key, alg, LU_KID)
    parsed = parse_sign1(message)
    protected_at = message.index(parsed.protected_bytes)
    payload_at = message.index(PAYLOAD, protected_at + len(parsed.protected_bytes))
    signature_at = len(message) - len(parsed.signature)
    regions = [
        (protected_at, protected_at + len(parsed.protected_bytes)),
        (payload_at, payload_at + len(PAYLOAD)),
        (signature_at, len(message)),
    ]
    tried = 0
    for start, end in regions:
        for variant in flip_each_byte(message, start, end):
            tried += 1
            with pytest.raises((DecodeError, SignatureError)):
                verify_sign1(parse_sign1(variant), key.public_key())
    assert tried == len(parsed.protected_bytes) + len(PAYLOAD) + len(parsed.signature)


def test_changed_fields_of_a_parsed_message_fail(p256_key: ec.EllipticCurvePrivateKey) -> None:
    parsed = parse_sign1(signed(p256_key, ES256, LU_KID))
    public = p256_key.public_key()
    changed = [
        dataclasses.replace(parsed, protected_bytes=cbor2.dumps({4: LU_KID, 1: -7})),  # same map
        dataclasses.replace(parsed, payload=PAYLOAD + b"\x00"),
        dataclasses.replace(
            parsed, signature=parsed.signature[:-1] + bytes([parsed.signature[-1] ^ 1])
        ),
    ]
    for message in changed:
        with pytest.raises(SignatureError) as caught:
            verify_sign1(message, public)
        assert caught.value.code == "signature_invalid"


@pytest.mark.parametrize("alg", [-35, -257, 0, "ES256", True, None, -7.0], ids=repr)
def test_unsupported_algorithms_are_refused(
    alg: object, p256_key: ec.EllipticCurvePrivateKey
) -> None:
    protected: dict[int, object] = {4: LU_KID} if alg is None else {1: alg, 4: LU_KID}
    message = parse_sign1(raw_message(protected, {}, key=p256_key))
    with pytest.raises(SignatureError) as caught:
        verify_sign1(message, p256_key.public_key())
    assert caught.value.code == "alg_unsupported"


def test_a_message_cannot_choose_another_algorithm_for_the_key(
    p256_key: ec.EllipticCurvePrivateKey, rsa_key: rsa.RSAPrivateKey
) -> None:
    es_message = parse_sign1(signed(p256_key, ES256, LU_KID))
    ps_message = parse_sign1(signed(rsa_key, PS256, LU_KID))
    for message, key in ((es_message, rsa_key), (ps_message, p256_key)):
        with pytest.raises(SignatureError) as caught:
            verify_sign1(message, key.public_key())
        assert caught.value.code == "alg_key_mismatch"


# --- real-world oracles -----------------------------------------------------------------


def load_vectors(testdata_dir: Path, pattern: str) -> list[tuple[Path, dict[str, Any]]]:
    vectors = []
    for path in sorted(testdata_dir.glob(pattern)):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if (
            isinstance(data, dict)
            and data.get("COSE")
            and data.get("TESTCTX", {}).get("CERTIFICATE")
        ):
            vectors.append((path, data))
    return vectors


def certificate_of(vector: dict[str, Any]) -> x509.Certificate:
    return x509.load_der_x509_certificate(base64.b64decode(vector["TESTCTX"]["CERTIFICATE"]))


def test_the_lu_test_vector_parses_and_verifies(testdata_dir: Path) -> None:
    """A real LU certificate (ES256) verifies with our Sig_structure and its DSC's key."""
    ec_vectors = [
        (path, vector)
        for path, vector in load_vectors(testdata_dir, "LU/**/*.json")
        if isinstance(certificate_of(vector).public_key(), ec.EllipticCurvePublicKey)
    ]
    assert ec_vectors, "no LU vector with an EC certificate"
    for _, vector in ec_vectors:
        certificate = certificate_of(vector)
        public = certificate.public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey)
        message = parse_sign1(bytes.fromhex(vector["COSE"]))
        der = certificate.public_bytes(serialization.Encoding.DER)
        assert message.tags == (18,)
        assert message.protected_bytes == bytes.fromhex("a2 01 26 04 48 991c5aa728b1489d")
        assert message.kid == hashlib.sha256(der).digest()[:8] == LU_KID
        assert dict(message.unprotected) == {}
        verify_sign1(message, public)
        tampered = dataclasses.replace(message, payload=message.payload[:-1] + b"\x31")
        with pytest.raises(SignatureError):
            verify_sign1(tampered, public)


def test_every_valid_dgc_testdata_signature_verifies(testdata_dir: Path) -> None:
    """The EU corpus (many issuers, ES256 and PS256, tag 61, kid placements): every vector
    expected to verify does, except those whose DSC key is not P-256 (ES 401-403 sign
    "ES256" with a P-384 key, which alg pinning refuses)."""
    verified = 0
    refused_curves: list[str] = []
    for path, vector in load_vectors(testdata_dir, "*/**/*.json"):
        if vector.get("EXPECTEDRESULTS", {}).get("EXPECTEDVERIFY") is not True:
            continue
        public = certificate_of(vector).public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)
        message = parse_sign1(bytes.fromhex(vector["COSE"]))
        if isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name != "secp256r1":
            with pytest.raises(SignatureError) as caught:
                verify_sign1(message, public)
            assert caught.value.code == "key_curve_unsupported"
            refused_curves.append(path.relative_to(testdata_dir).as_posix())
            continue
        verify_sign1(message, public)
        verified += 1
    assert verified > 300
    assert len(refused_curves) <= 3, refused_curves


def test_sign1_is_immutable(p256_key: ec.EllipticCurvePrivateKey) -> None:
    message: Sign1 = parse_sign1(signed(p256_key, ES256, LU_KID))
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.payload = b""  # type: ignore[misc]


def test_a_repeated_protected_header_gives_each_message_its_own_map(
    p256_key: ec.EllipticCurvePrivateKey,
) -> None:
    """The decoded protected header is cached per bytes: each message still gets a fresh
    map, and headers with other value types (a bool, an array) are decoded as before."""
    message = raw_message({1: -7, 4: LU_KID}, {}, key=p256_key)
    first, second = parse_sign1(message), parse_sign1(message)
    assert first.protected == second.protected == {1: -7, 4: LU_KID}
    assert first.protected is not second.protected
    for odd in ({1: -7, 4: LU_KID, 99: True}, {1: -7, 4: LU_KID, 99: [1, 2]}):
        parsed = parse_sign1(raw_message(odd, {}, key=p256_key))
        assert parsed.protected == odd
        assert parse_sign1(raw_message(odd, {}, key=p256_key)).protected == odd
    bad = raw_message(cbor2.dumps({1: -7, b"x": 1}), {}, key=p256_key)
    for _ in range(2):  # a failure is raised every time, never cached
        with pytest.raises(DecodeError) as caught:
            parse_sign1(bad)
        assert caught.value.code == "cose_header_invalid"
