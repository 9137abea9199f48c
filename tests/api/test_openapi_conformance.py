"""The app against its own OpenAPI document, with schemathesis (bounded examples).

Every operation gets generated valid and invalid requests (a valid lab API key is sent);
each response must: not be a 5xx, have a documented status and content type, match the
documented schema, and reject (4xx) data the schema forbids. The test client of
schemathesis runs the app's lifespan itself.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.ratelimit import Rate
from api.settings import Settings
from issuer.request import DESIGN_EXAMPLE
from keys.generate import generate_keys
from tests.accounts import add_account, migrated_sqlite

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, str]:
    """Keys, a lab account and generous quotas (the fuzzer must not meet 429s)."""
    root: Path = tmp_path_factory.mktemp("conformance")
    generate_keys(root / "keys", country="LU")
    database = migrated_sqlite(root)
    key = add_account(database, name="fuzz-lab", role="lab").api_key
    OPERATOR_KEYS.append(add_account(database, name="fuzz-ops", role="operator").api_key)
    unlimited = Rate.parse("100000/second")
    deployment_settings = Settings(
        keys_dir=root / "keys",
        database_url=database,
        rate_lab=unlimited,
        rate_global=unlimited,
        rate_verify=unlimited,
        max_batch_items=5,
    )
    return deployment_settings, key


@pytest.fixture(scope="module")
def api_schema(deployment: tuple[Settings, str]) -> Any:
    # 413 is the right answer to an over-long field whose JSON exceeds the body limit.
    config = schemathesis.Config.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": [*REJECTIONS]}}}
    )
    app = create_app(deployment[0])
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


@pytest.fixture(scope="module")
def lab_key(deployment: tuple[Settings, str]) -> str:
    return deployment[1]


OPERATOR_KEYS: list[str] = []
"""The operator's key (the revocation routes need that role), set by ``deployment``."""
REJECTIONS = ("400", "401", "403", "406", "413", "415", "422", "429")
OPERATIONS = [
    ("POST", "/v1/certificates"),
    ("POST", "/v1/certificates/batch"),
    ("POST", "/v1/verify"),
    ("GET", "/v1/trust-list"),
    ("GET", "/v1/trust-list.cose"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/v1/devices"),
    ("POST", "/v1/names/preview"),
    ("POST", "/v1/certificates/render"),
    ("POST", "/v1/revocations/certificate"),
    ("POST", "/v1/revocations/account"),
    ("POST", "/v1/revocations/key"),
    ("GET", "/v1/revocations/keys"),
    ("GET", "/v1/revocation-list"),
    ("POST", "/v1/certificates/{uvci}/reissue"),
]
WITH_INPUT = {
    ("POST", "/v1/certificates"),
    ("POST", "/v1/certificates/batch"),
    ("POST", "/v1/verify"),
    ("POST", "/v1/names/preview"),
    ("POST", "/v1/certificates/render"),
    ("POST", "/v1/revocations/certificate"),
    ("POST", "/v1/revocations/account"),
    ("POST", "/v1/revocations/key"),
    ("POST", "/v1/certificates/{uvci}/reissue"),
}
CASES = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or (method, path) in WITH_INPUT
]


def test_every_operation_is_exercised(api_schema: Any) -> None:
    labels = {op.ok().label for op in api_schema.get_all_operations()}
    assert labels == {f"{method} {path}" for method, path in OPERATIONS}


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=lambda value: str(value))
def test_operation_conforms(
    api_schema: Any, lab_key: str, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]
    key = OPERATOR_KEYS[0] if path.startswith("/v1/revocations/") else lab_key
    headers = {"Authorization": f"Bearer {key}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def valid_request() -> dict[str, Any]:
    body = copy.deepcopy(DESIGN_EXAMPLE)
    sampled = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    body["test"]["sample_collected_at"] = sampled.isoformat()
    return body


@pytest.mark.parametrize(
    "accept", ["application/json", "image/png", "image/svg+xml", "application/pdf"]
)
def test_successful_issue_conforms(api_schema: Any, lab_key: str, accept: str) -> None:
    case = api_schema["/v1/certificates"]["POST"].Case(
        body=valid_request(), media_type="application/json"
    )
    headers = {"Authorization": f"Bearer {lab_key}", "Accept": accept}
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    assert response.status_code == 201


def test_successful_batch_and_verify_conform(api_schema: Any, lab_key: str) -> None:
    headers = {"Authorization": f"Bearer {lab_key}"}
    batch = api_schema["/v1/certificates/batch"]["POST"].Case(
        body={"items": [valid_request(), {"person": {}}]}, media_type="application/json"
    )
    response = batch.call_and_validate(headers=headers, checks=CHECKS)
    assert response.status_code == 200
    hc1 = response.json()["results"][0]["hc1"]
    verify = api_schema["/v1/verify"]["POST"].Case(body={"hc1": hc1}, media_type="application/json")
    report = verify.call_and_validate(checks=CHECKS)
    assert report.status_code == 200
    assert report.json()["valid"] is True
