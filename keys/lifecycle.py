"""The DSC lifecycle: pending → active → retiring → retired (or revoked), from the manifest.

A state is never stored: it follows from the manifest's times, the clock, and how long the
certificates of a DSC may live (:func:`key_states`). Per scope (None is the default one):

- **pending**: ``activates_at`` is in the future. Already published in the trust list, so
  verifiers hold the key before the first certificate it signs.
- **active**: the pending-no-more DSC with the latest ``activates_at``, not retired,
  revoked or expired. The one the scope's accounts sign with.
- **retiring**: no longer signs (a successor became active, it was retired, or its DSC
  expired) but certificates it signed may still be valid: still published.
- **retired**: no certificate it signed can still be valid: left out of the trust list.
  "Valid" ends at the later of (stopped signing + the longest certificate validity + clock
  skew) and the last expiry the issuance register holds for the kid, never after the DSC.
- **revoked**: stopped signing at ``revoked_at``; published until ``remove_at`` (the time
  :func:`revoke_dsc` was given), then dropped even while its certificates are unexpired.

:func:`rotate_dsc`, :func:`retire_dsc` and :func:`revoke_dsc` change a keys directory under
its writer lock.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from keys.eku import CertType
from keys.files import write_atomically
from keys.generate import build_dsc, dsc_name, new_private_key, private_pem
from keys.kid import compute_kid, kid_b64
from keys.layout import CSCA_CERT_FILE, CSCA_KEY_FILE
from keys.load import load_certificate, load_private_key
from keys.manifest import (
    Backend,
    DscRecord,
    KeyManifest,
    check_scope,
    manifest_lock,
    read_manifest,
    write_manifest,
)
from signing.algorithms import PublicKey, alg_for_key
from signing.errors import KeyMaterialError

__all__ = [
    "CLOCK_SKEW_SECONDS",
    "PUBLISHED_STATES",
    "DscStatus",
    "KeyState",
    "RotatedDsc",
    "directory_states",
    "key_states",
    "load_manifest_certificates",
    "retire_dsc",
    "revoke_dsc",
    "rotate_dsc",
]

CLOCK_SKEW_SECONDS: Final = 300
"""Added to a retiring DSC's horizon: replicas' clocks and the certificate checks' skew."""


