"""Revocation lists for the verifier, read from files (ours or imported, same batch form).

A file holds a document ``{"batches": [...]}`` (what ``GET /v1/revocation-list`` and
``dcc revocation-list`` publish), a list of batches, or one gateway batch
(:mod:`hcert.revocation_list`). Files are read bounded (:data:`MAX_FILE_BYTES`) before
they are parsed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Final

import orjson

from hcert.revocation_list import RevocationList
from signing.errors import DccError

__all__ = ["MAX_FILE_BYTES", "load_revocation_lists"]

MAX_FILE_BYTES: Final = 256 * 1024 * 1024


def _invalid(path: Path, reason: str) -> DccError:
    return DccError(f"revocation list {path}: {reason}", code="revocation_list_invalid")


def load_revocation_lists(paths: Iterable[Path]) -> RevocationList:
    """One :class:`RevocationList` from every file of ``paths`` (raise
    ``revocation_list_invalid`` for a file that cannot be read or is not such a list)."""
    revocations = RevocationList()
    for path in paths:
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise _invalid(path, f"cannot be read ({exc.strerror or exc})") from exc
        if len(data) > MAX_FILE_BYTES:
            raise _invalid(path, f"larger than {MAX_FILE_BYTES} bytes")
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise _invalid(path, "not JSON") from None
        try:
            revocations.add_document(document)
        except DccError as exc:
            raise _invalid(path, exc.message.removeprefix("revocation list: ")) from exc
    return revocations
