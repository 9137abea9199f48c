"""An issuer with keys of its own for the render tests, and certificates of the design example."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.issuing_runtime import build_issuing_runtime
from api.settings import Settings
from issuer.issuer import IssuedCertificate, Issuer
from issuer.request import DESIGN_EXAMPLE
from keys.generate import generate_keys


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Issuer:
    keys = tmp_path_factory.mktemp("render") / "keys"
    generate_keys(keys, country="LU")
    return build_issuing_runtime(Settings(keys_dir=keys)).issuer


def issue_example(issuer: Issuer, **person: str) -> IssuedCertificate:
    """The design example sampled an hour ago, with ``person``'s fields replaced."""
    body: dict[str, Any] = copy.deepcopy(DESIGN_EXAMPLE)
    sampled = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    body["test"]["sample_collected_at"] = sampled.isoformat()
    body["person"].update(person)
    return issuer.issue(body)
