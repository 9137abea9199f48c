"""The composition root (api.runtime): keys, pool and issuer from settings, checked at start."""

from __future__ import annotations

import dataclasses

import pytest

from api.issuing_runtime import build_issuing_runtime
from api.settings import Settings
from signing.errors import ConfigError


def test_a_dsc_of_another_country_refuses_to_start(settings: Settings) -> None:
    """DCC_COUNTRY=DE with an LU signing certificate would issue DE certificates signed by LU."""
    with pytest.raises(ConfigError) as caught:
        build_issuing_runtime(dataclasses.replace(settings, country="DE"))
    assert caught.value.code == "country_mismatch"
    assert "DCC_COUNTRY=LU" in caught.value.message


def test_the_runtime_issues_for_the_dsc_country(settings: Settings) -> None:
    runtime = build_issuing_runtime(settings)
    assert runtime.keys.country == settings.country == "LU"
    assert runtime.issuer.config.country == "LU"
