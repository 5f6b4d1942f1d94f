"""The public search module's API: no login, only what is public (DOMAIN.md, "What the public
search module offers").

Responses carry an ``ETag`` (a hash of the body) and ``Cache-Control``; a conditional GET with
``If-None-Match`` gets 304 without a body. ``KMOP_PUBLIC_MAX_AGE_SECONDS`` (default 0: caches
must revalidate, so a stopped registration is gone from the next answer) sets how long shared
caches may serve a response without asking again.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel

from app.api import schemas
from app.api.http.deps import PublicPgDep
from app.api.http.problems import problem_responses
from app.api.queries import search
from app.api.schemas import Theme
from app.domain.identifiers import (
    EnterpriseNumber,
    InvalidIdentifier,
    RegistrationNumber,
    ServiceType,
)
from app.domain.policies import ELIGIBLE_THEMES, today
from app.domain.regions import Province
from app.services.registrations import RegistrationService, UnknownResource

router = APIRouter(prefix="/public", tags=["public"])
NOT_MODIFIED_HEADERS = ("ETag", "Cache-Control", "Vary")

SearchText = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="Words of the name or description; accents, case and small typos do not matter",
        examples=["vincotte"],
    ),
]


NumberParam = Annotated[
    str | None,
    AfterValidator(
        lambda v: " ".join(map(str, schemas.registration_numbers(v))) if v and v.strip() else ""
    ),  # "": none; else the numbers it may mean, separated by a space
    Query(
        max_length=40,
        description="A registration number in any written form: DV.O236716, DVO236716, "
        "dv.o 236716, DV.O17 (DV.O000017), or the digits alone (17: DV.O000017 or DV.A000017, "
        "one counter serves both service types)",
        examples=["DV.O236716"],
    ),
]
SortParam = Annotated[
    search.Sort,
    Query(
        description="relevance (the best text match first; by name without text), name, "
        "rating (highest average first, unrated last) or validity (longest valid first)"
    ),
]
MinRatingParam = Annotated[
    int | None,
    Query(
        ge=1,
        le=5,
        description="Only providers whose average rating (as shown, one decimal) "
        "is at least this; unrated ones drop out",
    ),
]
RegionParam = Annotated[
    str | None,
    Query(
        max_length=100,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="A province (oost-vlaanderen, Limburg, brussel), a municipality (Gent) or "
        "a postal code (9000) of one of the provider's locations",
        examples=["oost-vlaanderen"],
    ),
]


def _etagged(request: Request, body: BaseModel) -> Response:
    return cacheable(request, body, max_age=request.app.state.settings.public_max_age_seconds)


def cacheable(request: Request, body: BaseModel, *, max_age: int) -> Response:
    """``body`` with an ETag (a hash of it) and ``Cache-Control``; 304 on ``If-None-Match``."""
    content = body.model_dump_json().encode()
    tag = f'W/"{hashlib.sha256(content).hexdigest()[:32]}"'
    headers = {
        "ETag": tag,
        "Cache-Control": f"public, max-age={max_age}" if max_age > 0 else "public, no-cache",
        "Vary": "Accept-Encoding",
    }
    wanted = request.headers.get("if-none-match", "")
    if tag in (t.strip() for t in wanted.split(",")) or wanted.strip() == "*":
        return Response(status_code=304, headers=headers)
    return Response(content, media_type="application/json", headers=headers)


def _today(request: Request) -> date:
    service: RegistrationService = request.app.state.service
    return today(service.clock.now())


@router.get(
    "/providers",
    response_model=schemas.PublicSearchResult,
    responses={304: {"description": "Not modified (If-None-Match)"}, **problem_responses(422)},
    summary="Search the providers registered today",
)
async def search_providers(
    request: Request,
    pg: PublicPgDep,
    q: SearchText = None,
    number: NumberParam = None,
    theme: Annotated[Theme | None, Query(description="One of /public/options themes")] = None,
    service_type: Annotated[ServiceType | None, Query()] = None,
    region: RegionParam = None,
    min_rating: MinRatingParam = None,
    sort: SortParam = search.Sort.RELEVANCE,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    """Combine any of the filters; without any, every registered provider. Sorted by relevance
    when there is text, else by name, or as ``sort`` asks (ties by name, then enterprise
    number: a stable order for paging)."""
    query = search.Query(
        text=q.strip() if q and q.strip() else None,
        numbers=tuple(RegistrationNumber.parse(n) for n in number.split()) if number else (),
        theme=theme,
        service_type=service_type,
        region=region.strip() if region and region.strip() else None,
        min_rating=min_rating,
        sort=sort,
    )
    async with pg.connection(custom_plans=True) as conn:
        found = await search.search(conn, query, today=_today(request), page=page, limit=limit)
    result = schemas.PublicSearchResult(
        items=[schemas.PublicProvider.model_validate(item) for item in found.items],
        total=found.total,
        total_is_exact=found.exact,
        page=page,
        limit=limit,
        next_page=page + 1 if found.more and page < 1000 else None,
    )
    return _etagged(request, result)


@router.get(
    "/providers/{enterprise_number}",
    response_model=schemas.PublicProvider,
    responses={
        304: {"description": "Not modified (If-None-Match)"},
        **problem_responses(404, 422),
    },
    summary="A registered provider's public page",
)
async def public_provider(request: Request, enterprise_number: str, pg: PublicPgDep) -> Response:
    try:
        kbo = str(EnterpriseNumber.parse(enterprise_number[:40]))
    except InvalidIdentifier:
        raise UnknownResource(f"{enterprise_number[:40]!r} is not a registered provider") from None
    async with pg.connection(custom_plans=True) as conn:
        found = await search.provider(conn, kbo, today=_today(request))
    if found is None:
        raise UnknownResource(f"{kbo} is not a registered provider today")
    return _etagged(request, schemas.PublicProvider.model_validate(found))


@router.get(
    "/options",
    response_model=schemas.PublicOptions,
    responses={304: {"description": "Not modified (If-None-Match)"}},
    summary="What the search can filter on: themes, service types, provinces",
)
async def search_options(request: Request) -> Response:
    return _etagged(request, OPTIONS)


OPTIONS = schemas.PublicOptions(
    themes=sorted(ELIGIBLE_THEMES),
    service_types=[service.value for service in ServiceType],
    provinces={province.value: province.label for province in Province},
)
