"""The web pages and their assets: ``GET /`` (pharmacist), ``GET /verify`` (traveller) and
``GET /docs`` (Swagger UI on ``/openapi.json``).

Hand-written HTML, CSS and vanilla JavaScript under ``api/pages/static``: no build step, no
CDN, no external font, nothing fetched from another origin. Swagger UI's own two files come
from the ``fastapi-offline`` package (:data:`VENDOR_ASSETS`) and are started by
``static/docs.js``, so ``/docs`` works offline and needs no inline script. Every page and
asset carries the same strict Content-Security-Policy (no inline script or style,
connections to this origin only, never framed): the pharmacist's API key sits in this
origin's sessionStorage. Assets are served from fixed allow-lists by name, so no request
path ever reaches the file system; they revalidate by ETag (``Cache-Control: no-cache``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import fastapi_offline
from fastapi import APIRouter, Request
from starlette.responses import FileResponse, Response

from api.problems import problem_response

__all__ = [
    "ASSETS",
    "CONTENT_SECURITY_POLICY",
    "STATIC_DIR",
    "SWAGGER_UI_DIR",
    "VENDOR_ASSETS",
    "page_headers",
    "router",
]

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
SWAGGER_UI_DIR: Final = Path(fastapi_offline.__file__).resolve().parent / "static"
"""Swagger UI's distribution files as the ``fastapi-offline`` package ships them."""
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
ASSETS: Final[dict[str, str]] = {
    "app.css": "text/css; charset=utf-8",
    "common.js": "text/javascript; charset=utf-8",
    "i18n.js": "text/javascript; charset=utf-8",
    "issue.js": "text/javascript; charset=utf-8",
    "verify.js": "text/javascript; charset=utf-8",
    "docs.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
"""Every file of ``static/`` that ``/assets/{name}`` may serve, with its media type."""
VENDOR_ASSETS: Final[dict[str, str]] = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}
"""The files of :data:`SWAGGER_UI_DIR` that ``/assets/{name}`` may serve, with their type."""
_HTML: Final = "text/html; charset=utf-8"

router = APIRouter(include_in_schema=False)


def page_headers(*, camera: bool = False) -> dict[str, str]:
    """The headers of every page and asset: CSP, no framing, revalidation by ETag."""
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Frame-Options": "DENY",
        "Permissions-Policy": f"camera=({'self' if camera else ''}), microphone=(), geolocation=()",
        "Cache-Control": "no-cache",
    }


def _page(name: str, *, camera: bool = False) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type=_HTML, headers=page_headers(camera=camera))


@router.get("/")
async def pharmacist_page() -> FileResponse:
    """The pharmacist's form: issue one certificate, show its QR code, print or download."""
    return _page("index.html")


@router.get("/verify")
async def traveller_page() -> FileResponse:
    """The traveller's verifier: upload a photo, paste an HC1 string or use the camera."""
    return _page("verify.html", camera=True)


@router.get("/docs")
async def api_docs_page() -> FileResponse:
    """Swagger UI on this service's OpenAPI document, every file from this origin."""
    return _page("docs.html")


@router.get("/assets/{name}")
async def asset(name: str, request: Request) -> Response:
    """One static asset from the allow-lists (404 problem for any other name); 304 when the
    browser's copy has the current ETag (Swagger UI's bundle alone is 1.5 MB)."""
    if name in ASSETS:
        folder, media_type = STATIC_DIR, ASSETS[name]
    elif name in VENDOR_ASSETS:
        folder, media_type = SWAGGER_UI_DIR, VENDOR_ASSETS[name]
    else:
        return problem_response(404, "not_found", "no such asset")
    path = folder / name
    response = FileResponse(
        path, media_type=media_type, headers=page_headers(), stat_result=path.stat()
    )
    etag = response.headers["etag"]
    if etag in (tag.strip() for tag in request.headers.get("if-none-match", "").split(",")):
        return Response(status_code=304, headers={**page_headers(), "ETag": etag})
    return response
