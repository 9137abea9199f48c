"""The PKCS#11 signer against SoftHSM2: keys made in the token, one session per slot,
ES256 over a software digest, PS256 in the token, a removed token → 503 → reconnect."""

from __future__ import annotations

import secrets
import threading

import pytest

from signing.algorithms import ES256, PS256, verify_raw
from signing.errors import ConfigError, SignerUnavailable
from signing.pkcs11 import Pkcs11Signer, Pkcs11Token, generate_token_key, read_pin
from signing.pool import SignerPool
from tests.softhsm import SoftHsm, softhsm
from tests.waiting import wait_until

KID = b"\x01\x02\x03\x04\x05\x06\x07\x08"


@pytest.fixture
def hsm() -> SoftHsm:
    return softhsm()


@pytest.fixture
def token(hsm: SoftHsm) -> Pkcs11Token:
    return Pkcs11Token(hsm.module, hsm.token, hsm.pin)


@pytest.mark.parametrize(("name", "alg"), [("ES256", ES256), ("PS256", PS256)])
def test_keys_made_in_the_token_sign_and_never_leave_it(
    token: Pkcs11Token, name: str, alg: int
) -> None:
    import pkcs11

    label = f"t-{secrets.token_hex(4)}"
    public = generate_token_key(token, name, label)
    signer = Pkcs11Signer(token, label, KID, alg)
    signer.connect()
    for data in (b"", b"sig structure", bytes(range(256)) * 40):
        verify_raw(public, alg, data, signer.sign(data))
    session = token.open_session()
    key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label=label)
    assert key[pkcs11.Attribute.EXTRACTABLE] is False
    assert key[pkcs11.Attribute.SENSITIVE] is True
    session.close()


def test_a_pool_of_token_signers_signs_from_many_threads(token: Pkcs11Token) -> None:
    label = f"t-{secrets.token_hex(4)}"
    public = generate_token_key(token, "ES256", label)
    signers = [Pkcs11Signer(token, label, KID, ES256) for _ in range(3)]
    for signer in signers:
        signer.connect()
    pool = SignerPool(signers, acquire_timeout=5.0)
    failures: list[BaseException] = []

    def work(index: int) -> None:
        for round_ in range(20):
            data = f"{index}-{round_}".encode()
            try:
                signature, _ = pool.sign(data)
                verify_raw(public, ES256, data, signature)
            except BaseException as error:  # collected, asserted below
                failures.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_removed_token_is_unavailable_and_the_signer_reconnects(
    hsm: SoftHsm, token: Pkcs11Token
) -> None:
    label = f"t-{secrets.token_hex(4)}"
    public = generate_token_key(token, "ES256", label)
    signer = Pkcs11Signer(token, label, KID, ES256)
    signer.connect()
    with hsm.removed():
        for _ in range(3):
            with pytest.raises(SignerUnavailable) as caught:
                signer.sign(b"data")
            assert caught.value.code == "hsm_unavailable"
            assert caught.value.retry_after > 0

    def signs_again() -> bool:
        try:
            verify_raw(public, ES256, b"back", signer.sign(b"back"))
        except SignerUnavailable:
            return False
        return True

    wait_until(signs_again, what="the signer reconnected to the returned token")


def test_wrong_pin_unknown_key_and_missing_pin_are_configuration_errors(
    hsm: SoftHsm, token: Pkcs11Token, tmp_path: object
) -> None:
    with pytest.raises(ConfigError) as caught:
        Pkcs11Signer(token, "no-such-key", KID, ES256).connect()
    assert caught.value.code == "pkcs11_not_configured"
    with pytest.raises(ConfigError):
        read_pin(None, None)
    assert read_pin("9999", None) == "9999"
