"""``dcc keys init``: a CSCA and a DSC for test certificates, written under var/."""

from __future__ import annotations

import argparse
from pathlib import Path

from api.settings import Settings
from keys.generate import RSA_KEY_BITS, RSA_KEY_SIZES, generate_keys
from keys.kid import kid_b64

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
