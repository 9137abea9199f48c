"""``dcc verify``: verify HC1 strings or QR image files against trusted DSC certificates.

``dcc verify [--trust F]… [--trust-key PEM]… [--revocation FILE]… [--at ISO]
[--country CC [--lang L] [--rules-dir D]…] [--json] [--profile NAME] INPUT…``

INPUT is an ``HC1:`` string, a file holding one (surrounding whitespace is ignored) or a
QR image, or ``-`` for standard input. An argument that is not an existing file and looks
like a context-prefixed string (``HC2:…``, ``hc1:…``) is verified as text, so a wrong
prefix is reported like any other invalid certificate. ``--trust`` (repeatable) takes a
PEM, DER or base64-DER certificate or a trust-list JSON; with ``--trust-key`` (a publisher's
public key) a German two-line signed list must carry a signature that key verifies.
``--revocation`` (repeatable) takes a revocation list in the EU gateway batch form (``dcc
revocation-list``, ``GET /v1/revocation-list`` or an imported list); with it the
``revocation`` check runs.
``--at`` is the validation time (ISO 8601; UTC when it has no offset; default now).
``--country`` checks the certificate against that arrival country's business rules at that
time (Luxembourg's ship with the package; ``--rules-dir``, repeatable, and
``DCC_RULES_DIR`` add rule files), instead of the fixed ``--profile``; ``--lang`` chooses
the language of the rule descriptions.

Output: with ``--json`` one JSON report per input, one per line; otherwise ``VALID``,
``UNKNOWN ISSUER: <message>`` (no trust list has the kid: it cannot be checked, which does
not make it forged) or ``INVALID: <check>: <message>`` per input (prefixed with the input's
name when there are several). Exit 0 when every input is valid, 1 when any is not (invalid
or of an unknown issuer), 2 for a usage error (no trust given, an unreadable trust or input
file, a bad ``--at``, ``--country`` or rule file), with one line on stderr. Without
``--json``, an input checked against a destination prints one more line per rule that did
not pass (``  TR-LU-0002 fail: …``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from signing.errors import ConfigError, DccError, KeyMaterialError, RequestInvalid
from verifier import (
    PROFILES,
    RevocationList,
    TrustStore,
    VerificationReport,
    load_revocation_lists,
    profile_by_name,
    verify,
)
from verifier.destination import LANGUAGES, Destination, load_rule_set, read_destination
from verifier.qr_read import MAX_IMAGE_BYTES
from verifier.source import is_image
from verifier.trust_lists import load_signer_keys, read_trust_list_file

__all__ = ["register", "run_verify"]

_PREFIXED_TEXT: Final = re.compile(r"[A-Za-z0-9]{2,3}:")
_STDIN: Final = "-"


class UsageError(Exception):
    """A problem with the command line or its files: exit 2 with one line on stderr."""


@dataclass(frozen=True, slots=True)
class _Input:
    label: str
    data: str | bytes


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``verify`` subcommand to the ``dcc`` command line."""
    parser = subparsers.add_parser(
        "verify",
        help="verify HC1 strings or QR image files",
        description="Verify EU DCC certificates (HC1 strings, text files or QR images).",
    )
    parser.add_argument(
        "--trust",
        action="append",
        type=Path,
        default=[],
        metavar="F",
        help="trusted DSC: PEM, DER or base64-DER certificate, or trust-list JSON (repeatable)",
    )
    parser.add_argument(
        "--trust-key",
        action="append",
        type=Path,
        default=[],
        metavar="PEM",
        help="publisher key: signed (two-line) --trust lists must verify with it (repeatable)",
    )
    parser.add_argument(
        "--revocation",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="revocation list (EU gateway batch form, e.g. from `dcc revocation-list`; repeatable)",
    )
    parser.add_argument("--at", metavar="ISO", help="validation time (default: now)")
    parser.add_argument("--json", action="store_true", help="print one JSON report per line")
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=None,
        help="business rules for test certificates (default: LU_2021_07)",
    )
    parser.add_argument(
        "--country", metavar="CC", help="destination country: check against its rules (e.g. IT)"
    )
    parser.add_argument(
        "--lang", choices=sorted(LANGUAGES), default=None, help="language of rule descriptions"
    )
    parser.add_argument(
        "--rules-dir",
        action="append",
        type=Path,
        default=[],
        metavar="D",
        help="folder of rule files (EU gateway format) added to the packaged ones (repeatable)",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="HC1 string, file, or -")
    parser.set_defaults(handler=run_verify)


