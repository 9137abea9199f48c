"""Settings: ``DCC_*`` environment variables, read once into one validated object.

``Settings.from_env()`` is called once by the CLI (and by ``dcc serve`` before it builds the
app); everything else receives the object. Every problem found is reported in one
:class:`ConfigError` naming the variables, so a bad deployment fails at start-up with one
clear message.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Final, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from api.accounts import REFRESH_SECONDS
from api.oidc_settings import OidcSettings, read_oidc_settings
from api.proxies import Network, parse_networks
from api.ratelimit.rate import Rate
from hcert.valuesets import PACKAGED_DEVICES_FILE, TEST_TYPE_NAAT, TEST_TYPE_RAT
from issuer.issuer import IssuerConfig
from issuer.request import RequestPolicy
from signing.errors import ConfigError, DccError
from store.url import DEFAULT_DATABASE_URL, parse_database_url

__all__ = ["DEFAULT_RATES", "FailurePolicy", "Settings"]

FailurePolicy = Literal["degrade", "fail-closed"]
PREFIX: Final = "DCC_"
DEFAULT_RATES: Final = {
    "pharmacist": "60/minute",
    "lab": "20000/hour",
    "global": "5000/second",
    "verify": "30/minute",
}
T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """Everything the service and the CLI can be configured with (defaults in docs/settings.md)."""

    keys_dir: Path = Path("var/keys")
    key_passphrase: bytes | None = field(default=None, repr=False)
    database_url: str = DEFAULT_DATABASE_URL
    audit_file: Path | None = None
    accounts_refresh: float = REFRESH_SECONDS
    country: str = "LU"
    issuer_name: str = "Ministry of Health"
    timezone: str = "Europe/Luxembourg"
    # The packaged EU list by default; None (embedding and tests only, no DCC_ value) means
    # no list: any id of 3 to 6 digits is accepted (DeviceRegistry.format_only).
    valuesets_file: Path | None = PACKAGED_DEVICES_FILE
    validity_rat: timedelta = timedelta(hours=48)
    validity_naat: timedelta = timedelta(hours=72)
    max_sample_age: timedelta = timedelta(hours=72)
    redis_url: str | None = None
    rate_pharmacist: Rate = field(default_factory=lambda: Rate.parse(DEFAULT_RATES["pharmacist"]))
    rate_lab: Rate = field(default_factory=lambda: Rate.parse(DEFAULT_RATES["lab"]))
    revocation_lists: tuple[Path, ...] = ()
    rate_global: Rate = field(default_factory=lambda: Rate.parse(DEFAULT_RATES["global"]))
    rate_verify: Rate = field(default_factory=lambda: Rate.parse(DEFAULT_RATES["verify"]))
    ratelimit_failure: FailurePolicy = "degrade"
    replicas: int = 1
    signer_slots: int = 4
    signer_timeout: float = 1.0
    max_body_bytes: int = 16 * 1024
    max_batch_items: int = 1000
    max_batch_body_bytes: int = 4 * 1024 * 1024
    max_image_bytes: int = 8 * 1024 * 1024
    # Trust lists from outside (issue 16): files or folders, their publishers' keys, reload.
    trust_lists: tuple[Path, ...] = (Path("var/trust"),)
    trust_list_keys: tuple[Path, ...] = ()
    trust_lists_refresh: float = 5.0
    # Destination rules: rule files (EU gateway format) added to the packaged LU rules.
    rules_dir: Path | None = None
    oidc: OidcSettings | None = None
    trust_list_validity: timedelta = timedelta(hours=48)
    pkcs11_module: Path | None = None
    pkcs11_token: str = "dcc"  # noqa: S105 - a token label, not a secret
    pkcs11_pin: str | None = field(default=None, repr=False)
    pkcs11_pin_file: Path | None = None
    trusted_proxies: tuple[Network, ...] = ()
    drain_seconds: float = 10.0

    def issuer_config(self) -> IssuerConfig:
        return IssuerConfig(
            country=self.country,
            issuer_name=self.issuer_name,
            validity={TEST_TYPE_RAT: self.validity_rat, TEST_TYPE_NAAT: self.validity_naat},
            policy=RequestPolicy(max_sample_age=self.max_sample_age),
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``DCC_*`` variables; raise one ConfigError listing every bad one."""
        reader = _Reader(os.environ if env is None else env)
        passphrase = reader.text("KEY_PASSPHRASE")
        settings = cls(
            keys_dir=reader.get("KEYS_DIR", Path, cls.keys_dir),
            key_passphrase=passphrase.encode() if passphrase else None,
            database_url=reader.get("DATABASE_URL", _database_url, cls.database_url),
            audit_file=reader.get("AUDIT_FILE", Path, None),
            accounts_refresh=reader.get("ACCOUNTS_REFRESH_SECONDS", _refresh, cls.accounts_refresh),
            country=reader.get("COUNTRY", _country, cls.country),
            issuer_name=reader.get("ISSUER", _issuer_name, cls.issuer_name),
            timezone=reader.get("TIMEZONE", _timezone, cls.timezone),
            valuesets_file=reader.get("VALUESETS_FILE", Path, cls.valuesets_file),
            validity_rat=reader.get("VALIDITY_RAT_HOURS", _hours, cls.validity_rat),
            validity_naat=reader.get("VALIDITY_NAAT_HOURS", _hours, cls.validity_naat),
            max_sample_age=reader.get("MAX_SAMPLE_AGE_HOURS", _hours, cls.max_sample_age),
            redis_url=reader.text("REDIS_URL") or None,
            rate_pharmacist=reader.rate("pharmacist"),
            rate_lab=reader.rate("lab"),
            rate_global=reader.rate("global"),
            rate_verify=reader.rate("verify"),
            ratelimit_failure=reader.get("RATELIMIT_FAILURE", _failure, cls.ratelimit_failure),
            replicas=reader.get("REPLICAS", _positive_int, cls.replicas),
            signer_slots=reader.get("SIGNER_SLOTS", _positive_int, cls.signer_slots),
            signer_timeout=reader.get("SIGNER_TIMEOUT", _seconds, cls.signer_timeout),
            max_body_bytes=reader.get("MAX_BODY_BYTES", _positive_int, cls.max_body_bytes),
            max_batch_items=reader.get("MAX_BATCH_ITEMS", _positive_int, cls.max_batch_items),
            max_batch_body_bytes=reader.get(
                "MAX_BATCH_BODY_BYTES", _positive_int, cls.max_batch_body_bytes
            ),
            max_image_bytes=reader.get("MAX_IMAGE_BYTES", _positive_int, cls.max_image_bytes),
            trust_lists=reader.get("TRUST_LISTS", _paths, cls.trust_lists),
            trust_list_keys=reader.get("TRUST_LIST_KEYS", _paths, cls.trust_list_keys),
            trust_lists_refresh=reader.get(
                "TRUST_LISTS_REFRESH_SECONDS", _trust_refresh, cls.trust_lists_refresh
            ),
            rules_dir=reader.get("RULES_DIR", Path, None),
            oidc=read_oidc_settings(reader.env, reader.problems, PREFIX),
            revocation_lists=reader.get(
                "REVOCATION_LISTS", _revocation_list_paths, cls.revocation_lists
            ),
            trust_list_validity=reader.get(
                "TRUST_LIST_VALIDITY_HOURS", _hours, cls.trust_list_validity
            ),
            pkcs11_module=reader.get("PKCS11_MODULE", Path, None),
            pkcs11_token=reader.text("PKCS11_TOKEN") or cls.pkcs11_token,
            pkcs11_pin=reader.text("PKCS11_PIN") or None,
            pkcs11_pin_file=reader.get("PKCS11_PIN_FILE", Path, None),
            trusted_proxies=reader.get("TRUSTED_PROXIES", parse_networks, cls.trusted_proxies),
            drain_seconds=reader.get("DRAIN_SECONDS", _seconds, cls.drain_seconds),
        )
        reader.raise_problems()
        return settings


