"""The ``dcc`` command line: one module per subcommand, each with ``register(subparsers)``.

Exit codes: 0 success, 1 a negative outcome (e.g. an invalid certificate), 2 a usage or
configuration error, reported as one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from api.cli import accounts, issue, keys, serve, verify
from signing.errors import DccError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dcc",
        description="Issue and verify EU Digital COVID Certificates for negative tests.",
    )
    subparsers = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    for module in (keys, issue, verify, accounts, serve):
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except DccError as error:
        print(f"dcc: error: {error.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
