"""Amplification: the field errors one answer lists are capped, and the cut is counted.

One batch item with hundreds of thousands of unknown keys used to answer one field error
per key (25 MB for a 4 MiB body).
"""

from __future__ import annotations

from typing import Any

import orjson

from api.error_caps import MAX_BATCH_FIELD_ERRORS
from signing.errors import MAX_FIELD_ERRORS


async def _batch(service: Any, items: list[dict[str, Any]]) -> Any:
    response = await service.client.post(
        "/v1/certificates/batch",
        content=orjson.dumps({"items": items}),
        headers={**service.auth(), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text[:500]
    return response


async def test_an_item_with_200_000_unknown_keys_answers_20_errors(
    service: Any, make_request: Any
) -> None:
    item = make_request()
    item.update({f"k{index}": 0 for index in range(200_000)})
    response = await _batch(service, [item, make_request()])
    assert len(response.content) < 20_000
    results = response.json()["results"]
    problem = results[0]["error"]
    assert problem["code"] == "request_invalid"
    assert len(problem["errors"]) == MAX_FIELD_ERRORS
    assert {error["code"] for error in problem["errors"]} == {"unknown_field"}
    assert problem["errors_omitted"] == 200_000 - MAX_FIELD_ERRORS
    assert "error" not in results[1]


async def test_a_single_request_says_how_many_errors_were_cut(
    service: Any, make_request: Any
) -> None:
    body = make_request()
    body["person"].update({f"p{index}": 0 for index in range(30)})
    response = await service.client.post("/v1/certificates", json=body, headers=service.auth())
    assert response.status_code == 422
    problem = response.json()
    assert len(problem["errors"]) == MAX_FIELD_ERRORS
    assert problem["errors_omitted"] == 30 - MAX_FIELD_ERRORS


async def test_a_batch_lists_at_most_the_request_budget(service: Any, make_request: Any) -> None:
    items = []
    for _ in range(2 * MAX_BATCH_FIELD_ERRORS // MAX_FIELD_ERRORS):
        item = make_request()
        item["test"].update({f"t{index}": 0 for index in range(MAX_FIELD_ERRORS + 5)})
        items.append(item)
    results = (await _batch(service, items)).json()["results"]
    listed = sum(len(result["error"].get("errors", ())) for result in results)
    omitted = sum(result["error"]["errors_omitted"] for result in results)
    assert listed == MAX_BATCH_FIELD_ERRORS
    assert listed + omitted == len(items) * (MAX_FIELD_ERRORS + 5)
    assert "errors" not in results[-1]["error"]
    assert results[-1]["error"]["code"] == "request_invalid"


async def test_unknown_keys_of_small_bodies_are_counted(service: Any) -> None:
    from api.body import MAX_UNKNOWN_REPORTED

    body = {"hc1": "HC1:X", **{f"k{index}": 1 for index in range(50)}}
    for path in ("/v1/verify", "/v1/names/preview", "/v1/certificates/batch"):
        response = await service.client.post(path, json=body, headers=service.auth())
        assert response.status_code == 422, (path, response.text)
        problem = response.json()
        unknown = [error for error in problem["errors"] if error["code"] == "unknown_field"]
        assert len(unknown) == MAX_UNKNOWN_REPORTED, path
        omitted = 50 - MAX_UNKNOWN_REPORTED + (path != "/v1/verify")  # "hc1" is unknown there
        assert problem["errors_omitted"] == omitted, path