class KeyState(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    RETIRING = "retiring"
    RETIRED = "retired"
    REVOKED = "revoked"


PUBLISHED_STATES: Final = frozenset({KeyState.PENDING, KeyState.ACTIVE, KeyState.RETIRING})


@dataclass(frozen=True, slots=True)
class DscStatus:
    """A DSC, its certificate and its state at one moment.

    ``stops_signing_at`` is when it stopped (or will stop) signing (at the latest, when the
    DSC expires); ``published_until`` is when it leaves the trust list. ``published`` says
    whether the trust list holds it now.
    """

    record: DscRecord
    certificate: x509.Certificate
    state: KeyState
    stops_signing_at: int
    published_until: int
    published: bool
    last_expiry: int | None


def _successor_start(record: DscRecord, records: Sequence[DscRecord]) -> int | None:
    """When the next DSC of the same scope activates (the earliest later start), if any."""
    later = [
        r.activates_at
        for r in records
        if r.scope == record.scope
        and r.kid != record.kid
        and r.activates_at > record.activates_at
        and r.revoked_at is None
        and (r.retired_at is None or r.retired_at > r.activates_at)
    ]
    return min(later) if later else None


def _stop(record: DscRecord, not_after: int, records: Sequence[DscRecord]) -> int:
    """When ``record`` stops signing: retired, revoked, superseded or expired, the earliest."""
    ends = [not_after, record.retired_at, record.revoked_at, _successor_start(record, records)]
    return min(end for end in ends if end is not None)


def key_states(
    manifest: KeyManifest,
    certificates: Mapping[str, x509.Certificate],
    *,
    now: int,
    max_validity_seconds: int,
    last_expiry: Mapping[str, int] | None = None,
) -> list[DscStatus]:
    """The state of every DSC of ``manifest`` at ``now`` (see the module docstring).

    ``certificates`` maps each kid (base64) to its DSC; ``max_validity_seconds`` is the
    longest validity a certificate gets; ``last_expiry`` the register's latest ``exp`` per
    kid, when known.
    """
    expiries = last_expiry or {}
    records = manifest.dscs
    active: dict[str | None, DscRecord] = {}
    for record in records:
        cert = certificates[record.kid]
        not_after = int(cert.not_valid_after_utc.timestamp())
        stop = _stop(record, not_after, records)
        signs = record.activates_at <= now < stop
        if signs and record.revoked_at is None:
            current = active.get(record.scope)
            if current is None or record.activates_at >= current.activates_at:
                active[record.scope] = record
    statuses: list[DscStatus] = []
    for record in records:
        cert = certificates[record.kid]
        not_after = int(cert.not_valid_after_utc.timestamp())
        stop = _stop(record, not_after, records)
        last = expiries.get(record.kid)
        if record.revoked_at is not None:
            until = record.remove_at if record.remove_at is not None else stop
        else:
            horizon = max(stop + max_validity_seconds + CLOCK_SKEW_SECONDS, last or 0)
            until = min(not_after, horizon)
        if record.revoked_at is not None and record.revoked_at <= now:
            state = KeyState.REVOKED
        elif record.activates_at > now:
            state = KeyState.PENDING
        elif active.get(record.scope) is record:
            state = KeyState.ACTIVE
        elif now < until:
            state = KeyState.RETIRING
        else:
            state = KeyState.RETIRED
        published = state in PUBLISHED_STATES or (state is KeyState.REVOKED and now < until)
        statuses.append(DscStatus(record, cert, state, stop, until, published, last))
    return statuses


def _now(now: datetime | None) -> datetime:
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)


def load_manifest_certificates(
    directory: Path, manifest: KeyManifest
) -> dict[str, x509.Certificate]:
    """The DSC certificate of every record, by kid (checked against the record's kid)."""
    certificates: dict[str, x509.Certificate] = {}
    for record in manifest.dscs:
        cert = load_certificate(directory / record.cert_file)
        if kid_b64(compute_kid(cert)) != record.kid:
            raise KeyMaterialError(
                f"{directory / record.cert_file} does not hold the DSC of kid {record.kid}",
                code="manifest_invalid",
            )
        certificates[record.kid] = cert
    return certificates


@dataclass(frozen=True, slots=True)
class RotatedDsc:
    """What :func:`rotate_dsc` created."""

    record: DscRecord
    certificate: x509.Certificate


