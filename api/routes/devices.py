"""``GET /v1/devices``: the rapid antigen test devices the service accepts, by name (public)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from api.deps import resources_of
from api.responses import json_response
from api.routes.schemas import problems

__all__ = ["DeviceEntry", "DeviceList", "router"]

router = APIRouter(tags=["pages"])


class DeviceEntry(BaseModel):
    """One rapid antigen test device: its EU id and display name (None when unnamed)."""

    id: str = Field(examples=["1232"])
    name: str | None = Field(examples=["Abbott Rapid Diagnostics, Panbio COVID-19 Ag Rapid Test"])


class DeviceList(BaseModel):
    """The active RAT devices sorted by name; ``configured`` is false without a device list
    (then any EU device id of 3 to 6 digits is accepted and ``devices`` is empty)."""

    configured: bool
    devices: list[DeviceEntry]


@router.get(
    "/v1/devices",
    summary="The rapid antigen test devices, by name",
    response_class=Response,
    responses={200: {"model": DeviceList, "description": "the device list"}, **problems(500)},
)
async def devices(request: Request) -> Response:
    """The active devices of the configured EU RAT list, sorted by name."""
    registry = resources_of(request).devices
    listed = [{"id": d.id, "name": d.name} for d in registry.devices(active_only=True)]
    content = {"configured": registry.configured, "devices": listed}
    return json_response(content, headers={"Cache-Control": "public, max-age=300"})
