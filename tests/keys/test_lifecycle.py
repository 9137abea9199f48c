"""The DSC lifecycle: states from the manifest's times; rotate, retire and revoke on disk."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from keys.generate import generate_keys
from keys.kid import compute_kid, kid_b64
from keys.lifecycle import (
    CLOCK_SKEW_SECONDS,
    KeyState,
    directory_states,
    retire_dsc,
    revoke_dsc,
    rotate_dsc,
)
from keys.load import load_certificate, load_signing_keys
from keys.manifest import MANIFEST_FILE, read_manifest
from signing.errors import KeyMaterialError

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = 86400
VALIDITY = 3 * DAY


def _states(
    directory: Path, at: datetime, last_expiry: dict[str, int] | None = None
) -> dict[str, KeyState]:
    statuses = directory_states(
        directory, max_validity_seconds=VALIDITY, now=at, last_expiry=last_expiry
    )
    return {status.record.kid: status.state for status in statuses}


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    generate_keys(directory, now=T0)
    return directory


def test_init_writes_a_manifest_with_the_first_dsc_active(keys_dir: Path) -> None:
    (record,) = read_manifest(keys_dir).dscs
    assert record.kid == kid_b64(compute_kid(load_certificate(keys_dir / "dsc.pem")))
    assert record.activates_at == int(T0.timestamp())
    assert _states(keys_dir, T0) == {record.kid: KeyState.ACTIVE}


def test_a_directory_without_manifest_reads_as_its_one_dsc(keys_dir: Path) -> None:
    (keys_dir / MANIFEST_FILE).unlink()
    (record,) = read_manifest(keys_dir).dscs
    assert (record.cert_file, record.key_file, record.backend) == ("dsc.pem", "dsc.key", "file")
    assert _states(keys_dir, T0 + timedelta(days=1)) == {record.kid: KeyState.ACTIVE}


def test_rotation_pending_active_retiring_retired(keys_dir: Path) -> None:
    old = read_manifest(keys_dir).dscs[0].kid
    switch = T0 + timedelta(days=30)
    rotated = rotate_dsc(keys_dir, activates_at=switch, now=T0 + timedelta(days=29))
    new = rotated.record.kid
    assert stat.S_IMODE((keys_dir / str(rotated.record.key_file)).stat().st_mode) == 0o600
    loaded = load_signing_keys(
        keys_dir,
        now=switch,
        cert_file=rotated.record.cert_file,
        key_file=str(rotated.record.key_file),
    )
    assert loaded.csca is not None
    assert kid_b64(loaded.kid) == new
    before = switch - timedelta(seconds=1)
    assert _states(keys_dir, before) == {old: KeyState.ACTIVE, new: KeyState.PENDING}
    assert _states(keys_dir, switch) == {old: KeyState.RETIRING, new: KeyState.ACTIVE}
    horizon = switch + timedelta(seconds=VALIDITY + CLOCK_SKEW_SECONDS)
    assert _states(keys_dir, horizon - timedelta(seconds=1))[old] is KeyState.RETIRING
    assert _states(keys_dir, horizon) == {old: KeyState.RETIRED, new: KeyState.ACTIVE}


def test_the_register_keeps_a_retiring_dsc_published_until_its_last_expiry(
    keys_dir: Path,
) -> None:
    old = read_manifest(keys_dir).dscs[0].kid
    switch = T0 + timedelta(days=1)
    rotate_dsc(keys_dir, activates_at=switch, now=T0)
    late = int((switch + timedelta(days=10)).timestamp())
    at = switch + timedelta(days=5)
    assert _states(keys_dir, at)[old] is KeyState.RETIRED
    assert _states(keys_dir, at, last_expiry={old: late})[old] is KeyState.RETIRING
    statuses = directory_states(
        keys_dir, max_validity_seconds=VALIDITY, now=at, last_expiry={old: late}
    )
    assert [s.published for s in statuses] == [True, True]


def test_retire_without_successor_leaves_no_active_key(keys_dir: Path) -> None:
    kid = read_manifest(keys_dir).dscs[0].kid
    retire_dsc(keys_dir, kid[:5], at=T0 + timedelta(hours=1))
    assert _states(keys_dir, T0 + timedelta(minutes=59)) == {kid: KeyState.ACTIVE}
    assert _states(keys_dir, T0 + timedelta(hours=1)) == {kid: KeyState.RETIRING}


def test_revoke_removes_the_dsc_at_the_chosen_time_even_with_live_certificates(
    keys_dir: Path,
) -> None:
    old = read_manifest(keys_dir).dscs[0].kid
    rotate_dsc(keys_dir, activates_at=T0 + timedelta(hours=1), now=T0)
    at = T0 + timedelta(hours=2)
    record = revoke_dsc(keys_dir, old, remove_at=at + timedelta(minutes=10), now=at)
    assert record.revoked_at == int(at.timestamp())
    live = {old: int((at + timedelta(days=2)).timestamp())}
    statuses = directory_states(
        keys_dir, max_validity_seconds=VALIDITY, now=at + timedelta(minutes=9), last_expiry=live
    )
    assert (statuses[0].state, statuses[0].published) == (KeyState.REVOKED, True)
    statuses = directory_states(
        keys_dir, max_validity_seconds=VALIDITY, now=at + timedelta(minutes=10), last_expiry=live
    )
    assert (statuses[0].state, statuses[0].published) == (KeyState.REVOKED, False)


def test_revoking_the_active_dsc_stops_its_signing_at_once(keys_dir: Path) -> None:
    kid = read_manifest(keys_dir).dscs[0].kid
    revoke_dsc(keys_dir, kid, now=T0 + timedelta(hours=1))
    statuses = directory_states(
        keys_dir, max_validity_seconds=VALIDITY, now=T0 + timedelta(hours=1)
    )
    assert [(s.state, s.published) for s in statuses] == [(KeyState.REVOKED, False)]


def test_scopes_have_their_own_active_dsc(keys_dir: Path) -> None:
    default = read_manifest(keys_dir).dscs[0].kid
    lab = rotate_dsc(keys_dir, activates_at=T0, scope="lab-1", now=T0).record
    assert "OU=scope lab-1" in load_certificate(keys_dir / lab.cert_file).subject.rfc4514_string()
    assert _states(keys_dir, T0) == {default: KeyState.ACTIVE, lab.kid: KeyState.ACTIVE}
    with pytest.raises(KeyMaterialError) as caught:
        rotate_dsc(keys_dir, activates_at=T0, scope="Lab 1", now=T0)
    assert caught.value.code == "scope_invalid"


def test_unknown_kid_and_missing_csca_are_refused(keys_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(KeyMaterialError) as caught:
        retire_dsc(keys_dir, "nope")
    assert caught.value.code == "dsc_unknown"
    (keys_dir / "csca.key").unlink()
    with pytest.raises(KeyMaterialError) as caught:
        rotate_dsc(keys_dir, activates_at=T0, now=T0)
    assert caught.value.code == "key_file_missing"


def test_a_tampered_manifest_is_refused(keys_dir: Path) -> None:
    (keys_dir / MANIFEST_FILE).write_text('{"version": 1, "dscs": [{"kid": 1}]}')
    with pytest.raises(KeyMaterialError) as caught:
        read_manifest(keys_dir)
    assert caught.value.code == "manifest_invalid"
    (keys_dir / MANIFEST_FILE).write_text(
        '{"version": 1, "dscs": [{"kid": "a", "cert_file": "../x.pem", "key_file": null,'
        ' "activates_at": 0}]}'
    )
    with pytest.raises(KeyMaterialError):
        read_manifest(keys_dir)
