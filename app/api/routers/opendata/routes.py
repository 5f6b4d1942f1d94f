"""The endpoints: ``/public/providers.csv``, ``/public/providers.json`` and
``/public/dataset.jsonld``."""

from __future__ import annotations

import hashlib
import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.http.deps import PublicPgDep
from app.api.routers.opendata.content import Format, dataset
from app.api.routers.opendata.files import _FILE_RESPONSES, OpenDataFile, cache_control, matches

router = APIRouter(prefix="/public", tags=["public"])


@router.get(
    "/providers.csv",
    response_class=Response,
    responses={
        200: {
            "description": "Every registration in force today, one row each (README, "
            '"Open data"); streamed',
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **_FILE_RESPONSES,
    },
    summary="The register as open data: CSV",
)
async def open_data_csv(request: Request, pg: PublicPgDep) -> Response:
    return OpenDataFile(request, pg, Format.CSV)


@router.get(
    "/providers.json",
    response_class=Response,
    responses={
        200: {
            "description": "Every registration in force today: {dataset, registrations}; streamed",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **_FILE_RESPONSES,
    },
    summary="The register as open data: JSON",
)
async def open_data_json(request: Request, pg: PublicPgDep) -> Response:
    return OpenDataFile(request, pg, Format.JSON)


@router.get(
    "/dataset.jsonld",
    response_class=Response,
    responses={
        200: {
            "description": "The dataset's description in DCAT-AP: title, publisher, licence "
            "(Modellicentie Gratis Hergebruik), distributions",
            "content": {"application/ld+json": {"schema": {"type": "object"}}},
        },
        304: {"description": "Not modified (If-None-Match)"},
    },
    summary="The open data's description (DCAT-AP, JSON-LD)",
)
async def open_data_description(request: Request) -> Response:
    settings = request.app.state.settings
    content = json.dumps(
        dataset(str(settings.public_base_url).rstrip("/")), ensure_ascii=False, indent=1
    ).encode()
    tag = f'W/"{hashlib.sha256(content).hexdigest()[:32]}"'
    headers = {
        "ETag": tag,
        "Cache-Control": cache_control(settings.open_data_max_age_seconds),
        "Vary": "Accept-Encoding",
    }
    if matches(request.headers.get("if-none-match", ""), tag):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type="application/ld+json", headers=headers)