class _Reader:
    """Collects every problem instead of stopping at the first."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def text(self, name: str) -> str | None:
        value = self.env.get(PREFIX + name)
        return value.strip() if value is not None else None

    def get(self, name: str, parse: Callable[[str], T], default: T) -> T:
        raw = self.text(name)
        if not raw:
            return default
        try:
            return parse(raw)
        except (ValueError, DccError) as exc:
            self.problems.append(f"{PREFIX}{name}={raw!r}: {exc}")
            return default

    def rate(self, role: str) -> Rate:
        name = f"RATE_{role.upper()}"
        text = self.text(name) or DEFAULT_RATES[role]
        burst_text = self.text(f"{name}_BURST")
        try:
            burst = int(burst_text) if burst_text else None
            return Rate.parse(text, burst)
        except (ValueError, DccError) as exc:
            self.problems.append(f"{PREFIX}{name}: {exc}")
            return Rate.parse(DEFAULT_RATES[role])

    def raise_problems(self) -> None:
        if self.problems:
            raise ConfigError(
                "invalid settings: " + "; ".join(self.problems), code="settings_invalid"
            )


def _revocation_list_paths(raw: str) -> tuple[Path, ...]:
    return tuple(Path(part) for part in raw.split(os.pathsep) if part.strip())


def _country(raw: str) -> str:
    if len(raw) != 2 or not raw.isascii() or not raw.isalpha() or not raw.isupper():
        raise ValueError("must be an ISO 3166-1 alpha-2 code such as LU")
    return raw


def _issuer_name(raw: str) -> str:
    if len(raw) > 80:
        raise ValueError("must be at most 80 characters (DCC field 'is')")
    return raw


def _timezone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("must be an IANA time zone such as Europe/Luxembourg") from exc
    return raw


def _database_url(raw: str) -> str:
    parse_database_url(raw)  # raises ConfigError (database_url_invalid)
    return raw


def _refresh(raw: str) -> float:
    value = float(raw)
    if not 0.05 <= value <= 1.0:
        raise ValueError("must be between 0.05 and 1 second (account changes apply within 1 s)")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be a positive integer")
    return value


def _hours(raw: str) -> timedelta:
    hours = float(raw)
    if not 0 < hours <= 24 * 366:
        raise ValueError("must be a number of hours between 0 and 8784")
    return timedelta(hours=hours)


def _seconds(raw: str) -> float:
    value = float(raw)
    if not 0 <= value <= 60:
        raise ValueError("must be a number of seconds between 0 and 60")
    return value


def _failure(raw: str) -> FailurePolicy:
    if raw == "degrade":
        return "degrade"
    if raw == "fail-closed":
        return "fail-closed"
    raise ValueError("must be 'degrade' or 'fail-closed'")


def _paths(raw: str) -> tuple[Path, ...]:
    """Paths separated by ``:`` (like ``PATH``); empty parts are ignored."""
    return tuple(Path(part) for part in raw.split(os.pathsep) if part.strip())


def _trust_refresh(raw: str) -> float:
    value = float(raw)
    if not 0.05 <= value <= 3600:
        raise ValueError("must be between 0.05 and 3600 seconds")
    return value
