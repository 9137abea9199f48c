"""The PKCS#11 backend: DSC keys that never leave a token (an HSM; SoftHSM2 in tests).

:class:`Pkcs11Token` is the module, the token and its PIN, shared by a process (PKCS#11
logs a token in once per application: the first session logs in, the others inherit it).
:class:`Pkcs11Signer` is one pool slot: its own session and its handle on the private key.

python-pkcs11 initialises the module with ``C_Initialize(NULL)``, which by the standard
promises the module no concurrent calls (SoftHSM2 then takes no locks, and concurrent
``C_Sign`` calls fail), so every call into the module holds the token's process-wide lock
(``Pkcs11Token.lock``): sessions keep their own operation state per slot, and a process
signs one signature at a time in the token (run more workers for more HSM throughput).

- ES256: the SHA-256 digest is computed here and only the digest reaches the token
  (``CKM_ECDSA``); the token answers r‖s, each 32 bytes, which is the COSE form already.
- PS256: ``CKM_SHA256_RSA_PKCS_PSS`` (SHA-256, MGF1-SHA-256, salt 32), hashing in the token.

Keys are generated in the token (:func:`generate_token_key`) with ``CKA_SENSITIVE`` and
``CKA_EXTRACTABLE`` false. When the token disappears (a removed HSM, a restarted one, a
dropped session), the signature fails with :class:`~signing.errors.SignerUnavailable`
(``hsm_unavailable``, answered 503 + Retry-After) and the slot drops its session; the next
signature through that slot opens a new one (at most one attempt per ``retry_after``), so
the pool reconnects by itself when the token is back, and never holds a lock while it waits.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives import serialization

from signing.algorithms import ES256, PS256, PublicKey
from signing.errors import ConfigError, SignerUnavailable

__all__ = ["Pkcs11Signer", "Pkcs11Token", "generate_token_key", "read_pin"]

_RETRY_AFTER: Final = 1.0
_P256_SIGNATURE_BYTES: Final = 64


def read_pin(pin: str | None, pin_file: Path | None) -> str:
    """The token PIN from a setting, else from the first line of a file."""
    if pin:
        return pin
    if pin_file is not None:
        try:
            text = pin_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the PKCS#11 PIN file {pin_file}: {exc.strerror or exc}",
                code="pkcs11_not_configured",
            ) from exc
        if text:
            return text
    raise ConfigError(
        "the PKCS#11 token needs a PIN: set DCC_PKCS11_PIN or DCC_PKCS11_PIN_FILE",
        code="pkcs11_not_configured",
    )


def _unavailable(what: str, error: BaseException | None = None) -> SignerUnavailable:
    reason = f" ({type(error).__name__})" if error is not None else ""
    return SignerUnavailable(
        f"the HSM token is unavailable: {what}{reason}",
        code="hsm_unavailable",
        retry_after=_RETRY_AFTER,
    )


class Pkcs11Token:
    """A PKCS#11 module and one of its tokens, by label, with its PIN."""

    def __init__(self, module: Path, token_label: str, pin: str) -> None:
        import pkcs11

        try:
            self._lib = pkcs11.lib(str(module))
        except Exception as exc:
            raise ConfigError(
                f"cannot load the PKCS#11 module {module}: {exc}", code="pkcs11_not_configured"
            ) from exc
        self.module = module
        self.label = token_label
        self._pin = pin
        self.lock = threading.Lock()
        """Held around every call into the module (see the module docstring)."""
        self.generation = 0
        """Grows at every re-initialisation of the module (every session then is void)."""
        self._next_reinit = 0.0

    def open_session(self, *, rw: bool = False) -> Any:
        """A new session on the token, logged in (raises SignerUnavailable when absent).

        When the token cannot be found, the module is initialised again (``C_Finalize`` +
        ``C_Initialize``, at most once per retry interval): a module that saw its token
        vanish may keep a dead slot until then (SoftHSM2 does). Every session of the
        process is void afterwards; signers notice through :attr:`generation`.
        """
        import pkcs11.exceptions as errors

        with self.lock:
            try:
                token = self._find_token()
            except (errors.PKCS11Error, errors.NoSuchToken) as exc:
                raise _unavailable(f"no token labelled {self.label!r}", exc) from exc
            try:
                return token.open(user_pin=self._pin, rw=rw)
            except errors.UserAlreadyLoggedIn:
                return token.open(rw=rw)
            except errors.PinIncorrect as exc:
                raise ConfigError(
                    f"the PIN of PKCS#11 token {self.label!r} is wrong",
                    code="pkcs11_not_configured",
                ) from exc
            except errors.PKCS11Error as exc:
                raise _unavailable(f"cannot open a session on {self.label!r}", exc) from exc

    def _find_token(self) -> Any:
        import pkcs11.exceptions as errors

        try:
            return self._lib.get_token(token_label=self.label)
        except (errors.PKCS11Error, errors.NoSuchToken):
            if time.monotonic() < self._next_reinit:
                raise
        self._next_reinit = time.monotonic() + _RETRY_AFTER
        self.generation += 1
        self._lib.reinitialize()
        return self._lib.get_token(token_label=self.label)


