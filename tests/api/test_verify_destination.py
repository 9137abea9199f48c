"""POST /v1/verify with a destination: ``country``, ``at`` and ``lang`` in the JSON body or
the query string; the destination's rules in the report; DCC_RULES_DIR adds countries."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.runtime import load_rules
from api.settings import Settings
from issuer.render.qr import render_png
from signing.errors import ConfigError
from tests.verifier.destination.rule_files import rule, write_rules


async def _issue(service: Any, make_request: Any) -> tuple[str, datetime]:
    response = await service.client.post(
        "/v1/certificates", json=make_request(), headers=service.auth()
    )
    assert response.status_code == 201
    hc1: str = response.json()["hc1"]
    check = await service.client.post("/v1/verify", json={"hc1": hc1})
    sampled = datetime.fromisoformat(check.json()["certificate"]["t"][0]["sc"])
    return hc1, sampled


def _iso(moment: datetime) -> str:
    return moment.isoformat()


async def test_a_rat_30_hours_old_fails_luxembourg_in_french(
    service: Any, make_request: Any
) -> None:
    hc1, sampled = await _issue(service, make_request)
    at = _iso(sampled + timedelta(hours=30))
    response = await service.client.post(
        "/v1/verify", json={"hc1": hc1, "country": "LU", "at": at, "lang": "fr"}
    )
    assert response.status_code == 200
    report = response.json()
    assert report["valid"] is False
    assert [c["name"] for c in report["checks"] if not c["ok"]] == ["rules"]
    assert report["error"]["code"] == "rule_failed"
    destination = report["destination"]
    assert destination["country"] == "LU"
    assert destination["result"] == "fail"
    failed = [r for r in destination["rules"] if r["result"] == "fail"]
    assert [r["id"] for r in failed] == ["TR-LU-0002"]
    assert failed[0]["description"].startswith("Le prélèvement pour un test antigénique")
    fresh = await service.client.post(
        "/v1/verify", json={"hc1": hc1, "country": "LU", "at": _iso(sampled + timedelta(hours=2))}
    )
    assert fresh.json()["valid"] is True
    assert fresh.json()["destination"]["result"] == "pass"


async def test_the_options_work_as_query_parameters_with_an_image(
    service: Any, make_request: Any
) -> None:
    hc1, sampled = await _issue(service, make_request)
    files = {"image": ("qr.png", render_png(hc1), "image/png")}
    params = {"country": "LU", "at": _iso(sampled + timedelta(hours=30))}
    response = await service.client.post("/v1/verify", files=files, params=params)
    assert response.status_code == 200
    assert response.json()["error"]["code"] == "rule_failed"
    # without a country: the technical checks at that time, no destination
    plain = await service.client.post(
        "/v1/verify", json={"hc1": hc1, "at": _iso(sampled + timedelta(hours=49))}
    )
    assert plain.json()["error"]["code"] == "expired"
    assert "destination" not in plain.json()


@pytest.mark.parametrize(
    ("options", "codes"),
    [
        ({"country": "it"}, ["country_invalid"]),
        ({"country": "", "at": "friday"}, ["at_invalid", "country_invalid"]),
        ({"lang": "xx"}, ["lang_invalid"]),
        ({"at": 5}, ["at_invalid"]),
    ],
)
async def test_bad_options_are_422(service: Any, options: dict[str, Any], codes: list[str]) -> None:
    response = await service.client.post("/v1/verify", json={"hc1": "HC1:X", **options})
    assert response.status_code == 422
    assert sorted(error["code"] for error in response.json()["errors"]) == codes


async def test_an_operators_rules_dir_adds_a_country(
    start_service: Any, make_request: Any, tmp_path: Path
) -> None:
    write_rules(tmp_path / "rules" / "IT", "TR-IT-0001.json", rule())
    service = await start_service({"rules_dir": tmp_path / "rules"})
    hc1, sampled = await _issue(service, make_request)
    body = {"hc1": hc1, "country": "IT", "at": _iso(sampled + timedelta(hours=30))}
    italy = (await service.client.post("/v1/verify", json=body)).json()
    assert italy["valid"] is True
    assert [r["id"] for r in italy["destination"]["rules"]] == ["TR-IT-0001"]
    spain = (await service.client.post("/v1/verify", json={**body, "country": "ES"})).json()
    assert spain["error"]["code"] == "rules_unavailable"


def test_the_rules_dir_setting(tmp_path: Path) -> None:
    assert Settings.from_env({"DCC_RULES_DIR": str(tmp_path)}).rules_dir == tmp_path
    assert Settings.from_env({}).rules_dir is None
    write_rules(tmp_path, "bad.json", rule(Country="Italy"))
    with pytest.raises(ConfigError) as caught:
        load_rules(Settings(rules_dir=tmp_path))
    assert caught.value.code == "rules_invalid"
    assert [r.country for r in load_rules(Settings()).rules] == ["LU"] * 4
