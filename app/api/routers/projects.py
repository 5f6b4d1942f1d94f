"""Subsidy projects (DOMAIN.md, "The provider as co-guardian of the subsidy"): the agency's
systems record each project filed in the kmo-portefeuille application, with the findings the
service computes; the provider checks the projects filed with it (confirm, or dispute with the
brochure's reason); the agency approves, stops or reclaims. Every command goes through
``RegistrationService.execute_project`` on the project's own stream (``project:<id>``), with
``Idempotency-Key`` and ``If-Match`` as every command; bureaus have no business here (403)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from app.api import schemas
from app.api.http.auth import AgencyPrincipal, Principal, ProviderPrincipal, Role, require
from app.api.http.commands import CommandDep, Hook, Reply, etag
from app.api.http.deps import EngineDep
from app.api.http.params import Cursor, EnterpriseNumberFilter, Limit, ResourceId
from app.api.http.problems import problem_responses
from app.api.queries import projects as project_queries
from app.domain.events import FindingCode
from app.domain.identifiers import EnterpriseNumber, RegistrationNumber
from app.domain.policies import today
from app.domain.projects import (
    ApproveProject,
    ConfirmProject,
    DisputeProject,
    ProjectCommand,
    ProjectStatus,
    ReclaimProject,
    RecordProject,
    StopProject,
)
from app.services.registrations import Located, RegistrationService
from app.services.transaction import Transaction

router = APIRouter()
COMMAND_PROBLEMS = problem_responses(401, 403, 404, 409, 412, 422)
ProjectReader = Annotated[Principal, Depends(require(Role.AGENCY, Role.PROVIDER))]


def _today(service: RegistrationService) -> date:
    return today(service.clock.now())


async def _run(
    command: CommandDep,
    project_id: str,
    do: ProjectCommand,
    *,
    located: Located | None = None,
    created: bool = False,
) -> Response:
    """The command on the project's stream; the project (but one being recorded) is found
    within the caller's scope by the command's one read (``located``: another provider's is not
    found, 404), and the reply is made from its row as read and the command's events."""

    async def execute(finish: Hook) -> object:
        return await command.service.execute_project(
            project_id,
            do,
            command.metadata,
            expected_version=command.expected_version,
            finish=finish,
            located=located,
        )

    async def render(tx: Transaction, outcome: Any) -> Reply:
        found = located.value if located is not None else None
        view = project_queries.project_after(
            project_id, found, outcome, command.principal, _today(command.service)
        )
        return Reply(
            201 if created else 200,
            view,
            location=f"/projects/{project_id}" if created else None,
            version=outcome.version,
        )

    return await command.run(execute, render)


async def _on_found(command: CommandDep, project_id: str, do: ProjectCommand) -> Response:
    """A command on a project the caller may see."""
    located = project_queries.locate_project(project_id, command.principal)
    return await _run(command, project_id, do, located=located)


@router.post(
    "/projects",
    tags=["agency"],
    status_code=201,
    response_model=schemas.Project,
    responses=problem_responses(401, 403, 409, 412, 422),
    summary="Record a subsidy project filed with a provider; the findings are computed now",
)
async def record_project(
    body: schemas.RecordProjectRequest, principal: AgencyPrincipal, command: CommandDep
) -> Response:
    record = RecordProject(
        project_id=body.project_id,
        client=EnterpriseNumber(body.client_enterprise_number),
        registration_number=RegistrationNumber.parse(body.registration_number),
        service_type=body.service_type,
        theme=body.theme,
        start_date=body.start_date,
        end_date=body.end_date,
        price_excluding_vat=body.price_excluding_vat,
        vat=body.vat,
        participants=body.participants,
        training_days=body.training_days,
        catering_cost=body.catering_cost,
    )
    return await _run(command, body.project_id, record, created=True)


