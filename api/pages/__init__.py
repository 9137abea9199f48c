"""The web pages (pharmacist form, traveller verifier): HTML, CSS and JavaScript only.

``router`` holds ``GET /``, ``GET /verify``, ``GET /docs`` (Swagger UI, served from this
origin) and ``GET /assets/{name}`` (:mod:`api.pages.views`);
the JSON endpoints the pages call live with the other routes (:mod:`api.routes`).
"""

from __future__ import annotations

from api.pages.views import router

__all__ = ["router"]
