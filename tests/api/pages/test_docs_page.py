"""``/docs``: Swagger UI served from this origin under the pages' strict CSP, in Chromium.

Swagger UI's files come from the ``fastapi-offline`` package through the ``/assets``
allow-list and are started by ``/assets/docs.js``; FastAPI's own CDN-loading ``/docs`` and
``/redoc`` are off. The browser test records every request the page makes and every CSP
violation the document reports (``securitypolicyviolation``, listened to by a script that
Playwright injects outside the page's CSP).
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import expect

from api.pages.views import (
    ASSETS,
    CONTENT_SECURITY_POLICY,
    STATIC_DIR,
    SWAGGER_UI_DIR,
    VENDOR_ASSETS,
)

_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_the_docs_page_references_only_allow_listed_assets_and_no_inline_code() -> None:
    parser = _Tags()
    parser.feed((STATIC_DIR / "docs.html").read_text(encoding="utf-8"))
    scripts = []
    for tag, attrs in parser.tags:
        assert tag != "style"
        assert "style" not in attrs
        assert not any(name.startswith("on") for name in attrs)
        if tag == "script":
            scripts.append(attrs.get("src"))
        for name in ("src", "href"):
            value = attrs.get(name)
            if value is not None and value.startswith("/assets/"):
                assert value.removeprefix("/assets/") in {*ASSETS, *VENDOR_ASSETS}
            elif value is not None:
                assert value == "/openapi.json", value
    assert scripts == ["/assets/swagger-ui-bundle.js", "/assets/docs.js"]
    for name in VENDOR_ASSETS:
        assert (SWAGGER_UI_DIR / name).is_file(), name
    assert not set(ASSETS) & set(VENDOR_ASSETS)


def test_docs_and_its_assets_carry_the_pages_headers_and_fastapis_pages_are_gone(
    live_service: Any,
) -> None:
    with httpx.Client(base_url=live_service.base_url, timeout=10) as client:
        for path in ("/docs", "/assets/docs.js", *(f"/assets/{n}" for n in VENDOR_ASSETS)):
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            assert response.headers["x-frame-options"] == "DENY"
            assert response.headers["x-content-type-options"] == "nosniff"
        assert client.get("/docs").headers["content-type"] == "text/html; charset=utf-8"
        assert client.get("/assets/swagger-ui.css").headers["content-type"].startswith("text/css")
        for gone in ("/redoc", "/docs/oauth2-redirect", "/assets/swagger-initializer.js"):
            assert client.get(gone).status_code == 404, gone
        # The 1.5 MB bundle is sent again only when it changed.
        first = client.get("/assets/swagger-ui-bundle.js")
        again = client.get(
            "/assets/swagger-ui-bundle.js", headers={"If-None-Match": first.headers["etag"]}
        )
        assert (again.status_code, again.content) == (304, b"")
        assert again.headers["etag"] == first.headers["etag"]
        assert again.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert client.get("/assets/swagger-ui-bundle.js", headers={"If-None-Match": '"x"'}).content


def test_docs_renders_every_operation_from_this_origin_without_a_csp_violation(
    browse: Any, live_service: Any
) -> None:
    page = browse.page
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.add_init_script(_RECORD_VIOLATIONS)
    with httpx.Client(base_url=live_service.base_url, timeout=10) as client:
        document = client.get("/openapi.json").json()
    operations = sum(1 for item in document["paths"].values() for m in item if m in _METHODS)

    response = browse.goto("/docs")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    blocks = page.locator("#swagger-ui .opblock")
    expect(blocks).to_have_count(operations)
    expect(page.locator("#swagger-ui .info .title")).to_contain_text("dcc-service")
    # Try one public operation from the page: the call goes to this origin and answers.
    devices = page.locator(".opblock", has=page.locator('[data-path="/v1/devices"]'))
    devices.locator(".opblock-summary-control").click()
    devices.locator("button.try-out__btn").click()
    devices.locator("button.execute").click()
    live = devices.locator(".live-responses-table")
    expect(live.locator(".response .response-col_status")).to_have_text("200")
    expect(live.locator(".microlight").first).to_contain_text("1232")
    # The "Authorize" dialog opens (its API key would stay in memory only).
    page.locator("button.authorize").click()
    expect(page.locator(".dialog-ux .modal-ux")).to_be_visible()

    origin = urlsplit(live_service.base_url).netloc
    assert requested, "the page made no request"
    assert [url for url in requested if urlsplit(url).netloc != origin] == []
    paths = {urlsplit(url).path for url in requested}
    assert {"/docs", "/assets/swagger-ui-bundle.js", "/assets/docs.js", "/openapi.json"} <= paths
    assert page.evaluate("() => window.__cspViolations") == []
    assert page.evaluate("() => Object.keys(localStorage).length") == 0
    browse.assert_clean()
