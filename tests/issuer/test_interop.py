"""Oracles: certificates we issue are read correctly by code that is not ours.

For ES256 and PS256, RAT and NAAT, issued through the production wiring
(``api.issuing_runtime.build_issuing_runtime``) with keys from ``keys.generate``:

(a) the DCC validates against the OFFICIAL JSON schema 1.3.3 (combined file, and the split
    files through a ``referencing`` registry), with date-time/date format checks, and
    against a stricter copy with ``additionalProperties: false`` (QA advice, hcert §2);
(b) pycose 0.9.dev8 verifies it (with the two documented work-arounds, see below);
(c) an independent decoder written here from primitives (inline base45, zlib, cbor2,
    cryptography, our own Sig_structure) decodes and verifies it;
(d) the text is ``HC1:`` + base45, entirely in the QR alphanumeric set;
(e) the PNG and SVG written by ``dcc issue --png/--svg`` read back to the exact HC1.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import re
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cose.algorithms import Es256, Ps256
from cose.exceptions import CoseIllegalAlgorithm
from cose.headers import KID, Algorithm
from cose.keys import EC2Key, RSAKey
from cose.keys.curves import P256
from cose.keys.keyparam import KpAlg
from cose.messages import Sign1Message
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]
from PIL import Image, ImageDraw
from referencing import Registry, Resource

from api.issuing_runtime import build_issuing_runtime
from api.settings import Settings
from cli import main as dcc_main
from issuer.issuer import IssuedCertificate
from keys.generate import generate_keys
from keys.load import SigningKeys
from tests.accounts import migrated_sqlite
from verifier.qr_read import read_qr

BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
QR_ALPHANUMERIC = frozenset(BASE45)  # ISO/IEC 18004 alphanumeric mode: the same 45
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")
SVG_RUN = re.compile(r"M(\d+) (\d+)h(\d+)v1h-(\d+)z")
SPLIT_SCHEMAS = (
    "DCC.schema.json",
    "DCC.Core.Types.schema.json",
    "DCC.Types.schema.json",
    "DCC.ValueSets.schema.json",
)
LOCAL = timezone(timedelta(hours=2))


# --- fixtures ---------------------------------------------------------------------------


def request_for(test_type: str, now: datetime) -> dict[str, Any]:
    """An issue request whose sample was taken an hour ago (local time, +02:00)."""
    sampled = (now - timedelta(hours=1)).astimezone(LOCAL).replace(microsecond=0).isoformat()
    person = {
        "family_name": "Müller-Schmidt",
        "given_name": "Anna Maria",
        "date_of_birth": "1985-03-02",
    }
    if test_type == "RAT":
        test = {
            "type": "rapid-antigen",
            "device": "1232",
            "facility": "Pharmacie du Centre, Luxembourg",
        }
    else:
        test = {"type": "naat", "name": "Cobas SARS-CoV-2 PCR", "facility": "LNS, Dudelange"}
    test.update({"sample_collected_at": sampled, "result": "not-detected"})
    return {"person": person, "test": test}


@dataclass(frozen=True)
class Issued:
    alg: str
    test_type: str
    keys_dir: Path
    keys: SigningKeys
    certificate: IssuedCertificate


@pytest.fixture(scope="module", params=["ES256", "PS256"])
def keys_dir(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    """Keys valid now (the CLI and the wiring use the real clock)."""
    alg: str = request.param
    directory = tmp_path_factory.mktemp(f"interop-{alg}") / "keys"
    generate_keys(directory, alg=alg, now=datetime.now(UTC) - timedelta(hours=1))
    return alg, directory


@pytest.fixture(scope="module", params=["RAT", "NAAT"])
def issued(request: pytest.FixtureRequest, keys_dir: tuple[str, Path]) -> Issued:
    alg, directory = keys_dir
    runtime = build_issuing_runtime(Settings(keys_dir=directory))
    certificate = runtime.issuer.issue(request_for(request.param, datetime.now(UTC)))
    return Issued(alg, request.param, directory, runtime.keys, certificate)


# --- (c) the independent decoder --------------------------------------------------------


def inline_base45_decode(text: str) -> bytes:
    """RFC 9285 decoding from the definition (no validation beyond what the test needs)."""
    out = bytearray()
    for start in range(0, len(text), 3):
        chunk = text[start : start + 3]
        value = sum(BASE45.index(char) * 45**power for power, char in enumerate(chunk))
        out += value.to_bytes(len(chunk) - 1, "big")
    return bytes(out)


@dataclass(frozen=True)
class Opened:
    protected: bytes
    header: dict[int, Any]
    unprotected: Any
    payload: bytes
    signature: bytes
    claims: dict[int, Any]


def independent_open(hc1: str, dsc: x509.Certificate) -> Opened:
    """HC1 → COSE → verified claims, from primitives only."""
    assert hc1.startswith("HC1:")
    cose = zlib.decompress(inline_base45_decode(hc1[4:]))
    outer = cbor2.loads(cose)
    assert isinstance(outer, cbor2.CBORTag)
    assert outer.tag == 18
    protected, unprotected, payload, signature = outer.value
    header = cbor2.loads(protected)
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    public = dsc.public_key()
    if header[1] == -7:
        assert isinstance(public, ec.EllipticCurvePublicKey)
        assert len(signature) == 64
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        public.verify(encode_dss_signature(r, s), to_be_signed, ec.ECDSA(hashes.SHA256()))
    else:
        assert header[1] == -37
        assert isinstance(public, rsa.RSAPublicKey)
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        public.verify(signature, to_be_signed, pss, hashes.SHA256())
    assert header[4] == hashlib.sha256(dsc.public_bytes(serialization.Encoding.DER)).digest()[:8]
    return Opened(protected, header, unprotected, payload, signature, cbor2.loads(payload))


def tree(value: object) -> list[object]:
    nodes = [value]
    if isinstance(value, dict):
        for key, item in value.items():
            nodes += tree(key) + tree(item)
    elif isinstance(value, list | tuple):
        for item in value:
            nodes += tree(item)
    return nodes


def test_c_an_independent_decoder_verifies_the_certificate(issued: Issued) -> None:
    opened = independent_open(issued.certificate.hc1, issued.keys.certificate)
    alg = {"ES256": -7, "PS256": -37}[issued.alg]
    assert opened.header == {1: alg, 4: issued.keys.kid}
    assert opened.protected == cbor2.dumps({1: alg, 4: issued.keys.kid})
    assert dict(opened.unprotected) == {}
    claims = opened.claims
    assert set(claims) == {1, 4, 6, -260}
    assert claims[1] == "LU"
    assert type(claims[4]) is int
    assert type(claims[6]) is int
    assert claims[6] == int(issued.certificate.issued_at.timestamp())
    assert abs(datetime.now(UTC) - issued.certificate.issued_at) < timedelta(minutes=10)
    hours = 48 if issued.test_type == "RAT" else 72
    sampled = datetime.fromisoformat(claims[-260][1]["t"][0]["sc"]).timestamp()
    assert claims[4] == sampled + hours * 3600
    assert claims[4] <= issued.keys.not_after.timestamp()
    assert set(claims[-260]) == {1}
    assert claims[-260][1] == issued.certificate.certificate
    nodes = tree(claims)
    assert None not in nodes
    assert not any(isinstance(node, float | cbor2.CBORTag) for node in nodes)


def test_c_the_independent_decoder_rejects_a_forgery(issued: Issued) -> None:
    """The oracle itself can fail: one changed payload byte breaks its verification."""
    cose = zlib.decompress(inline_base45_decode(issued.certificate.hc1[4:]))
    outer = cbor2.loads(cose)
    protected, unprotected, payload, signature = outer.value
    forged_payload = payload.replace(b"LU", b"DE", 1)
    forged = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, forged_payload, signature]))
    text = "HC1:" + "".join(_encode_pairs(zlib.compress(forged)))
    with pytest.raises(InvalidSignature):
        independent_open(text, issued.keys.certificate)


def _encode_pairs(data: bytes) -> list[str]:
    out = []
    for start in range(0, len(data), 2):
        chunk = data[start : start + 2]
        value = int.from_bytes(chunk, "big")
        digits = 3 if len(chunk) == 2 else 2
        out.append("".join(BASE45[(value // 45**power) % 45] for power in range(digits)))
    return out


# --- (d) the text -----------------------------------------------------------------------


def test_d_the_text_is_hc1_and_base45_in_the_qr_alphanumeric_set(issued: Issued) -> None:
    text = issued.certificate.hc1
    assert text.startswith("HC1:")
    assert set(text) <= QR_ALPHANUMERIC
    assert len(text[4:]) % 3 != 1
    assert "".join(_encode_pairs(inline_base45_decode(text[4:]))) == text[4:]
    limit = 650 if issued.alg == "ES256" else 1100  # hcert §1.7: ES256 500-650, PS256 700-1040
    assert len(text) < limit


# --- (a) the official schema ------------------------------------------------------------


def date_time(value: object) -> bool:
    """RFC 3339 date-time (jsonschema checks it only with rfc3339-validator installed)."""
    if not isinstance(value, str):
        return True
    if RFC3339.fullmatch(value) is None:
        return False
    datetime.fromisoformat(value.upper())  # ValueError for a month 13, a 25th hour, ...
    return True


def format_checker() -> FormatChecker:
    checker = FormatChecker()  # every installed format, "date" included
    checker.checks("date-time", raises=ValueError)(date_time)
    return checker


def strict_copy(schema: dict[str, Any]) -> dict[str, Any]:
    """The combined schema with additionalProperties false on every object we emit."""
    strict = copy.deepcopy(schema)
    for node in (strict, strict["$defs"]["person_name"], strict["$defs"]["test_entry"]):
        node["additionalProperties"] = False
    return strict


@pytest.fixture(scope="module")
def validators(schema_dir: Path) -> dict[str, Draft202012Validator]:
    folder = schema_dir / "eu-dcc-schema"
    combined = json.loads((folder / "DCC.combined-schema.json").read_text(encoding="utf-8"))
    split = [json.loads((folder / name).read_text(encoding="utf-8")) for name in SPLIT_SCHEMAS]
    registry: Registry[Any] = Registry().with_resources(
        (document["$id"], Resource.from_contents(document)) for document in split
    )
    for schema in (combined, *split):
        Draft202012Validator.check_schema(schema)
    checker = format_checker()
    return {
        "combined": Draft202012Validator(combined, format_checker=checker),
        "split": Draft202012Validator(split[0], registry=registry, format_checker=checker),
        "strict": Draft202012Validator(strict_copy(combined), format_checker=checker),
    }


def schema_errors(validator: Draft202012Validator, instance: object) -> list[str]:
    return [
        f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(instance)
    ]


def test_a_the_certificate_validates_against_the_official_schema(
    issued: Issued, validators: dict[str, Draft202012Validator]
) -> None:
    dcc = independent_open(issued.certificate.hc1, issued.keys.certificate).claims[-260][1]
    for name, validator in validators.items():
        assert schema_errors(validator, dcc) == [], name
    assert dcc["ver"] == "1.3.0"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", dcc["t"][0]["sc"])
    entry = dcc["t"][0]
    if issued.test_type == "RAT":
        assert ("ma" in entry, "nm" in entry) == (True, False)
    else:
        assert ("ma" in entry, "nm" in entry) == (False, True)


def test_a_the_official_schema_examples_validate(
    schema_dir: Path, validators: dict[str, Draft202012Validator]
) -> None:
    """Our validator set-up accepts the EU's own test examples (it is not too strict)."""
    examples = sorted((schema_dir / "eu-dcc-schema" / "examples" / "test").glob("*.json"))
    assert len(examples) >= 5
    for path in examples:
        document = json.loads(path.read_text(encoding="utf-8"))
        dcc = document.get("JSON", document)
        assert schema_errors(validators["combined"], dcc) == [], path.name
        assert schema_errors(validators["split"], dcc) == [], path.name


