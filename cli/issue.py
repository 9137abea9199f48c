"""``dcc issue`` (one certificate, offline) and ``dcc trust-list``.

``dcc issue`` records what it issues like the service does: the register row goes to the
store (``DCC_DATABASE_URL``, account ``cli``, channel ``cli``) before anything is printed,
and the audit line is appended to ``DCC_AUDIT_FILE`` (else written to stderr, so that
stdout holds the issue response alone).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO, Final

from api.audit import AuditTrail
from api.issuance import register_rows
from api.issuing_runtime import build_issuing_runtime
from api.settings import Settings
from cli.db import with_store
from issuer.render.qr import render_png, render_svg
from keys.lifecycle import directory_states
from keys.load import load_signing_keys
from keys.trust_list import export_trust_list
from signing.errors import DccError, RequestInvalid
from store import Store

__all__ = ["register"]

MAX_REQUEST_BYTES: Final = 64 * 1024
CLI_ACCOUNT: Final = "cli"
"""The account the register names for certificates issued with ``dcc issue``."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    issue = subparsers.add_parser(
        "issue",
        help="issue one certificate offline; prints the issue response",
        description="Read an issue request (JSON, see README) and print the issue response.",
    )
    issue.add_argument("--keys", type=Path, default=None, help="key folder (DCC_KEYS_DIR)")
    issue.add_argument("--png", type=Path, help="also write the QR code as PNG")
    issue.add_argument("--svg", type=Path, help="also write the QR code as SVG")
    issue.add_argument("request", nargs="?", default="-", help="request JSON file, or - (stdin)")
    issue.set_defaults(handler=run_issue)

    trust = subparsers.add_parser("trust-list", help="print the trust list JSON (the DSC)")
    trust.add_argument("--keys", type=Path, default=None, help="key folder (DCC_KEYS_DIR)")
    trust.set_defaults(handler=run_trust_list)


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if args.keys is not None:
        settings = dataclasses.replace(settings, keys_dir=args.keys)
    return settings


def _read_request(source: str) -> object:
    try:
        if source == "-":
            raw = sys.stdin.buffer.read(MAX_REQUEST_BYTES + 1)
        else:
            with Path(source).open("rb") as handle:
                raw = handle.read(MAX_REQUEST_BYTES + 1)
    except OSError as exc:
        raise DccError(f"cannot read {source}: {exc.strerror}", code="request_unreadable") from exc
    if len(raw) > MAX_REQUEST_BYTES:
        raise DccError(
            f"{source} is larger than {MAX_REQUEST_BYTES} bytes", code="request_too_large"
        )
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise DccError(f"{source} is not valid JSON: {exc}", code="request_not_json") from exc


def _open_outputs(stack: ExitStack, *paths: Path | None) -> list[BinaryIO | None]:
    """Open the QR output files before signing, so a bad path costs no certificate."""
    handles: list[BinaryIO | None] = []
    for path in paths:
        if path is None:
            handles.append(None)
            continue
        try:
            handles.append(stack.enter_context(path.open("wb")))
        except OSError as exc:
            raise DccError(
                f"cannot write {path}: {exc.strerror}", code="output_unwritable"
            ) from exc
    return handles


async def _schema_checked(store: Store) -> None:
    """Nothing more: :func:`with_store` checked the schema (before anything is signed)."""


def run_issue(args: argparse.Namespace) -> int:
    request = _read_request(args.request)
    settings = _settings(args)
    runtime = build_issuing_runtime(settings)
    with_store(settings.database_url, _schema_checked)
    if settings.audit_file is not None:
        audit = AuditTrail.to_file(settings.audit_file)
    else:
        audit = AuditTrail.to_fd(sys.stderr.fileno())
    with ExitStack() as stack:
        png, svg = _open_outputs(stack, args.png, args.svg)
        try:
            issued = runtime.issuer.issue(request)
        except RequestInvalid as invalid:
            print(f"dcc: the request is invalid ({len(invalid.errors)} problems):", file=sys.stderr)
            for error in invalid.errors:
                print(
                    f"  {error.field or '(body)'}: {error.message} [{error.code}]", file=sys.stderr
                )
            for path in (args.png, args.svg):
                if path is not None:
                    path.unlink(missing_ok=True)
            return 2
        rows = register_rows([issued], account_id=CLI_ACCOUNT, channel="cli")
        with_store(settings.database_url, lambda store: store.register.record(rows))
        audit.record(rows)
        json.dump(issued.to_response(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        if png is not None:
            png.write(render_png(issued.hc1))
        if svg is not None:
            svg.write(render_svg(issued.hc1).encode("ascii"))
    return 0


def run_trust_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    validity = max(settings.validity_rat, settings.validity_naat)
    states = directory_states(settings.keys_dir, max_validity_seconds=int(validity.total_seconds()))
    published = [status.certificate for status in states if status.published]
    if not published:
        load_signing_keys(settings.keys_dir)  # no keys at all: key_file_missing and its hint
    json.dump(export_trust_list(published), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
