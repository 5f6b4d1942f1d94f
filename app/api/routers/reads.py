"""Queries every audience uses, each answered within the caller's scope (``app.api.queries.scope``):
the agency reads everything, a provider its own enterprise's, a bureau what it audits."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api import schemas
from app.api.http.auth import AnyPrincipal
from app.api.http.commands import etag
from app.api.http.deps import EngineDep
from app.api.http.params import (
    AsOf,
    Cursor,
    EnterpriseNumberFilter,
    Filter,
    Limit,
    RegistrationRef,
    ResourceId,
)
from app.api.http.problems import problem_responses
from app.api.queries import registrations as queries
from app.api.schemas import Day

ALL: list[str | Enum] = ["agency", "provider", "bureau"]
router = APIRouter(tags=ALL)
READ_PROBLEMS = problem_responses(401, 403, 404, 422)
LIST_PROBLEMS = problem_responses(401, 403, 422)


@router.get(
    "/registrations",
    response_model=schemas.Page[schemas.Registration],
    responses=LIST_PROBLEMS,
    summary="Registration units, filtered, in pages",
)
async def list_registrations(
    principal: AnyPrincipal,
    engine: EngineDep,
    status: Filter = None,
    service_type: Filter = None,
    bureau_id: Filter = None,
    enterprise_number: EnterpriseNumberFilter = None,
    deadline_before: Annotated[
        Day | None, Query(description="Units whose earliest pending deadline is before this day")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> schemas.Page[schemas.Registration]:
    async with engine.connect() as conn:
        return await queries.list_registrations(
            conn,
            principal,
            status=status,
            service_type=service_type,
            bureau_id=bureau_id,
            enterprise_number=enterprise_number,
            deadline_before=deadline_before,
            cursor=cursor,
            limit=limit,
        )


@router.get(
    "/registrations/{ref}",
    response_model=schemas.Registration,
    responses=READ_PROBLEMS,
    summary="One registration unit: status, number, validity, pending deadline (now or as of)",
)
async def get_registration(
    ref: RegistrationRef,
    principal: AnyPrincipal,
    engine: EngineDep,
    response: Response,
    as_of: AsOf = None,
) -> schemas.Registration:
    async with engine.connect() as conn:
        live = await queries.find_unit(conn, ref, principal)
        view = (
            queries.registration_view(live)
            if as_of is None
            else await queries.registration_as_of(conn, live, as_of, principal)
        )
    response.headers["ETag"] = etag(view.version)
    return view


@router.get(
    "/applications",
    response_model=schemas.Page[schemas.Application],
    responses=LIST_PROBLEMS,
    summary="Applications, filtered, in pages",
)
async def list_applications(
    principal: AnyPrincipal,
    engine: EngineDep,
    status: Filter = None,
    enterprise_number: EnterpriseNumberFilter = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> schemas.Page[schemas.Application]:
    async with engine.connect() as conn:
        return await queries.list_applications(
            conn,
            principal,
            status=status,
            enterprise_number=enterprise_number,
            cursor=cursor,
            limit=limit,
        )


@router.get(
    "/applications/{application_id}",
    response_model=schemas.Application,
    responses=READ_PROBLEMS,
    summary="One application, with its audit",
)
async def get_application(
    application_id: ResourceId, principal: AnyPrincipal, engine: EngineDep, response: Response
) -> schemas.Application:
    async with engine.connect() as conn:
        view = await queries.application(conn, application_id, principal)
    response.headers["ETag"] = etag(view.version)
    return view


@router.get(
    "/audits",
    response_model=schemas.Page[schemas.AuditListItem],
    responses=LIST_PROBLEMS,
    summary="Audits (a bureau: those assigned to it), filtered, in pages",
)
async def list_audits(
    principal: AnyPrincipal,
    engine: EngineDep,
    status: Filter = None,
    bureau_id: Filter = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> schemas.Page[schemas.AuditListItem]:
    async with engine.connect() as conn:
        return await queries.list_audits(
            conn, principal, status=status, bureau_id=bureau_id, cursor=cursor, limit=limit
        )


@router.get(
    "/audits/{audit_id}",
    response_model=schemas.Audit,
    responses=READ_PROBLEMS,
    summary="One audit with its reports (scores, verdicts, result) and reactions",
)
async def get_audit(
    audit_id: ResourceId, principal: AnyPrincipal, engine: EngineDep, response: Response
) -> schemas.Audit:
    async with engine.connect() as conn:
        view = await queries.audit(conn, audit_id, principal)
    response.headers["ETag"] = etag(view.version)
    return view


@router.get(
    "/bureaus",
    response_model=schemas.Page[schemas.Bureau],
    responses=LIST_PROBLEMS,
    summary="Audit bureaus and their appointments",
)
async def list_bureaus(
    principal: AnyPrincipal,
    engine: EngineDep,
    appointed_on: Annotated[
        Day | None, Query(description="Only those appointed on this day")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> schemas.Page[schemas.Bureau]:
    async with engine.connect() as conn:
        return await queries.list_bureaus(
            conn, appointed_on=appointed_on, cursor=cursor, limit=limit
        )


@router.get(
    "/bureaus/{bureau_id}",
    response_model=schemas.Bureau,
    responses=READ_PROBLEMS,
    summary="One audit bureau",
)
async def get_bureau(
    bureau_id: ResourceId, principal: AnyPrincipal, engine: EngineDep, response: Response
) -> schemas.Bureau:
    async with engine.connect() as conn:
        view = await queries.bureau(conn, bureau_id)
    response.headers["ETag"] = etag(view.version)
    return view