MUTATIONS: list[tuple[str, Any, bool]] = [
    # (id, mutation, caught by the official schema too)
    ("sc-not-date-time", lambda d: d["t"][0].update(sc="2021-07-08 12:30"), True),
    ("sc-month-13", lambda d: d["t"][0].update(sc="2021-13-08T12:30:00Z"), True),
    ("sc-no-offset", lambda d: d["t"][0].update(sc="2021-07-08T12:30:00"), True),
    ("two-tests", lambda d: d["t"].append(dict(d["t"][0])), True),
    ("fnt-lower", lambda d: d["nam"].update(fnt="mueller"), True),
    ("no-ci", lambda d: d["t"][0].pop("ci"), True),
    ("dob-1850", lambda d: d.update(dob="1850-01-01"), True),
    ("no-standardised-name", lambda d: [d["nam"].pop(k, None) for k in ("fnt", "gnt")], True),
    ("ver-number", lambda d: d.update(ver=1.3), True),
    ("extra-top-level", lambda d: d.update(extra="x"), False),
    ("extra-in-nam", lambda d: d["nam"].update(mn="x"), False),
    ("extra-in-test", lambda d: d["t"][0].update(dr="2021-07-08T12:30:00Z"), False),
]


@pytest.mark.parametrize(
    ("mutate", "official"), [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS]
)
def test_a_the_schema_check_can_fail(
    issued: Issued, validators: dict[str, Draft202012Validator], mutate: Any, official: bool
) -> None:
    dcc = copy.deepcopy(issued.certificate.certificate)
    mutate(dcc)
    assert schema_errors(validators["strict"], dcc)
    assert bool(schema_errors(validators["combined"], dcc)) is official
    assert bool(schema_errors(validators["split"], dcc)) is official