@router.get(
    "/projects",
    tags=["agency", "provider"],
    response_model=schemas.Page[schemas.Project],
    responses=problem_responses(401, 403, 422),
    summary="Subsidy projects (a provider: those filed with it), filtered, in pages",
)
async def list_projects(
    principal: ProjectReader,
    engine: EngineDep,
    request: Request,
    status: ProjectStatus | None = None,
    provider: EnterpriseNumberFilter = None,
    registration_number: Annotated[
        str | None, Query(max_length=40, description="As recorded, e.g. DV.O000001")
    ] = None,
    finding: Annotated[
        FindingCode | None, Query(description="Only projects where this finding was not met")
    ] = None,
    waiting_more_than_days: Annotated[
        int | None,
        Query(ge=0, le=36_500, description="Only projects still to check, filed longer ago"),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> schemas.Page[schemas.Project]:
    number = None
    if registration_number is not None:
        number = str(RegistrationNumber.parse(registration_number))
    async with engine.connect() as conn:
        return await project_queries.list_projects(
            conn,
            principal,
            _today(request.app.state.service),
            status=status,
            provider=provider,
            registration_number=number,
            finding=finding,
            waiting_more_than_days=waiting_more_than_days,
            cursor=cursor,
            limit=limit,
        )


@router.get(
    "/projects/{project_id}",
    tags=["agency", "provider"],
    response_model=schemas.Project,
    responses=problem_responses(401, 403, 404, 422),
    summary="One subsidy project with its findings (ETag: its version)",
)
async def get_project(
    project_id: ResourceId, principal: ProjectReader, engine: EngineDep, request: Request
) -> Response:
    async with engine.connect() as conn:
        view = await project_queries.project(
            conn, project_id, principal, _today(request.app.state.service)
        )
    return Response(
        view.model_dump_json(), media_type="application/json", headers={"ETag": etag(view.version)}
    )


@router.post(
    "/projects/{project_id}/confirmation",
    tags=["provider"],
    response_model=schemas.Project,
    responses=COMMAND_PROBLEMS,
    summary="Confirm a project filed with you: this client really enrolled or signed",
)
async def confirm_project(
    project_id: ResourceId, principal: ProviderPrincipal, command: CommandDep
) -> Response:
    return await _on_found(command, project_id, ConfirmProject())


@router.post(
    "/projects/{project_id}/dispute",
    tags=["provider"],
    response_model=schemas.Project,
    responses=COMMAND_PROBLEMS,
    summary="Dispute a project filed with you, with the brochure's reason and a comment",
)
async def dispute_project(
    project_id: ResourceId,
    body: schemas.DisputeProjectRequest,
    principal: ProviderPrincipal,
    command: CommandDep,
) -> Response:
    return await _on_found(command, project_id, DisputeProject(body.reason, body.comment))


@router.post(
    "/projects/{project_id}/approval",
    tags=["agency"],
    response_model=schemas.Project,
    responses=COMMAND_PROBLEMS,
    summary="Approve a project (not yet approved nor stopped)",
)
async def approve_project(
    project_id: ResourceId, principal: AgencyPrincipal, command: CommandDep
) -> Response:
    return await _on_found(command, project_id, ApproveProject())


@router.post(
    "/projects/{project_id}/stop",
    tags=["agency"],
    response_model=schemas.Project,
    responses=COMMAND_PROBLEMS,
    summary="Stop a project (not yet approved nor stopped), with the reason",
)
async def stop_project(
    project_id: ResourceId,
    body: schemas.StopRequest,
    principal: AgencyPrincipal,
    command: CommandDep,
) -> Response:
    return await _on_found(command, project_id, StopProject(body.reason))


@router.post(
    "/projects/{project_id}/reclaim",
    tags=["agency"],
    response_model=schemas.Project,
    responses=COMMAND_PROBLEMS,
    summary="Reclaim an approved project found wrongly granted after payment, with the reason",
)
async def reclaim_project(
    project_id: ResourceId,
    body: schemas.ReclaimRequest,
    principal: AgencyPrincipal,
    command: CommandDep,
) -> Response:
    return await _on_found(command, project_id, ReclaimProject(body.reason))
