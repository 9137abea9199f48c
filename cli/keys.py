"""``dcc keys init|rotate|list|retire``: the CSCA and the DSCs of the keys directory.

``init`` writes a CSCA and a first DSC under var/; ``rotate`` adds a DSC under the same CSCA
that becomes active at a chosen time; ``list`` shows every DSC with its state; ``retire``
stops signing with one (it stays in the trust list until its certificates expire).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from api.settings import Settings
from keys.generate import RSA_KEY_BITS, RSA_KEY_SIZES, generate_keys
from keys.kid import kid_b64
from signing.errors import ConfigError, DccError

if TYPE_CHECKING:
    from signing.algorithms import PublicKey

DEFAULT_ACTIVATION_DELAY: Final = 600.0

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = subparsers.add_parser("keys", help="manage signing keys")
    actions = keys.add_subparsers(title="actions", required=True, metavar="ACTION")
    init = actions.add_parser(
        "init",
        help="create a CSCA and a DSC (test-type key usage); prints the kid",
        description="Create a self-signed CSCA and a DSC signed by it. Private keys are written "
        "with mode 0600 and encrypted when DCC_KEY_PASSPHRASE is set.",
    )
    init.add_argument("--dir", type=Path, default=None, help="target folder (DCC_KEYS_DIR)")
    init.add_argument("--country", default=None, help="ISO 3166 code of the issuer (DCC_COUNTRY)")
    init.add_argument("--alg", choices=("ES256", "PS256"), default="ES256")
    init.add_argument(
        "--rsa-bits",
        type=int,
        choices=RSA_KEY_SIZES,
        default=RSA_KEY_BITS,
        help=f"RSA modulus for PS256 (default {RSA_KEY_BITS}, as the HCERT spec names)",
    )
    init.add_argument("--force", action="store_true", help="replace existing keys")
    init.set_defaults(handler=run_init)

    rotate = actions.add_parser(
        "rotate",
        help="add a new DSC under the existing CSCA, active from a chosen time",
        description="Create a new DSC signed by the CSCA of the keys directory. It is published "
        "in the trust list at once and signs from its activation time (every replica switches "
        "within a second, without restart); the previous DSC stays published until the "
        "certificates it signed expire.",
    )
    rotate.add_argument("--dir", type=Path, default=None, help="keys folder (DCC_KEYS_DIR)")
    when = rotate.add_mutually_exclusive_group()
    when.add_argument(
        "--activate-at", default=None, help="activation time, ISO 8601 with offset, or 'now'"
    )
    when.add_argument(
        "--activate-in",
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"activation in SECONDS (default {DEFAULT_ACTIVATION_DELAY:.0f}: verifiers that "
        "cache the trust list for 5 minutes hold the key before it signs)",
    )
    rotate.add_argument("--scope", default=None, help="limit the DSC to accounts of this scope")
    rotate.add_argument(
        "--pkcs11",
        action="store_true",
        help="generate the DSC key in the PKCS#11 token of DCC_PKCS11_MODULE/_TOKEN (with "
        "DCC_PKCS11_PIN or DCC_PKCS11_PIN_FILE); it never leaves the token",
    )
    rotate.add_argument(
        "--rsa-bits", type=int, choices=RSA_KEY_SIZES, default=RSA_KEY_BITS, help="for PS256"
    )
    rotate.set_defaults(handler=run_rotate)

    listing = actions.add_parser("list", help="every DSC with its state and validity")
    listing.add_argument("--dir", type=Path, default=None, help="keys folder (DCC_KEYS_DIR)")
    listing.add_argument(
        "--no-register",
        action="store_true",
        help="do not read the last certificate expiry from the issuance register",
    )
    listing.set_defaults(handler=run_list)

    retire = actions.add_parser(
        "retire",
        help="stop signing with a DSC (published until its certificates expire)",
    )
    retire.add_argument("kid", help="the DSC's kid (base64, or a unique prefix)")
    retire.add_argument("--dir", type=Path, default=None, help="keys folder (DCC_KEYS_DIR)")
    retire.add_argument("--at", default=None, help="when, ISO 8601 with offset (default now)")
    retire.set_defaults(handler=run_retire)


def run_init(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    directory: Path = args.dir or settings.keys_dir
    generated = generate_keys(
        directory,
        country=args.country or settings.country,
        alg=args.alg,
        passphrase=settings.key_passphrase,
        overwrite=args.force,
        rsa_bits=args.rsa_bits,
    )
    print(f"CSCA certificate: {generated.csca_cert_path}")
    print(f"DSC certificate:  {generated.dsc_cert_path}")
    print(f"DSC private key:  {generated.dsc_key_path} (mode 0600)")
    print(f"kid: {kid_b64(generated.kid)}")
    return 0


def _time(text: str, option: str) -> datetime:
    if text == "now":
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{option} must be ISO 8601 or 'now', not {text!r}") from exc
    if moment.tzinfo is None:
        raise ConfigError(f"{option} needs a UTC offset (e.g. 2026-12-04T15:00:00+00:00)")
    return moment


def _max_validity(settings: Settings) -> int:
    return int(max(settings.validity_rat, settings.validity_naat).total_seconds())


def _iso(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_rotate(args: argparse.Namespace) -> int:
    from keys.lifecycle import rotate_dsc

    settings = Settings.from_env()
    directory: Path = args.dir or settings.keys_dir
    if args.activate_at is not None:
        activation = _time(args.activate_at, "--activate-at")
    else:
        delay = DEFAULT_ACTIVATION_DELAY if args.activate_in is None else args.activate_in
        activation = datetime.now(UTC) + timedelta(seconds=max(0.0, delay))
    public_key, label = (
        (_token_key(settings, directory, args.rsa_bits)) if args.pkcs11 else (None, None)
    )
    rotated = rotate_dsc(
        directory,
        activates_at=activation,
        passphrase=settings.key_passphrase,
        scope=args.scope,
        rsa_bits=args.rsa_bits,
        public_key=public_key,
        token_key_label=label,
    )
    record = rotated.record
    print(f"DSC certificate: {directory / record.cert_file}")
    if record.key_file is not None:
        print(f"DSC private key: {directory / record.key_file} (mode 0600)")
    else:
        print(f"DSC private key: in PKCS#11 token {settings.pkcs11_token!r}, label {label}")
    print(f"kid: {record.kid}")
    print(
        f"active from: {_iso(record.activates_at)}"
        + (f" (scope {args.scope})" if args.scope else "")
    )
    return 0


def _token_key(settings: Settings, directory: Path, rsa_bits: int) -> tuple[PublicKey, str]:
    """A new DSC key pair generated in the token: (public key, its label there)."""
    import secrets

    from api.keyring import open_token
    from keys.layout import CSCA_CERT_FILE
    from keys.load import load_certificate
    from signing.algorithms import ES256, alg_for_key
    from signing.pkcs11 import generate_token_key

    csca = load_certificate(directory / CSCA_CERT_FILE)
    alg = "ES256" if alg_for_key(csca.public_key()) == ES256 else "PS256"
    label = f"dcc-dsc-{secrets.token_hex(6)}"
    return generate_token_key(open_token(settings), alg, label, rsa_bits=rsa_bits), label


def _last_expiry(settings: Settings) -> dict[str, int] | None:
    from cli.db import with_store
    from store import Store

    async def read(store: Store) -> dict[str, int]:
        return await store.register.last_expiry_by_kid()

    try:
        return with_store(settings.database_url, read)
    except DccError:
        return None


def run_list(args: argparse.Namespace) -> int:
    from keys.lifecycle import directory_states
    from signing.algorithms import ES256, alg_for_key

    settings = Settings.from_env()
    directory: Path = args.dir or settings.keys_dir
    last = None if args.no_register else _last_expiry(settings)
    states = directory_states(
        directory, max_validity_seconds=_max_validity(settings), last_expiry=last
    )
    header = (
        "kid",
        "alg",
        "backend",
        "scope",
        "state",
        "not before",
        "not after",
        "activates",
        "published until",
        "last cert expiry",
    )
    rows = [header]
    for status in states:
        record, cert = status.record, status.certificate
        alg = "ES256" if alg_for_key(cert.public_key()) == ES256 else "PS256"
        rows.append(
            (
                record.kid,
                alg,
                record.backend,
                record.scope or "-",
                str(status.state),
                _iso(int(cert.not_valid_before_utc.timestamp())),
                _iso(int(cert.not_valid_after_utc.timestamp())),
                _iso(record.activates_at),
                _iso(status.published_until) if status.published else "-",
                _iso(status.last_expiry) if last is not None else "(register not read)",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


def run_retire(args: argparse.Namespace) -> int:
    from keys.lifecycle import retire_dsc

    settings = Settings.from_env()
    directory: Path = args.dir or settings.keys_dir
    at = _time(args.at, "--at") if args.at is not None else None
    record = retire_dsc(directory, args.kid, at=at)
    print(
        f"DSC {record.kid} stops signing at {_iso(record.retired_at)}; it stays in the trust "
        "list until the certificates it signed expire"
    )
    return 0