# --- (b) pycose -------------------------------------------------------------------------
#
# pycose 0.9.dev8 work-arounds (performance.md, hardening.md §7):
# * CoseMessage.decode raises TypeError with cbor2 >= 6 (tag contents are tuples): we decode
#   the outer tag with cbor2 and hand Sign1Message.from_cose_obj a list. from_cose_obj
#   decodes the protected bytes and pycose re-encodes them (phdr_encoded) for the
#   Sig_structure; the test proves the re-encoding is byte-identical to what we sent, so
#   pycose verifies over the protected header exactly as transmitted.
# * EC2Key.generate_key fails with cryptography >= 46: keys are built from the DSC's public
#   numbers, with KpAlg set so pycose checks the message's alg against the key.
# pycose emits no warning on this path (the suite turns warnings into errors).


def pycose_key(dsc: x509.Certificate, alg: type[Es256] | type[Ps256]) -> EC2Key | RSAKey:
    public = dsc.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        numbers = public.public_numbers()
        return EC2Key(
            crv=P256,
            x=numbers.x.to_bytes(32, "big"),
            y=numbers.y.to_bytes(32, "big"),
            optional_params={KpAlg: alg},
        )
    assert isinstance(public, rsa.RSAPublicKey)
    rsa_numbers = public.public_numbers()
    size = (rsa_numbers.n.bit_length() + 7) // 8
    return RSAKey(
        n=rsa_numbers.n.to_bytes(size, "big"),
        e=rsa_numbers.e.to_bytes(3, "big"),
        optional_params={KpAlg: alg},
    )