def _validation_time(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--at {text!r} is not an ISO 8601 date-time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _destination(args: argparse.Namespace) -> Destination | None:
    if args.country is None:
        return None
    from api.settings import Settings

    folders = list(args.rules_dir)
    try:
        rules_dir = Settings.from_env().rules_dir
        rules = load_rule_set([*folders, rules_dir] if rules_dir else folders)
        destination, _ = read_destination(args.country, None, args.lang, rules=rules)
    except RequestInvalid as exc:
        raise UsageError(f"--country {args.country!r}: {exc.errors[0].message}") from None
    except ConfigError as exc:
        raise UsageError(exc.message) from None
    return destination


def _rule_lines(report: VerificationReport) -> list[str]:
    destination = report.destination
    if destination is None:
        return []
    return [
        f"  {result.rule.identifier} {result.outcome}: "
        f"{result.rule.description(destination.language)}"
        for result in destination.results
        if result.outcome != "pass"
    ]


def _read_limited(source: str) -> bytes:
    try:
        if source == _STDIN:
            data = sys.stdin.buffer.read(MAX_IMAGE_BYTES + 1)
        else:
            with Path(source).open("rb") as handle:
                data = handle.read(MAX_IMAGE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read input {source}: {exc.strerror or exc}") from exc
    if len(data) > MAX_IMAGE_BYTES:
        raise UsageError(f"input {source} is larger than {MAX_IMAGE_BYTES} bytes")
    return data


def _file_input(label: str, data: bytes) -> _Input:
    if is_image(data):
        return _Input(label, data)
    return _Input(label, data.strip())


def _is_file(argument: str) -> bool:
    try:
        return Path(argument).is_file()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        return False


def _inputs(arguments: list[str]) -> list[_Input]:
    inputs: list[_Input] = []
    stdin: bytes | None = None
    for index, argument in enumerate(arguments, start=1):
        if argument == _STDIN:
            stdin = _read_limited(_STDIN) if stdin is None else stdin
            inputs.append(_file_input("stdin", stdin))
        elif argument.startswith("HC1:"):
            inputs.append(_Input(f"argument {index}", argument))
        elif _is_file(argument):
            inputs.append(_file_input(argument, _read_limited(argument)))
        elif _PREFIXED_TEXT.match(argument):
            inputs.append(_Input(f"argument {index}", argument))
        else:
            raise UsageError(f"cannot read input {argument}: no such file")
    return inputs


def _trust(paths: list[Path], key_paths: list[Path]) -> TrustStore:
    if not paths:
        raise UsageError("no trusted certificate given: use --trust FILE (PEM, DER or JSON)")
    try:
        if key_paths:
            keys = load_signer_keys(key_paths)
            store = TrustStore.combined(read_trust_list_file(p, signer_keys=keys) for p in paths)
        else:
            store = TrustStore.from_files(paths)
    except KeyMaterialError as exc:
        raise UsageError(exc.message) from exc
    if len(store) == 0:
        raise UsageError("the --trust files hold no DSC certificate")
    return store


def _revocation(paths: list[Path]) -> RevocationList | None:
    if not paths:
        return None
    try:
        return load_revocation_lists(paths)
    except DccError as exc:
        raise UsageError(exc.message) from exc


def _summary(report: VerificationReport) -> str:
    if report.valid:
        return "VALID"
    error = report.error
    if error is None:  # pragma: no cover - an invalid report always names its first failure
        return "INVALID"
    if report.verdict == "issuer_unknown":
        return f"UNKNOWN ISSUER: {error.message}"
    return f"INVALID: {error.check}: {error.message}"


def run_verify(args: argparse.Namespace) -> int:
    """Verify every INPUT; return the exit code (0 all valid, 1 any invalid, 2 usage)."""
    try:
        now = _validation_time(args.at)
        store = _trust(args.trust, args.trust_key)
        inputs = _inputs(args.inputs)
        destination = _destination(args)
        revocation = _revocation(args.revocation)
    except UsageError as exc:
        print(f"dcc verify: error: {exc}", file=sys.stderr)
        return 2
    profile = profile_by_name(args.profile) if args.profile else None
    all_valid = True
    for item in inputs:
        report = verify(
            item.data,
            trust=store,
            now=now,
            profile=profile,
            destination=destination,
            revocation=revocation,
        )
        all_valid = all_valid and report.valid
        if args.json:
            line = json.dumps(report.to_dict(), ensure_ascii=False, separators=(",", ":"))
        else:
            summary = _summary(report)
            line = f"{item.label}: {summary}" if len(inputs) > 1 else summary
            line = "\n".join([line, *_rule_lines(report)])
        print(line)
    return 0 if all_valid else 1
