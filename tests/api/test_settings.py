"""Settings: DCC_* variables read once, every problem reported together."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from api.ratelimit import Rate
from api.settings import Settings
from hcert.valuesets import TEST_TYPE_NAAT, TEST_TYPE_RAT
from signing.errors import ConfigError


def test_defaults_when_nothing_is_set() -> None:
    """An empty environment gives the documented embedded default."""
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.keys_dir == Path("var/keys")
    assert settings.redis_url is None
    assert settings.country == "LU"
    assert settings.timezone == "Europe/Luxembourg"
    assert settings.rate_pharmacist == Rate.parse("60/minute")


def test_values_are_read_and_converted() -> None:
    """Each variable lands in its typed field; bursts pair with their rate."""
    settings = Settings.from_env(
        {
            "DCC_KEYS_DIR": "/srv/keys",
            "DCC_COUNTRY": "DE",
            "DCC_ISSUER": "Robert Koch-Institut",
            "DCC_TIMEZONE": "America/St_Johns",
            "DCC_VALIDITY_RAT_HOURS": "24",
            "DCC_REDIS_URL": "redis://127.0.0.1:6379/0",
            "DCC_RATE_LAB": "100/second",
            "DCC_RATE_LAB_BURST": "500",
            "DCC_RATELIMIT_FAILURE": "fail-closed",
            "DCC_SIGNER_SLOTS": "2",
        }
    )
    assert settings.keys_dir == Path("/srv/keys")
    assert settings.timezone == "America/St_Johns"
    assert settings.rate_lab == Rate.parse("100/second", 500)
    assert settings.ratelimit_failure == "fail-closed"
    config = settings.issuer_config()
    assert config.country == "DE"
    assert config.issuer_name == "Robert Koch-Institut"
    assert config.validity_for(TEST_TYPE_RAT) == timedelta(hours=24)
    assert config.validity_for(TEST_TYPE_NAAT) == timedelta(hours=72)


def test_every_bad_variable_is_named_in_one_error() -> None:
    """A bad deployment fails once, listing each variable that is wrong."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(
            {
                "DCC_COUNTRY": "lux",
                "DCC_TIMEZONE": "Mars/Olympus",
                "DCC_RATE_VERIFY": "often",
                "DCC_SIGNER_SLOTS": "0",
                "DCC_RATELIMIT_FAILURE": "ignore",
            }
        )
    message = caught.value.message
    assert caught.value.code == "settings_invalid"
    for name in ("COUNTRY", "TIMEZONE", "RATE_VERIFY", "SIGNER_SLOTS", "RATELIMIT_FAILURE"):
        assert f"DCC_{name}" in message
    assert "\n" not in message


def test_oidc_settings_are_read_only_with_an_issuer_and_pinned() -> None:
    assert Settings.from_env({}).oidc is None
    oidc = Settings.from_env(
        {
            "DCC_OIDC_ISSUER": "https://id.example.lu/",
            "DCC_OIDC_CLIENT_ID": "dcc",
            "DCC_OIDC_CLIENT_SECRET": "s3cret",
            "DCC_OIDC_AUDIENCE": "urn:dcc:api",
            "DCC_SESSION_IDLE_MINUTES": "15",
        }
    ).oidc
    assert oidc is not None
    assert (oidc.issuer, oidc.algorithms, oidc.session_idle_seconds) == (
        "https://id.example.lu",
        ("RS256", "ES256"),
        900,
    )
    assert "s3cret" not in repr(oidc)
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(
            {
                "DCC_OIDC_ISSUER": "http://id.example.lu",
                "DCC_OIDC_ALGORITHMS": "none,HS256",
            }
        )
    message = caught.value.message
    assert "DCC_OIDC_ISSUER='http://id.example.lu': the issuer must be an https:// URL" in message
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(
            {"DCC_OIDC_ISSUER": "https://id.example.lu", "DCC_OIDC_ALGORITHMS": "none"}
        )
    message = caught.value.message
    assert "DCC_OIDC_ALGORITHMS='none'" in message
    assert "DCC_OIDC_CLIENT_ID: required" in message
    assert "DCC_OIDC_CLIENT_SECRET: required" in message
