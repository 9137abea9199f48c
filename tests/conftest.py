"""Shared fixtures: the EU reference data in ../shared (read in place, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"
TESTDATA_DIR = SHARED_DIR / "dcc-testdata"
SCHEMA_DIR = SHARED_DIR / "dcc-schema"
VALUESETS_FILE = (
    SCHEMA_DIR / "eu-dcc-business-rules-analysis" / "src" / "refData" / "valueSets.json"
)


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"EU reference data not found at {path} (clone next to ../shared to run this)")
    return path


@pytest.fixture(scope="session")
def testdata_dir() -> Path:
    """The EU interoperability test vectors (dgc-testdata subset)."""
    return _require(TESTDATA_DIR)


@pytest.fixture(scope="session")
def schema_dir() -> Path:
    """The official DCC JSON schema, value sets and business rules."""
    return _require(SCHEMA_DIR)


@pytest.fixture(scope="session")
def valuesets_file() -> Path:
    """The gateway value-set snapshot (309 RAT device ids)."""
    return _require(VALUESETS_FILE)
