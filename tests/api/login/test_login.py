"""The pages' OpenID Connect login against a real provider: sessions, CSRF, logout, scopes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from api.oidc_settings import read_oidc_settings
from tests.api.login.conftest import LoginService
from tests.waiting import async_wait_until


async def _issue(logins: LoginService, headers: dict[str, str], make_request: Any) -> Any:
    return await logins.client.post("/v1/certificates", json=make_request(), headers=headers)


async def test_without_a_provider_there_is_no_login(service: Any) -> None:
    assert (await service.client.get("/auth/session")).json() == {
        "login": False,
        "authenticated": False,
    }
    assert (await service.client.get("/auth/login")).status_code == 404


async def test_login_uses_pkce_state_and_nonce_then_a_secure_session(
    logins: LoginService, make_request: Any
) -> None:
    pharmacy = logins.service.resources.accounts.get(
        next(a.id for a in logins.service.resources.accounts if a.role == "pharmacist")
    )
    await logins.member("sub-alice", account_id=pharmacy.id)
    assert (await logins.client.get("/auth/session")).json()["login"] is True
    start = await logins.client.get("/auth/login")
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 43
    assert len(query["nonce"][0]) >= 43
    assert query["redirect_uri"] == ["http://testserver/auth/callback"]
    back = urlsplit(logins.provider.log_in(start.headers["location"], "sub-alice"))
    answer = await logins.client.get(f"{back.path}?{back.query}")
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http on loopback; https deployments get Secure
    again = await logins.client.get(f"{back.path}?{back.query}")
    assert again.status_code == 303  # a state is taken once: back to the page, refused
    assert again.headers["location"] == "/?login_error=login_invalid"
    assert "set-cookie" not in again.headers
    start = await logins.client.get("/auth/login")
    back = urlsplit(logins.provider.log_in(start.headers["location"], "sub-alice"))
    assert parse_qs(back.query)["iss"] == [logins.provider.issuer]  # RFC 9207
    mixed_up = back.query.replace("iss=", "iss=https%3A%2F%2Fevil.example")
    refused = await logins.client.get(f"{back.path}?{mixed_up}")
    assert refused.headers["location"] == "/?login_error=login_invalid"

    headers = await logins.log_in("sub-alice")
    session = (await logins.client.get("/auth/session", headers=headers)).json()
    assert session["organisation"] == {"id": pharmacy.id, "name": pharmacy.name, "kind": "pharmacy"}
    assert session["member"] == {"subject": "sub-alice", "role": "issuer"}
    issued = await _issue(logins, headers, make_request)
    assert issued.status_code == 201, issued.text
    uvci = issued.json()["uvci"]
    row = await logins.service.resources.store.register.get(uvci)
    assert (row.account_id, row.member) == (pharmacy.id, "sub-alice")
    [line] = [json.loads(line) for line in logins.audit]
    assert (line["account"], line["member"], line["uvci"]) == (pharmacy.id, "sub-alice", uvci)


async def test_state_changing_requests_need_the_csrf_token(
    logins: LoginService, make_request: Any
) -> None:
    pharmacy = next(a for a in logins.service.resources.accounts if a.role == "pharmacist")
    await logins.member("sub-carol", account_id=pharmacy.id)
    headers = await logins.log_in("sub-carol")
    cookie_only = {"Cookie": headers["Cookie"]}
    for sent in (cookie_only, {**cookie_only, "X-CSRF-Token": "forged"}):
        refused = await _issue(logins, sent, make_request)
        assert refused.status_code == 403
        assert refused.json()["code"] == "csrf_token_invalid"
        assert (await logins.client.post("/auth/logout", headers=sent)).status_code == 403
    assert (await logins.client.post("/auth/logout", headers=headers)).status_code == 204
    assert (await logins.client.get("/auth/session", headers=headers)).json()[
        "authenticated"
    ] is False
    ended = await _issue(logins, headers, make_request)
    assert ended.status_code == 401
    assert ended.json()["code"] == "login_invalid"


async def test_only_active_members_with_their_register_number_log_in(
    logins: LoginService,
) -> None:
    pharmacy = next(a for a in logins.service.resources.accounts if a.role == "pharmacist")
    await logins.member("sub-dora", account_id=pharmacy.id, number="RN-7")
    for subject, number in (("sub-stranger", None), ("sub-dora", None), ("sub-dora", "RN-8")):
        start = await logins.client.get("/auth/login")
        back = urlsplit(logins.provider.log_in(start.headers["location"], subject, number))
        answer = await logins.client.get(f"{back.path}?{back.query}")
        assert answer.status_code == 303, (subject, number)
        assert answer.headers["location"] == "/?login_error=login_invalid"
        assert "set-cookie" not in answer.headers
    assert await logins.log_in("sub-dora", "RN-7")


async def test_a_removed_members_session_ends_within_a_minute(
    logins: LoginService, make_request: Any
) -> None:
    pharmacy = next(a for a in logins.service.resources.accounts if a.role == "pharmacist")
    member = await logins.member("sub-erin", account_id=pharmacy.id)
    headers = await logins.log_in("sub-erin")
    await logins.service.resources.store.members.set_status(member.id, "removed", now=2)

    async def ended() -> bool:
        answer = await logins.client.get("/auth/session", headers=headers)
        return answer.json()["authenticated"] is False

    await async_wait_until(
        ended, what="the removed member's session ended", timeout=60, interval=0.1
    )
    assert (await _issue(logins, headers, make_request)).status_code == 401


async def test_an_operator_may_not_issue(logins: LoginService, make_request: Any) -> None:
    pharmacy = next(a for a in logins.service.resources.accounts if a.role == "pharmacist")
    await logins.member("sub-olga", account_id=pharmacy.id, role="operator")
    refused = await _issue(logins, await logins.log_in("sub-olga"), make_request)
    assert refused.status_code == 403
    assert refused.json()["code"] == "member_role_forbidden"


async def test_another_organisation_cannot_see_this_ones_certificates(
    logins: LoginService, make_request: Any
) -> None:
    accounts = list(logins.service.resources.accounts)
    pharmacy = next(a for a in accounts if a.role == "pharmacist")
    lab = next(a for a in accounts if a.role == "lab")
    await logins.member("sub-alice", account_id=pharmacy.id)
    await logins.member("sub-bob", account_id=lab.id)
    alice, bob = await logins.log_in("sub-alice"), await logins.log_in("sub-bob")
    uvci = quote((await _issue(logins, alice, make_request)).json()["uvci"], safe="")
    own = await logins.client.get(f"/v1/register/{uvci}", headers=alice)
    assert own.status_code == 200
    assert (own.json()["member"], own.json()["account_id"]) == ("sub-alice", pharmacy.id)
    token = logins.provider.access_token("http://testserver/auth/callback", "sub-bob")
    for other in (bob, {"Authorization": f"Bearer {token}"}, logins.service.auth()):
        hidden = await logins.client.get(f"/v1/register/{uvci}", headers=other)
        assert hidden.status_code == 404
        assert hidden.json()["code"] == "not_found"
    unknown = await logins.client.get("/v1/register/URN:UVCI:01:LU:NOPE", headers=alice)
    assert unknown.json() == hidden.json()  # the same answer: existence does not leak


async def test_sessions_end_when_idle_and_at_their_absolute_limit(
    start_service: Any, provider: Any
) -> None:
    offset = [timedelta(0)]
    problems: list[str] = []
    env = provider.oidc_env(DCC_SESSION_IDLE_MINUTES="10", DCC_SESSION_MAX_MINUTES="25")
    oidc = read_oidc_settings(env, problems)
    service = await start_service({"oidc": oidc}, clock=lambda: datetime.now(UTC) + offset[0])
    logins = LoginService(service, provider, [])
    pharmacy = next(a for a in service.resources.accounts if a.role == "pharmacist")
    await logins.member("sub-ida", account_id=pharmacy.id)

    async def authenticated(headers: dict[str, str]) -> bool:
        answer = await service.client.get("/auth/session", headers=headers)
        return bool(answer.json()["authenticated"])

    headers = await logins.log_in("sub-ida")
    for minutes in (9, 18):  # used every 9 minutes: alive
        offset[0] = timedelta(minutes=minutes)
        assert await authenticated(headers)
    offset[0] = timedelta(minutes=26)  # past the absolute limit, though used 8 minutes ago
    assert not await authenticated(headers)
    offset[0] = timedelta(0)
    headers = await logins.log_in("sub-ida")
    offset[0] = timedelta(minutes=11)  # idle too long
    assert not await authenticated(headers)
