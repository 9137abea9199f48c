"""``dcc trust import|list`` and ``dcc verify`` with imported lists: checked before copied,
signed lists need their publisher's key, an unknown issuer is not "invalid"."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cli import main
from keys.load import SigningKeys
from tests.foreign import foreign_hc1, foreign_keys, gateway_list, german_list

STAMP = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def italy(tmp_path_factory: pytest.TempPathFactory) -> SigningKeys:
    return foreign_keys(tmp_path_factory.mktemp("IT"), "IT")


@pytest.fixture
def publisher(tmp_path: Path) -> tuple[ec.EllipticCurvePrivateKey, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "pubkey.pem"
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key, path


def test_import_checks_then_copies_into_the_trust_folder(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    italy: SigningKeys,
    publisher: tuple[ec.EllipticCurvePrivateKey, Path],
) -> None:
    folder = tmp_path / "trust"
    monkeypatch.setenv("DCC_TRUST_LISTS", str(folder))
    gateway = tmp_path / "eu.json"
    gateway.write_bytes(gateway_list(italy, stamp=STAMP))
    signed = tmp_path / "de.txt"
    signed.write_bytes(german_list(gateway_list(italy), publisher[0]))
    assert main(["trust", "import", str(gateway), str(signed)]) == 2  # no key for de.txt
    assert "no publisher key" in capsys.readouterr().err
    assert not folder.exists()  # nothing copied when one file fails
    assert main(["trust", "import", "--key", str(publisher[1]), str(gateway), str(signed)]) == 0
    out = capsys.readouterr().out
    assert "imported eu.json: gateway, 1 DSCs (IT), updated 2026-11-30T08:00:00Z" in out
    assert "imported de.txt: de-signed, 1 DSCs (IT)" in out
    assert (folder / "eu.json").read_bytes() == gateway.read_bytes()
    monkeypatch.setenv("DCC_TRUST_LIST_KEYS", str(publisher[1]))
    assert main(["trust", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in listed] == ["de.txt", "eu.json"]


def test_list_without_lists_says_only_own_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DCC_TRUST_LISTS", str(tmp_path / "none"))
    assert main(["trust", "list"]) == 0
    assert "only the service's own keys" in capsys.readouterr().out


def test_verify_with_a_signed_list_and_an_unknown_issuer(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    italy: SigningKeys,
    publisher: tuple[ec.EllipticCurvePrivateKey, Path],
) -> None:
    hc1 = foreign_hc1(italy)
    signed = tmp_path / "de.txt"
    signed.write_bytes(german_list(gateway_list(italy), publisher[0]))
    args = ["verify", "--trust", str(signed), "--trust-key", str(publisher[1]), hc1]
    assert main(args) == 0
    assert capsys.readouterr().out.strip() == "VALID"
    stranger = tmp_path / "stranger.pem"
    stranger.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert main(["verify", "--trust", str(signed), "--trust-key", str(stranger), hc1]) == 2
    assert "signature does not verify" in capsys.readouterr().err
    other = tmp_path / "other.json"
    other.write_bytes(gateway_list(foreign_keys(tmp_path / "FR", "FR")))
    assert main(["verify", "--trust", str(other), hc1]) == 1
    assert capsys.readouterr().out.startswith("UNKNOWN ISSUER: cannot check this issuer")
