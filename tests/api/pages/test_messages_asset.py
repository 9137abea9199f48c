"""``/assets/messages.js``: the verifier's texts for people, every code in both languages."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from api.pages.views import CONTENT_SECURITY_POLICY
from verifier.messages import CODES_BY_CHECK, LANGUAGES, MESSAGES


def test_the_page_gets_every_code_in_every_language(live_service: Any) -> None:
    with httpx.Client(base_url=live_service.base_url, timeout=10) as client:
        response = client.get("/assets/messages.js")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/javascript; charset=utf-8"
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        etag = response.headers["etag"]
        again = client.get("/assets/messages.js", headers={"If-None-Match": etag})
        assert again.status_code == 304
    match = re.search(r"const reasons = (\{.*\});\n", response.text)
    assert match is not None
    reasons = json.loads(match.group(1))
    codes = {code for codes in CODES_BY_CHECK.values() for code in codes}
    for language in LANGUAGES:
        assert reasons[language] == {
            f"reason.{code}": MESSAGES[code][language] for code in sorted(codes)
        }
