"""The ``dcc`` command line: one module per subcommand, each with ``register(subparsers)``.

Only the module of the command being run is imported (``dcc verify`` never loads the HTTP
server, Redis or the issuer); ``dcc --help`` imports them all to list them.

Exit codes: 0 success, 1 a negative outcome (e.g. an invalid certificate), 2 a usage or
configuration error, reported as one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Final

from signing.errors import DccError

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: Final[dict[str, str]] = {
    "keys": "cli.keys",
    "issue": "cli.issue",
    "trust-list": "cli.issue",
    "verify": "cli.verify",
    "accounts": "cli.accounts",
    "members": "cli.members",
    "db": "cli.db",
    "serve": "cli.serve",
    "trust": "cli.trust",
    "revoke": "cli.revoke",
    "revocation-list": "cli.revoke",
}
"""Each command and the module that registers it (a module may register several)."""


def _modules_for(argv: Sequence[str]) -> list[str]:
    """The modules to import: the named command's alone, or all of them (help, typos)."""
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    if command in COMMANDS:
        return [COMMANDS[command]]
    return list(dict.fromkeys(COMMANDS.values()))


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The ``dcc`` parser, with the subcommands ``argv`` needs (all of them by default)."""
    parser = argparse.ArgumentParser(
        prog="dcc",
        description="Issue and verify EU Digital COVID Certificates for negative tests.",
    )
    subparsers = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    for name in _modules_for(argv):
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)
    try:
        code: int = args.handler(args)
    except DccError as error:
        print(f"dcc: error: {error.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``dcc issue … | head``): no traceback, and nothing more to
        # flush at exit (Python's recipe: point stdout at /dev/null).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a command killed by it
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
