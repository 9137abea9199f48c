"""The audit trail: one JSON line per issued certificate, never a name or a date of birth.

Each line holds ``event`` (``certificate_issued``), ``account`` (the organisation),
``member`` (the subject id of the member who issued; null for an API key), ``channel``
(single, batch, form, cli, reissue) and what the certificate's register row keeps: uvci,
kid, test_type, iat, exp and the three revocation hashes (hcert §8). The issuance register
in the store is the record revocation queries; the audit trail is its append-only twin for
log pipelines, written from the same rows once they are durable, before the answer (so the
revocation hashes are computed once per certificate, not once for each).

Sinks: :meth:`AuditTrail.to_logger` sends each line to the ``dcc.audit`` logger (the
default of :func:`api.app.create_app`: tests and embedding apps route it as they like);
:meth:`AuditTrail.to_file` appends to ``DCC_AUDIT_FILE``; :meth:`AuditTrail.to_fd` writes
straight to a file descriptor, which is what ``dcc serve`` does with stdout when no file is
set (the access log goes to stderr, so stdout holds audit lines alone). The logging
machinery costs ~9-30 µs per line (record, handler lock, formatter, flush), a fifth of an
issuance; one ``os.write`` costs ~1 µs.
Writes to a descriptor are cut at line boundaries into chunks of at most ``PIPE_BUF``
bytes, so that the lines of several worker processes sharing one pipe never interleave.
"""

from __future__ import annotations

import logging
import os
import select
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

import orjson

from store.register import IssuanceRecord

__all__ = ["AUDIT_EVENT", "AUDIT_LOGGER", "AuditTrail"]

AUDIT_LOGGER: Final = "dcc.audit"
AUDIT_EVENT: Final = "certificate_issued"
_PIPE_BUF: Final = select.PIPE_BUF
_LOGGER_EXTRA: Final = {"event": AUDIT_EVENT}

Sink = Callable[[list[bytes]], None]
"""Takes complete lines (each ending in a newline) and stores them, in order."""


class AuditTrail:
    """Writes the audit lines of issued certificates to one sink."""

    __slots__ = ("_sink",)

    def __init__(self, sink: Sink) -> None:
        self._sink = sink

    @classmethod
    def to_logger(cls, logger: logging.Logger | None = None) -> AuditTrail:
        """Lines go to ``logger`` (default ``dcc.audit``) at INFO, one record each."""
        target = logger or logging.getLogger(AUDIT_LOGGER)

        def log(lines: list[bytes]) -> None:
            for line in lines:
                target.info(line[:-1].decode(), extra=_LOGGER_EXTRA)

        return cls(log)

    @classmethod
    def to_fd(cls, fd: int) -> AuditTrail:
        """Lines go straight to file descriptor ``fd`` (e.g. 1, stdout)."""
        return cls(lambda lines: _write_lines(fd, lines))

    @classmethod
    def to_file(cls, path: Path) -> AuditTrail:
        """Lines are appended to ``path`` (created with mode 0600; every writer appends)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return cls.to_fd(fd)

    def record(self, rows: Iterable[IssuanceRecord]) -> None:
        """Write one line per register row of ``rows`` (issued certificates)."""
        lines = [
            orjson.dumps(
                {
                    "event": AUDIT_EVENT,
                    "account": row.account_id,
                    "member": row.member,
                    "channel": row.channel,
                    "uvci": row.uvci,
                    "kid": row.kid,
                    "test_type": row.test_type,
                    "iat": row.issued_at,
                    "exp": row.expires_at,
                    "signature_hash": row.signature_hash,
                    "uci_hash": row.uci_hash,
                    "country_uci_hash": row.country_uci_hash,
                },
                option=orjson.OPT_APPEND_NEWLINE,
            )
            for row in rows
        ]
        if lines:
            self._sink(lines)


def _write_lines(fd: int, lines: list[bytes]) -> None:
    """Write ``lines`` to ``fd`` in chunks of whole lines of at most PIPE_BUF bytes."""
    chunk: list[bytes] = []
    size = 0
    for line in lines:
        if chunk and size + len(line) > _PIPE_BUF:
            _write_all(fd, b"".join(chunk))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line)
    if chunk:
        _write_all(fd, b"".join(chunk))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
