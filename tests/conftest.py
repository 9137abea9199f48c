"""Shared fixtures: the EU reference data in ../shared (read in place, never copied), and
for issuing: a fixed clock, generated DSCs, issuers and requests.

The clock is the moment of the contract's issue-response example (2021-07-08T12:31:02Z), so
the example request issued with it must produce the example times exactly. Keys are
generated once per session with ``keys.generate`` and loaded with ``keys.load``, as the
service does.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hcert.valuesets import DeviceRegistry
from issuer.issuer import Issuer, IssuerConfig
from issuer.request import DESIGN_EXAMPLE
from keys.generate import generate_keys
from keys.load import SigningKeys, load_signing_keys
from loadtests.postgres import PostgresServer, find_postgres_bin
from signing.pool import SignerPool
from signing.signer import LocalSigner

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = next(  # beside the clone; a git worktree finds it beside an ancestor
    (folder / "shared" for folder in REPO_ROOT.parents if (folder / "shared").is_dir()),
    REPO_ROOT.parent / "shared",
)
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


FIXED_NOW = datetime(2021, 7, 8, 12, 31, 2, tzinfo=UTC)

NAAT_EXAMPLE: dict[str, Any] = {
    "person": {
        "family_name": "Dupont",
        "given_name": "Léa",
        "date_of_birth": "1990-11",
    },
    "test": {
        "type": "naat",
        "name": "Cobas SARS-CoV-2 PCR",
        "sample_collected_at": "2021-07-08T09:15:00+02:00",
        "result": "not-detected",
        "facility": "Laboratoire National de Santé, Dudelange",
    },
}

IssuerFactory = Callable[..., Issuer]


def make_keys(
    directory: Path, alg: str, *, generated_at: datetime, loaded_at: datetime
) -> SigningKeys:
    """Generate a CSCA + DSC at ``generated_at`` and load them as the service would."""
    generate_keys(directory, alg=alg, now=generated_at)
    return load_signing_keys(directory, now=loaded_at)


@pytest.fixture(scope="session")
def fixed_now() -> datetime:
    """The issuer's clock in these tests."""
    return FIXED_NOW


@pytest.fixture(scope="session")
def es256_keys(tmp_path_factory: pytest.TempPathFactory) -> SigningKeys:
    """A P-256 DSC valid from a week before the fixed clock (two years)."""
    directory = tmp_path_factory.mktemp("keys-es256")
    return make_keys(
        directory, "ES256", generated_at=FIXED_NOW - timedelta(days=7), loaded_at=FIXED_NOW
    )


@pytest.fixture(scope="session")
def ps256_keys(tmp_path_factory: pytest.TempPathFactory) -> SigningKeys:
    """An RSA-2048 DSC valid from a week before the fixed clock (two years)."""
    directory = tmp_path_factory.mktemp("keys-ps256")
    return make_keys(
        directory, "PS256", generated_at=FIXED_NOW - timedelta(days=7), loaded_at=FIXED_NOW
    )


@pytest.fixture(scope="session")
def expiring_keys(tmp_path_factory: pytest.TempPathFactory) -> SigningKeys:
    """A P-256 DSC whose notAfter is 10 hours after the fixed clock."""
    directory = tmp_path_factory.mktemp("keys-expiring")
    keys = make_keys(
        directory,
        "ES256",
        generated_at=FIXED_NOW.replace(year=FIXED_NOW.year - 2) + timedelta(hours=10),
        loaded_at=FIXED_NOW,
    )
    assert keys.not_after == FIXED_NOW + timedelta(hours=10)
    return keys


@pytest.fixture(scope="session")
def build_issuer() -> IssuerFactory:
    """``build_issuer(keys, *, clock=..., config=..., slots=1, devices=...)`` → Issuer."""

    def build(
        keys: SigningKeys,
        *,
        clock: Callable[[], datetime] = lambda: FIXED_NOW,
        config: IssuerConfig | None = None,
        slots: int = 1,
        devices: DeviceRegistry | None = None,
        acquire_timeout: float = 1.0,
    ) -> Issuer:
        signers = [LocalSigner(keys.private_key, keys.kid) for _ in range(slots)]
        return Issuer(
            config or IssuerConfig(),
            pool=SignerPool(signers, acquire_timeout=acquire_timeout),
            devices=DeviceRegistry.format_only() if devices is None else devices,
            not_after=keys.not_after,
            clock=clock,
        )

    return build


@pytest.fixture
def rat_request() -> dict[str, Any]:
    """The docs/http-api.md example request (rapid antigen test), a fresh copy."""
    return copy.deepcopy(DESIGN_EXAMPLE)


@pytest.fixture
def naat_request() -> dict[str, Any]:
    """A NAAT (PCR) request with a test name and a year-month date of birth, a fresh copy."""
    return copy.deepcopy(NAAT_EXAMPLE)


def issue_request(**test_overrides: Any) -> dict[str, Any]:
    """The DESIGN example with a sample taken an hour ago (always acceptable)."""
    body = copy.deepcopy(DESIGN_EXAMPLE)
    sampled = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    body["test"]["sample_collected_at"] = sampled.isoformat()
    body["test"].update(test_overrides)
    return body


@pytest.fixture
def make_request() -> Callable[..., dict[str, Any]]:
    """Build valid issue requests (keyword arguments override ``test`` fields)."""
    return issue_request


@pytest.fixture(scope="session")
def session_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ES256 CSCA + DSC for the whole session (read-only for the tests)."""
    directory = tmp_path_factory.mktemp("keys") / "keys"
    generate_keys(directory, country="LU")
    return directory


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the session (Debian's binaries; a database per test)."""
    if find_postgres_bin() is None:
        pytest.skip("PostgreSQL binaries not found: `make test` installs Debian's postgresql")
    with PostgresServer(fsync=False) as server:
        yield server


_DATABASES = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend: an SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dcc.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"test_{next(_DATABASES)}"
    server.psql(f"CREATE DATABASE {name}")
    return server.url.rsplit("/", 1)[0] + f"/{name}"
