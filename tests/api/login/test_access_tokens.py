"""The API accepts the provider's access tokens (JWT) next to API keys, pinned hard."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from api.oidc import JWKS_REFETCH_SECONDS, IdentityProvider
from api.problems import AuthenticationFailed
from tests.api.login.conftest import REDIRECT_URI, LoginService
from tests.oidc_provider import OTHER_AUDIENCE


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload), signature


async def _pharmacy_member(logins: LoginService, subject: str) -> str:
    pharmacy = next(a for a in logins.service.resources.accounts if a.role == "pharmacist")
    member = await logins.member(subject, account_id=pharmacy.id)
    return member.id


async def test_a_members_access_token_issues_in_their_name(
    logins: LoginService, make_request: Any
) -> None:
    await _pharmacy_member(logins, "sub-tom")
    token = logins.provider.access_token(REDIRECT_URI, "sub-tom")
    header, claims, _ = _parts(token)
    assert (header["alg"], header["typ"]) == ("ES256", "at+jwt")
    assert claims["aud"] == "urn:dcc:api"
    answer = await logins.client.post(
        "/v1/certificates", json=make_request(), headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 201, answer.text
    row = await logins.service.resources.store.register.get(answer.json()["uvci"])
    assert row.member == "sub-tom"
    # API keys keep working next to tokens
    keyed = await logins.client.post(
        "/v1/certificates", json=make_request(), headers=logins.service.auth()
    )
    assert keyed.status_code == 201


async def test_tampered_unsigned_confused_and_foreign_tokens_are_refused(
    logins: LoginService, make_request: Any
) -> None:
    member_id = await _pharmacy_member(logins, "sub-ulla")
    token = logins.provider.access_token(REDIRECT_URI, "sub-ulla")
    header, claims, signature = _parts(token)
    jwks = (await logins.service.resources.identity._key_set(None)).as_dict()
    public = json.dumps(jwks["keys"][0]).encode()
    confused = jwt.encode(
        {**header, "alg": "HS256"}, claims, OctKey.import_key(public), algorithms=["HS256"]
    )
    longer = {**claims, "exp": claims["exp"] + 9999}
    forged = {
        "tampered": f"{_b64(header)}.{_b64(longer)}.{signature}",
        "alg none": f"{_b64({**header, 'alg': 'none'})}.{_b64(claims)}.",
        "HS256 with the public key": confused,
        "other audience": logins.provider.access_token(REDIRECT_URI, "sub-ulla", OTHER_AUDIENCE),
        "not a member": logins.provider.access_token(REDIRECT_URI, "sub-nobody"),
        "five parts (JWE shape)": "a.b.c.d.e",
    }
    for what, bad in forged.items():
        answer = await logins.client.post(
            "/v1/certificates", json=make_request(), headers={"Authorization": f"Bearer {bad}"}
        )
        assert answer.status_code == 401, what
        assert answer.json()["code"] in {"access_token_invalid", "api_key_invalid"}, what
        assert 'error="invalid_token"' in answer.headers["www-authenticate"], what
    await logins.service.resources.store.members.set_status(member_id, "disabled", now=3)
    await logins.service.resources.accounts.refresh()
    disabled = await logins.client.post(
        "/v1/certificates", json=make_request(), headers={"Authorization": f"Bearer {token}"}
    )
    assert disabled.status_code == 401
    assert disabled.json()["code"] == "access_token_invalid"


async def test_an_expired_token_is_refused(logins: LoginService) -> None:
    await _pharmacy_member(logins, "sub-vera")
    token = logins.provider.access_token(REDIRECT_URI, "sub-vera")
    settings = logins.service.resources.identity.settings
    now = IdentityProvider(settings)
    later = IdentityProvider(settings, clock=lambda: time.time() + 300 + 31)
    try:
        assert (await now.verify_access_token(token))["sub"] == "sub-vera"
        with pytest.raises(AuthenticationFailed) as caught:
            await later.verify_access_token(token)
        assert caught.value.code == "access_token_invalid"
        assert "expired" in caught.value.message
    finally:
        await now.close()
        await later.close()


async def test_keys_rotated_at_the_provider_are_fetched_again_at_most_every_ten_seconds(
    logins: LoginService,
) -> None:
    await _pharmacy_member(logins, "sub-wim")
    settings = logins.service.resources.identity.settings
    now = [time.time()]
    verifier = IdentityProvider(settings, clock=lambda: now[0])
    try:
        before = logins.provider.access_token(REDIRECT_URI, "sub-wim")
        assert (await verifier.verify_access_token(before))["sub"] == "sub-wim"
        logins.provider.restart()  # new signing keys, new key id
        after = logins.provider.access_token(REDIRECT_URI, "sub-wim")
        assert _parts(after)[0]["kid"] != _parts(before)[0]["kid"]
        with pytest.raises(AuthenticationFailed):  # unknown kid, JWKS fetched < 10 s ago
            await verifier.verify_access_token(after)
        now[0] += JWKS_REFETCH_SECONDS
        assert (await verifier.verify_access_token(after))["sub"] == "sub-wim"
    finally:
        await verifier.close()
