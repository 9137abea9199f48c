"""The key manifest: which DSCs a keys directory holds and their lifecycle times (``keys.json``).

The manifest lives in the keys directory, beside the key files it describes, because every
replica must already share that directory to sign with a rotated key: a DSC and its
lifecycle then travel together, and no replica can see a key as active before it can read
the key itself (a database row could announce a key whose file a replica does not have
yet). Writers (``dcc keys rotate|retire``) take an exclusive ``flock`` on ``.keys.lock``
and replace the file atomically; readers never lock and see the old manifest or the new one.

A directory written before manifests existed (``dsc.pem`` + ``dsc.key`` alone) reads as a
manifest of that one DSC, active since its notBefore.

Times are integers, seconds since the epoch (UTC).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final, Literal, cast

from keys.files import write_atomically
from keys.kid import compute_kid, kid_b64
from keys.layout import DSC_CERT_FILE, DSC_KEY_FILE, MAX_KEY_FILE_BYTES
from keys.load import load_certificate
from signing.errors import KeyMaterialError

__all__ = [
    "MANIFEST_FILE",
    "Backend",
    "DscRecord",
    "KeyManifest",
    "check_scope",
    "manifest_lock",
    "read_manifest",
    "write_manifest",
]

MANIFEST_FILE: Final = "keys.json"
_LOCK_FILE: Final = ".keys.lock"
_VERSION: Final = 1
_SCOPE_RE: Final = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")

Backend = Literal["file", "pkcs11"]


@dataclass(frozen=True, slots=True)
class DscRecord:
    """One DSC of the directory and its lifecycle times.

    ``cert_file``/``key_file`` are names inside the directory (``key_file`` is None for a
    key held in a PKCS#11 token, found there by ``token_key_label``). ``scope`` limits the
    DSC to accounts of that scope (None: the default scope). ``retired_at`` stops signing
    at that time (certificates stay published until they expire); ``revoked_at`` stops
    signing and ``remove_at`` drops the DSC from the trust list even with live certificates.
    """

    kid: str
    cert_file: str
    key_file: str | None
    activates_at: int
    backend: Backend = "file"
    scope: str | None = None
    created_at: int = 0
    retired_at: int | None = None
    revoked_at: int | None = None
    remove_at: int | None = None
    token_key_label: str | None = None


@dataclass(frozen=True, slots=True)
class KeyManifest:
    """Every DSC of a keys directory, oldest first."""

    dscs: tuple[DscRecord, ...]

    def find(self, kid: str) -> DscRecord:
        """The record of ``kid`` (base64, or a unique prefix of it)."""
        matches = [record for record in self.dscs if record.kid.startswith(kid)] if kid else []
        exact = [record for record in matches if record.kid == kid]
        if len(exact) == 1 or len(matches) == 1:
            return (exact or matches)[0]
        raise KeyMaterialError(
            f"no single DSC with kid {kid!r} in the keys directory"
            + (f" ({len(matches)} match)" if matches else ""),
            code="dsc_unknown",
            kid=kid,
        )

    def replaced(self, record: DscRecord) -> KeyManifest:
        """This manifest with ``record`` replacing the one of the same kid."""
        return KeyManifest(tuple(record if r.kid == record.kid else r for r in self.dscs))

    def added(self, record: DscRecord) -> KeyManifest:
        """This manifest with ``record`` appended."""
        return KeyManifest((*self.dscs, record))


def check_scope(scope: str | None) -> str | None:
    """``scope`` when it is a short lower-case name (``lab-1``, ``site.north``), else an error."""
    if scope is not None and not _SCOPE_RE.fullmatch(scope):
        raise KeyMaterialError(
            f"a scope is 1 to 40 characters a-z 0-9 _ . - starting with a letter or digit, "
            f"not {scope!r}",
            code="scope_invalid",
        )
    return scope


def _legacy(directory: Path) -> KeyManifest:
    cert_path = directory / DSC_CERT_FILE
    if not cert_path.exists():
        return KeyManifest(())
    cert = load_certificate(cert_path)
    start = int(cert.not_valid_before_utc.timestamp())
    record = DscRecord(
        kid=kid_b64(compute_kid(cert)),
        cert_file=DSC_CERT_FILE,
        key_file=DSC_KEY_FILE,
        activates_at=start,
        created_at=start,
    )
    return KeyManifest((record,))


def _invalid(path: Path, why: str) -> KeyMaterialError:
    return KeyMaterialError(f"{path} is not a valid key manifest: {why}", code="manifest_invalid")


def _record(raw: object, path: Path) -> DscRecord:
    if not isinstance(raw, dict):
        raise _invalid(path, "a DSC entry is not an object")
    try:
        record = DscRecord(**raw)
    except TypeError as exc:
        raise _invalid(path, str(exc)) from exc
    names = [record.cert_file, record.key_file or "x"]
    if any("/" in name or name.startswith(".") for name in names):
        raise _invalid(path, "file names must be plain names inside the keys directory")
    if record.backend not in ("file", "pkcs11"):
        raise _invalid(path, f"unknown backend {record.backend!r}")
    return record


def read_manifest(directory: Path) -> KeyManifest:
    """The manifest of ``directory`` (the legacy single DSC when there is no ``keys.json``)."""
    path = directory / MANIFEST_FILE
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except FileNotFoundError:
        return _legacy(directory)
    except OSError as exc:
        raise _invalid(path, exc.strerror or str(exc)) from exc
    if len(data) > MAX_KEY_FILE_BYTES:
        raise _invalid(path, "too large")
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise _invalid(path, "not JSON") from exc
    if not isinstance(document, dict) or document.get("version") != _VERSION:
        raise _invalid(path, f"expected an object with version {_VERSION}")
    entries = document.get("dscs")
    if not isinstance(entries, list):
        raise _invalid(path, '"dscs" must be a list')
    return KeyManifest(tuple(_record(entry, path) for entry in cast(list[object], entries)))


def write_manifest(directory: Path, manifest: KeyManifest) -> None:
    """Replace ``keys.json`` atomically (mode 0644: it holds no secret)."""
    document = {"version": _VERSION, "dscs": [asdict(record) for record in manifest.dscs]}
    data = json.dumps(document, indent=2).encode() + b"\n"
    write_atomically(directory / MANIFEST_FILE, data, 0o644)


@contextlib.contextmanager
def manifest_lock(directory: Path) -> Iterator[None]:
    """Hold the directory's writer lock (``flock`` on ``.keys.lock``) for a read-modify-write."""
    fd = os.open(directory / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