class Pkcs11Signer:
    """One pool slot signing with a token key (by label): its own session, reopened on demand."""

    def __init__(self, token: Pkcs11Token, key_label: str, kid: bytes, alg: int) -> None:
        if alg not in (ES256, PS256):
            raise ConfigError(f"unsupported COSE algorithm {alg}", code="pkcs11_not_configured")
        self._token = token
        self._label = key_label
        self._kid = kid
        self._alg = alg
        self._session: Any = None
        self._key: Any = None
        self._generation = -1
        self._next_attempt = 0.0

    @property
    def alg(self) -> int:
        return self._alg

    @property
    def kid(self) -> bytes:
        return self._kid

    def connect(self) -> None:
        """Open the session and find the key now (start-up: fail before serving)."""
        import pkcs11
        import pkcs11.exceptions as errors

        session = self._token.open_session()
        self._generation = self._token.generation
        try:
            with self._token.lock:
                key = session.get_key(
                    object_class=pkcs11.ObjectClass.PRIVATE_KEY, label=self._label
                )
        except (errors.NoSuchKey, errors.MultipleObjectsReturned) as exc:
            _close(session, self._token.lock)
            raise ConfigError(
                f"no single private key labelled {self._label!r} in token {self._token.label!r}",
                code="pkcs11_not_configured",
            ) from exc
        except errors.PKCS11Error as exc:
            _close(session, self._token.lock)
            raise _unavailable("cannot find the key", exc) from exc
        self._session, self._key = session, key

    def _drop(self) -> None:
        session, self._session, self._key = self._session, None, None
        if session is not None:
            _close(session, self._token.lock)
        self._next_attempt = time.monotonic() + _RETRY_AFTER

    def sign(self, data: bytes) -> bytes:
        """The COSE signature over ``data`` (raw r‖s for ES256, RSA-PSS bytes for PS256)."""
        import pkcs11
        import pkcs11.exceptions as errors

        if self._key is not None and self._generation != self._token.generation:
            self._session = self._key = None  # the module was re-initialised: reconnect now
            self._next_attempt = 0.0
        if self._key is None:
            if time.monotonic() < self._next_attempt:
                raise _unavailable("reconnecting")
            try:
                self.connect()
            except SignerUnavailable:
                self._next_attempt = time.monotonic() + _RETRY_AFTER
                raise
        key = self._key
        try:
            if self._alg == ES256:
                digest = hashlib.sha256(data).digest()  # only the digest reaches the token
                with self._token.lock:
                    signature: bytes = key.sign(digest, mechanism=pkcs11.Mechanism.ECDSA)
                if len(signature) != _P256_SIGNATURE_BYTES:
                    raise _unavailable("the token returned a malformed ECDSA signature")
                return signature
            pss = (pkcs11.Mechanism.SHA256, pkcs11.MGF.SHA256, 32)
            with self._token.lock:
                ps256: bytes = key.sign(
                    data, mechanism=pkcs11.Mechanism.SHA256_RSA_PKCS_PSS, mechanism_param=pss
                )
            return ps256
        except errors.PKCS11Error as exc:
            self._drop()
            raise _unavailable("signing failed", exc) from exc

    def close(self) -> None:
        """Close the session (the pool is going away)."""
        self._drop()

    def __repr__(self) -> str:
        return f"Pkcs11Signer(alg={self._alg}, kid={self._kid.hex()}, key={self._label!r})"


def _close(session: Any, lock: threading.Lock) -> None:
    try:
        with lock:
            session.close()
    except Exception:  # a session of a removed token cannot be closed cleanly
        return


def generate_token_key(
    token: Pkcs11Token, alg: str, label: str, *, rsa_bits: int = 2048
) -> PublicKey:
    """Generate a DSC key pair in the token (private: sensitive, not extractable); return the
    public key (for the certificate the CSCA signs)."""
    import pkcs11

    attribute = pkcs11.Attribute
    private = {attribute.SENSITIVE: True, attribute.EXTRACTABLE: False, attribute.SIGN: True}
    session = token.open_session(rw=True)
    try:
        with token.lock:
            der = _generate(session, alg, label, private, rsa_bits)
    finally:
        _close(session, token.lock)
    key = serialization.load_der_public_key(der)
    return key  # type: ignore[return-value]


def _generate(session: Any, alg: str, label: str, private: dict[Any, bool], rsa_bits: int) -> bytes:
    """The DER of the public key of a key pair generated in the token."""
    import pkcs11
    from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters
    from pkcs11.util.rsa import encode_rsa_public_key

    if alg == "ES256":
        curve = {pkcs11.Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}
        parameters = session.create_domain_parameters(pkcs11.KeyType.EC, curve, local=True)
        public, _ = parameters.generate_keypair(store=True, label=label, private_template=private)
        ec_der: bytes = encode_ec_public_key(public)
        return ec_der
    if alg == "PS256":
        public, _ = session.generate_keypair(
            pkcs11.KeyType.RSA, rsa_bits, store=True, label=label, private_template=private
        )
        rsa_der: bytes = encode_rsa_public_key(public)
        return rsa_der
    raise ConfigError(f"unsupported algorithm {alg}", code="pkcs11_not_configured")
