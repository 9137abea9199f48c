"""``dcc trust import|list``: the trust lists from outside that the service verifies with.

``dcc trust import [--into DIR] [--key PEM]... FILE...`` checks each FILE as the service will
read it (EU gateway JSON, the German signed two-line list with its signature verified
against ``DCC_TRUST_LIST_KEYS`` and ``--key``, PEM/DER certificates) and only then copies it,
atomically and under its own name, into DIR: by default the first folder of
``DCC_TRUST_LISTS`` (``var/trust``), created if missing. A running service picks the new
file up within ``DCC_TRUST_LISTS_REFRESH_SECONDS``; no restart. A file that does not pass
is not copied (exit 2, one line on stderr).

``dcc trust list`` prints every list ``DCC_TRUST_LISTS`` holds: name, kind, DSC count,
countries and age. Exit 2 when one cannot be read.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from api.settings import Settings
from keys.files import write_atomically
from signing.errors import ConfigError
from verifier.trust import TrustListInfo
from verifier.trust_lists import load_signer_keys, read_trust_list_file, trust_list_files

__all__ = ["register", "run_import", "run_list"]

_LIST_FILE_MODE = 0o644
_FOLDER_MODE = 0o755


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``trust import`` and ``trust list`` to the ``dcc`` command line."""
    trust = subparsers.add_parser(
        "trust", help="trust lists from outside (DCC_TRUST_LISTS): import, list"
    )
    actions = trust.add_subparsers(title="actions", required=True, metavar="ACTION")
    importer = actions.add_parser(
        "import",
        help="check trust-list files and copy them where the service reads them",
        description="Check each trust list (format, signature) and copy it into the folder "
        "the service reads (default: the first folder of DCC_TRUST_LISTS).",
    )
    importer.add_argument("--into", type=Path, metavar="DIR", help="destination folder")
    importer.add_argument(
        "--key",
        action="append",
        type=Path,
        default=[],
        metavar="PEM",
        help="publisher key of signed lists, besides DCC_TRUST_LIST_KEYS (repeatable)",
    )
    importer.add_argument("files", nargs="+", type=Path, metavar="FILE")
    importer.set_defaults(handler=run_import)
    lister = actions.add_parser("list", help="the trust lists the service would load")
    lister.set_defaults(handler=run_list)


def _age(info: TrustListInfo, now: datetime) -> str:
    if info.updated_at is None:
        return "age unknown"
    hours = max(0, int((now - info.updated_at).total_seconds() // 3600))
    stamp = info.to_dict()["updated_at"]
    return f"updated {stamp} ({hours // 24} d {hours % 24} h ago)"


def _describe(info: TrustListInfo, now: datetime) -> str:
    countries = ", ".join(info.countries) or "no country"
    return f"{info.name}: {info.kind}, {info.count} DSCs ({countries}), {_age(info, now)}"


def _destination(settings: Settings, into: Path | None) -> Path:
    if into is not None:
        return into
    for path in settings.trust_lists:
        if not path.is_file():
            return path
    raise ConfigError(
        "DCC_TRUST_LISTS names no folder to import into: use --into DIR",
        code="settings_invalid",
    )


def run_import(args: argparse.Namespace) -> int:
    """Check every FILE, then copy them all (nothing is copied when one fails)."""
    settings = Settings.from_env()
    keys = load_signer_keys([*settings.trust_list_keys, *args.key])
    checked = [(path, read_trust_list_file(path, signer_keys=keys)) for path in args.files]
    folder = _destination(settings, args.into)
    folder.mkdir(mode=_FOLDER_MODE, parents=True, exist_ok=True)
    now = datetime.now(UTC)
    for path, store in checked:
        target = folder / path.name
        write_atomically(target, path.read_bytes(), _LIST_FILE_MODE)
        print(f"imported {_describe(store.sources[0], now)} -> {target}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print each list of ``DCC_TRUST_LISTS``."""
    del args
    settings = Settings.from_env()
    keys = load_signer_keys(settings.trust_list_keys)
    files = trust_list_files(settings.trust_lists)
    now = datetime.now(UTC)
    if not files:
        shown = ":".join(str(path) for path in settings.trust_lists)
        print(f"no trust list in {shown}: only the service's own keys are trusted")
    for path in files:
        store = read_trust_list_file(path, signer_keys=keys)
        print(_describe(store.sources[0], now))
    return 0