def pycose_message(hc1: str) -> tuple[Sign1Message, bytes]:
    cose = zlib.decompress(inline_base45_decode(hc1[4:]))
    outer = cbor2.loads(cose)
    assert outer.tag == 18
    protected: bytes = outer.value[0]
    return Sign1Message.from_cose_obj(list(outer.value), True), protected


def test_b_pycose_verifies_the_certificate(issued: Issued) -> None:
    alg = Es256 if issued.alg == "ES256" else Ps256
    message, protected = pycose_message(issued.certificate.hc1)
    assert message.phdr_encoded == protected  # pycose signs over exactly what we sent
    assert message.get_attr(Algorithm) is alg
    assert message.get_attr(KID) == issued.keys.kid
    message.key = pycose_key(issued.keys.certificate, alg)
    assert message.verify_signature() is True
    claims = cbor2.loads(message.payload)
    assert claims[-260][1] == issued.certificate.certificate


def test_b_pycose_rejects_a_changed_payload_and_a_wrong_algorithm(issued: Issued) -> None:
    alg, other = (Es256, Ps256) if issued.alg == "ES256" else (Ps256, Es256)
    message, _ = pycose_message(issued.certificate.hc1)
    message.key = pycose_key(issued.keys.certificate, alg)
    message.payload = message.payload[:-1] + bytes([message.payload[-1] ^ 1])
    assert message.verify_signature() is False
    message, _ = pycose_message(issued.certificate.hc1)
    message.key = pycose_key(issued.keys.certificate, other)
    with pytest.raises(CoseIllegalAlgorithm):
        message.verify_signature()


# --- (e) the QR images from `dcc issue` -------------------------------------------------


def rasterise_svg(svg: str, scale: int = 4) -> bytes:
    """Draw the SVG's dark runs (one path of ``M x y h w v1 h-w z``) as a PNG."""
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    side = int(root.attrib["viewBox"].split()[2])
    image = Image.new("L", (side * scale, side * scale), 255)
    draw = ImageDraw.Draw(image)
    paths = [element for element in root.iter() if element.tag.endswith("path")]
    assert len(paths) == 1
    runs = SVG_RUN.findall(paths[0].attrib["d"])
    assert runs
    assert SVG_RUN.sub("", paths[0].attrib["d"]) == ""
    for x, y, width, back in runs:
        assert width == back
        left, top = int(x) * scale, int(y) * scale
        draw.rectangle((left, top, left + int(width) * scale - 1, top + scale - 1), fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_e_the_png_and_svg_from_dcc_issue_read_back_to_the_hc1(
    issued: Issued,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in [name for name in os.environ if name.startswith("DCC_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DCC_DATABASE_URL", migrated_sqlite(tmp_path))
    monkeypatch.setenv("DCC_AUDIT_FILE", str(tmp_path / "audit.log"))
    request_file = tmp_path / "request.json"
    request_file.write_text(
        json.dumps(request_for(issued.test_type, datetime.now(UTC))), encoding="utf-8"
    )
    png, svg = tmp_path / "qr.png", tmp_path / "qr.svg"
    argv = [
        "issue",
        "--keys",
        str(issued.keys_dir),
        str(request_file),
        "--png",
        str(png),
        "--svg",
        str(svg),
    ]
    assert dcc_main(argv) == 0
    response = json.loads(capsys.readouterr().out)
    hc1 = response["hc1"]
    independent_open(hc1, issued.keys.certificate)
    assert read_qr(png.read_bytes()) == hc1
    assert read_qr(rasterise_svg(svg.read_text(encoding="ascii"))) == hc1
