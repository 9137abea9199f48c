"""The two web pages and their assets: ``GET /`` (pharmacist), ``GET /verify`` (traveller).

Hand-written HTML, CSS and vanilla JavaScript under ``api/pages/static``: no build step, no
CDN, no external font, nothing fetched from another origin. Every page and asset carries a
strict Content-Security-Policy (no inline script or style, connections to this origin
only, never framed). Assets are served from a fixed allow-list by name, so no request path
ever reaches the file system; they revalidate by ETag (``Cache-Control: no-cache``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter
from starlette.responses import FileResponse, Response

from api.problems import problem_response

__all__ = ["ASSETS", "CONTENT_SECURITY_POLICY", "STATIC_DIR", "page_headers", "router"]

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
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
    "icon.svg": "image/svg+xml",
}
"""Every file ``/assets/{name}`` may serve, with its media type."""
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


@router.get("/assets/{name}")
async def asset(name: str) -> Response:
    """One static asset from the allow-list (404 problem for any other name)."""
    media_type = ASSETS.get(name)
    if media_type is None:
        return problem_response(404, "not_found", "no such asset")
    return FileResponse(STATIC_DIR / name, media_type=media_type, headers=page_headers())
