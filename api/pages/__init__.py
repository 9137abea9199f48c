"""The web pages (pharmacist form, traveller verifier) and the endpoints they need.

``router`` holds ``GET /``, ``GET /verify``, ``GET /assets/{name}`` (:mod:`api.pages.views`)
and ``GET /v1/devices``, ``POST /v1/names/preview``, ``POST /v1/certificates/render``
(:mod:`api.pages.support`); ``create_app`` includes it like any other router.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.pages import support, views

__all__ = ["router"]

router = APIRouter()
router.include_router(views.router)
router.include_router(support.router)
