"""The audit trail: one JSON line per certificate, whole lines, never personal data."""

from __future__ import annotations

import json
import logging
import os
import select
import threading
from typing import Any

import pytest

from api.audit import AUDIT_LOGGER, AuditTrail
from api.issuance import register_rows
from issuer.issuer import IssuedCertificate
from store.register import Channel, IssuanceRecord

KEYS = {
    "event", "account", "member", "channel", "uvci", "kid", "test_type", "iat", "exp",
    "signature_hash", "uci_hash", "country_uci_hash",
}  # fmt: skip


def _rows(
    certificates: list[IssuedCertificate], account: str, channel: Channel, member: str | None = None
) -> list[IssuanceRecord]:
    return register_rows(certificates, account_id=account, channel=channel, member=member)


@pytest.fixture
def certificates(service: Any, make_request: Any) -> list[IssuedCertificate]:
    issuer = service.resources.runtime.issuer
    return [issuer.issue(make_request()) for _ in range(40)]


def _read_all(fd: int, chunks: list[bytes]) -> None:
    while data := os.read(fd, 65536):
        chunks.append(data)


def test_fd_sink_writes_whole_lines_in_chunks_of_at_most_pipe_buf(
    certificates: list[IssuedCertificate],
) -> None:
    read_end, write_end = os.pipe()
    chunks: list[bytes] = []
    reader = threading.Thread(target=_read_all, args=(read_end, chunks))
    reader.start()
    try:
        AuditTrail.to_fd(write_end).record(_rows(certificates, "lab-1", "batch"))
    finally:
        os.close(write_end)
        reader.join(timeout=10)
        os.close(read_end)
    text = b"".join(chunks)
    assert sum(len(chunk) for chunk in chunks) > select.PIPE_BUF  # more than one write
    assert text.endswith(b"\n")
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["uvci"] for line in lines] == [c.uvci for c in certificates]
    for line, certificate in zip(lines, certificates, strict=True):
        assert set(line) == KEYS
        assert line["event"] == "certificate_issued"
        assert line["account"] == "lab-1"
        assert line["signature_hash"] == certificate.audit()["signature_hash"]


def test_fd_writes_never_split_a_line(certificates: list[IssuedCertificate], tmp_path: Any) -> None:
    """Each os.write carries whole lines only (so workers sharing a pipe never interleave)."""
    writes: list[bytes] = []
    path = tmp_path / "audit.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    real_write = os.write

    def recording_write(target: int, data: Any) -> int:
        writes.append(bytes(data))
        return real_write(target, data)

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(os, "write", recording_write)
            AuditTrail.to_fd(fd).record(_rows(certificates, "lab-1", "batch"))
    finally:
        os.close(fd)
    assert len(writes) > 1
    for data in writes:
        assert len(data) <= select.PIPE_BUF
        assert data.endswith(b"\n")
    assert b"".join(writes) == path.read_bytes()


def test_logger_sink_logs_one_record_per_certificate(
    certificates: list[IssuedCertificate], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=AUDIT_LOGGER)
    AuditTrail.to_logger().record(_rows(certificates[:3], "pharmacy-7", "single"))
    records = [r for r in caplog.records if r.name == AUDIT_LOGGER]
    assert [json.loads(r.getMessage())["uvci"] for r in records] == [
        c.uvci for c in certificates[:3]
    ]
    assert all(getattr(r, "event", None) == "certificate_issued" for r in records)


def test_nothing_is_written_for_no_certificate() -> None:
    written: list[list[bytes]] = []
    AuditTrail(written.append).record(_rows([], "lab-1", "batch"))
    assert written == []


def test_no_personal_data_in_audit_lines(certificates: list[IssuedCertificate]) -> None:
    written: list[list[bytes]] = []
    AuditTrail(written.append).record(_rows(certificates[:1], "lab-1", "batch"))
    line = written[0][0].decode()
    person = certificates[0].certificate["nam"]
    for value in (*person.values(), certificates[0].certificate["dob"]):
        assert value not in line


def test_a_line_holds_the_row_of_its_certificate(certificates: list[IssuedCertificate]) -> None:
    written: list[list[bytes]] = []
    AuditTrail(written.append).record(_rows(certificates[:2], "lab-1", "batch", "subject-9"))
    for data, certificate in zip(written[0], certificates[:2], strict=True):
        line = json.loads(data)
        assert list(line) == [
            "event", "account", "member", "channel", "uvci", "kid", "test_type", "iat", "exp",
            "signature_hash", "uci_hash", "country_uci_hash",
        ]  # fmt: skip
        assert line == {
            "event": "certificate_issued",
            "account": "lab-1",
            "member": "subject-9",
            "channel": "batch",
            **certificate.audit(),
        }