def rotate_dsc(
    directory: Path,
    *,
    activates_at: datetime,
    passphrase: bytes | None = None,
    scope: str | None = None,
    cert_types: Sequence[CertType] = ("test",),
    now: datetime | None = None,
    public_key: PublicKey | None = None,
    token_key_label: str | None = None,
    rsa_bits: int = 2048,
) -> RotatedDsc:
    """Create a new DSC under the directory's CSCA, active from ``activates_at``.

    The key is new, of the CSCA's algorithm (ES256 or PS256 with ``rsa_bits``), written as
    ``dsc-<kid hex>.key`` (0600, encrypted with ``passphrase``) beside ``dsc-<kid hex>.pem``;
    with ``public_key`` the private key lives elsewhere (a PKCS#11 token, found by
    ``token_key_label``) and only the certificate is written. Raises
    :class:`KeyMaterialError` (no CSCA, wrong passphrase, bad scope, unwritable directory).
    """
    start = _now(now)
    check_scope(scope)
    activation = int(_now(activates_at).timestamp())
    csca = load_certificate(directory / CSCA_CERT_FILE)
    csca_key = load_private_key(directory / CSCA_KEY_FILE, passphrase)
    private = None
    if public_key is None:
        alg = "ES256" if alg_for_key(csca_key) == -7 else "PS256"
        private = new_private_key(alg, rsa_bits)
        public_key = private.public_key()
    cert = build_dsc(public_key, dsc_name(csca, scope), csca, csca_key, start, cert_types)
    kid = compute_kid(cert)
    stem = f"dsc-{kid.hex()}"
    backend: Backend = "file" if private is not None else "pkcs11"
    record = DscRecord(
        kid=kid_b64(kid),
        cert_file=f"{stem}.pem",
        key_file=f"{stem}.key" if private is not None else None,
        activates_at=activation,
        backend=backend,
        scope=scope,
        created_at=int(start.timestamp()),
        token_key_label=token_key_label,
    )
    try:
        with manifest_lock(directory):
            manifest = read_manifest(directory)
            if private is not None:
                pem = private_pem(private, passphrase)
                write_atomically(directory / f"{stem}.key", pem, 0o600)
            pem_cert = cert.public_bytes(serialization.Encoding.PEM)
            write_atomically(directory / f"{stem}.pem", pem_cert, 0o644)
            write_manifest(directory, manifest.added(record))
    except OSError as exc:
        raise KeyMaterialError(
            f"cannot write the new DSC to {directory}: {exc.strerror or exc}",
            code="keys_write_failed",
        ) from exc
    return RotatedDsc(record, cert)


def _update(directory: Path, kid: str, **times: int | None) -> DscRecord:
    try:
        with manifest_lock(directory):
            manifest = read_manifest(directory)
            record = replace(manifest.find(kid), **times)  # type: ignore[arg-type]
            write_manifest(directory, manifest.replaced(record))
    except OSError as exc:
        raise KeyMaterialError(
            f"cannot update the manifest in {directory}: {exc.strerror or exc}",
            code="keys_write_failed",
        ) from exc
    return record


def retire_dsc(directory: Path, kid: str, *, at: datetime | None = None) -> DscRecord:
    """Stop signing with ``kid`` at ``at`` (default now); it stays published until its last
    certificate expires (state retiring, then retired)."""
    return _update(directory, kid, retired_at=int(_now(at).timestamp()))


def revoke_dsc(
    directory: Path, kid: str, *, remove_at: datetime | None = None, now: datetime | None = None
) -> DscRecord:
    """Revoke ``kid``: it stops signing now and leaves the trust list at ``remove_at``
    (default now), even while certificates it signed have not expired (state revoked).

    Replicas follow within a second (they re-read the manifest); the certificates it signed
    then fail verification with ``kid_unknown``.
    """
    moment = int(_now(now).timestamp())
    removal = moment if remove_at is None else int(_now(remove_at).timestamp())
    return _update(directory, kid, revoked_at=moment, remove_at=max(removal, moment))


def revoke_listed_dsc(
    directory: Path, kid: str, *, remove_at: datetime | None = None, now: datetime | None = None
) -> DscRecord | None:
    """:func:`revoke_dsc` when ``kid`` (exactly) is a DSC of this keys directory; None when
    it is not one of ours (a revocation of another issuer's key only revokes certificates)."""
    if not any(record.kid == kid for record in read_manifest(directory).dscs):
        return None
    return revoke_dsc(directory, kid, remove_at=remove_at, now=now)


def directory_states(
    directory: Path,
    *,
    max_validity_seconds: int,
    now: datetime | None = None,
    last_expiry: Mapping[str, int] | None = None,
) -> list[DscStatus]:
    """:func:`key_states` of the DSCs of a keys directory at ``now`` (default: the time)."""
    manifest = read_manifest(directory)
    return key_states(
        manifest,
        load_manifest_certificates(directory, manifest),
        now=int(_now(now).timestamp()),
        max_validity_seconds=max_validity_seconds,
        last_expiry=last_expiry,
    )
