"""The agency's back office: sworn declarations, the minister's decisions, stops, audit
bureaus, ratings, the deadline job, and every registration's history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.api import schemas
from app.api.http import replies
from app.api.http.auth import AgencyPrincipal
from app.api.http.commands import CommandDep, Hook, Reply
from app.api.http.deps import EngineDep
from app.api.http.fastpath import CommandRoute
from app.api.http.params import RegistrationRef, ResourceId
from app.api.http.problems import problem_responses
from app.api.queries import registrations as queries
from app.api.schemas import Day
from app.domain.bureaus import AppointAuditBureau, EndBureauAppointment
from app.domain.decider import RecordDecision, RecordSwornDeclaration, StopRegistration
from app.domain.identifiers import EnterpriseNumber
from app.domain.policies import today
from app.domain.ratings import RecordRating
from app.events import EventStore
from app.events.catalog import REGISTRY, rating_stream_id
from app.runtime.pg import Executes
from app.services.deadlines import DeadlineRun, due_deadlines, run_deadlines
from app.services.registrations import RegistrationService, UnknownResource
from app.services.transaction import Transaction

router = APIRouter(tags=["agency"], route_class=CommandRoute)
COMMAND_PROBLEMS = problem_responses(401, 403, 404, 409, 412, 422)
NO_BODY = schemas.DeadlineRunRequest()  # POST /deadlines/run without a body: now


@router.post(
    "/applications/{application_id}/sworn-declaration",
    response_model=schemas.Application,
    responses=COMMAND_PROBLEMS,
    summary="Record the receipt of the signed sworn declaration (verklaring op eer)",
)
async def record_sworn_declaration(
    application_id: ResourceId,
    body: schemas.SwornDeclarationRequest,
    principal: AgencyPrincipal,
    command: CommandDep,
) -> Response:
    async with command.engine.connect() as conn:
        found = await queries.application(conn, application_id, principal)
    record = RecordSwornDeclaration(application_id, body.received_on)
    return await command.on_unit(
        found.registration_id, record, replies.application(application_id, principal)
    )


@router.post(
    "/applications/{application_id}/decision",
    response_model=schemas.Application,
    responses=COMMAND_PROBLEMS,
    summary="Record the minister's decision: registration granted or refused",
)
async def record_decision(
    application_id: ResourceId,
    body: schemas.DecisionRequest,
    principal: AgencyPrincipal,
    command: CommandDep,
) -> Response:
    async with command.engine.connect() as conn:
        found = await queries.application(conn, application_id, principal)
    decision_date = body.decision_date or today(command.service.clock.now())
    record = RecordDecision(application_id, body.granted, decision_date, body.reason)
    return await command.on_unit(
        found.registration_id, record, replies.application(application_id, principal)
    )


@router.post(
    "/registrations/{ref}/stop",
    response_model=schemas.Registration,
    responses=COMMAND_PROBLEMS,
    summary="Stop a registration in force, with the reason (e.g. misuse found)",
)
async def stop_registration(
    ref: RegistrationRef,
    body: schemas.StopRequest,
    principal: AgencyPrincipal,
    command: CommandDep,
) -> Response:
    async with command.engine.connect() as conn:
        unit_key = (await queries.find_unit(conn, ref, principal))["unit_key"]
    return await command.on_unit(
        unit_key, StopRegistration(body.reason), replies.registration(unit_key, principal)
    )


@router.post(
    "/bureaus",
    status_code=201,
    response_model=schemas.Bureau,
    responses={
        200: {
            "model": schemas.Bureau,
            "description": "Appointed again: the bureau existed and its appointment had ended "
            "(no Location; the ETag is its new version)",
        },
        **problem_responses(401, 403, 409, 412, 422),
    },
    response_description="Appointed: a new bureau (Location names it)",
    summary="Appoint an audit bureau (or appoint again one whose appointment ended)",
)
async def appoint_bureau(
    body: schemas.AppointBureauRequest, principal: AgencyPrincipal, command: CommandDep
) -> Response:
    appoint = AppointAuditBureau(
        bureau_id=body.bureau_id,
        name=body.name,
        enterprise_number=EnterpriseNumber(body.enterprise_number),
        appointed_from=body.appointed_from,
        appointed_until=body.appointed_until,
        contact=body.contact,
    )

    async def execute(finish: Hook) -> object:
        return await command.service.execute_bureau(
            appoint, command.metadata, expected_version=command.expected_version, finish=finish
        )

    return await command.run(execute, replies.bureau(body.bureau_id))


@router.post(
    "/bureaus/{bureau_id}/retirement",
    response_model=schemas.Bureau,
    responses=COMMAND_PROBLEMS,
    summary="End a bureau's appointment: its last day",
)
async def retire_bureau(
    bureau_id: ResourceId,
    body: schemas.RetireBureauRequest,
    principal: AgencyPrincipal,
    command: CommandDep,
) -> Response:
    async with command.engine.connect() as conn:
        await queries.bureau(conn, bureau_id)
    end = EndBureauAppointment(bureau_id, body.last_day)

    async def execute(finish: Hook) -> object:
        return await command.service.execute_bureau(
            end, command.metadata, expected_version=command.expected_version, finish=finish
        )

    return await command.run(execute, replies.bureau(bureau_id))


@router.post(
    "/ratings",
    status_code=201,
    response_model=schemas.Rating,
    responses=problem_responses(401, 403, 409, 422),
    summary="Record a client's rating (1 to 5) of the provider of one of its projects, once "
    "per project",
)
async def record_rating(
    body: schemas.RatingRequest, principal: AgencyPrincipal, command: CommandDep
) -> Response:
    provider = body.provider_enterprise_number
    record = RecordRating(
        reference=body.reference,
        project_id=body.project_id,
        client=EnterpriseNumber(body.client_enterprise_number),
        score=body.score,
        rated_on=body.rated_on,
        provider=EnterpriseNumber(provider) if provider is not None else None,
    )

    async def execute(finish: Hook) -> object:
        return await command.service.record_rating(record, command.metadata, finish=finish)

    async def render(tx: Transaction, outcome: object) -> Reply:
        return Reply(201, await _rating(tx, body.reference), location=f"/ratings/{body.reference}")

    return await command.run(execute, render)


@router.get(
    "/ratings/{reference}",
    response_model=schemas.Rating,
    responses=problem_responses(401, 403, 404, 422),
    summary="One recorded rating",
)
async def get_rating(
    reference: ResourceId, principal: AgencyPrincipal, engine: EngineDep
) -> schemas.Rating:
    async with engine.connect() as conn:
        return await _rating(conn, reference)


async def _rating(conn: Executes, reference: str) -> schemas.Rating:
    recorded = await EventStore(conn, REGISTRY).read_stream(rating_stream_id(reference))
    if not recorded:
        raise UnknownResource(f"there is no rating {reference!r}")
    return schemas.Rating.model_validate(recorded[0].event.model_dump())


@router.post(
    "/deadlines/run",
    response_model=schemas.DeadlineRun,
    responses=problem_responses(401, 403, 409, 422),
    summary="Run the deadline job now: write the events of every deadline passed by today",
)
async def run_deadline_job(
    principal: AgencyPrincipal,
    command: CommandDep,
    request: Request,
    body: schemas.DeadlineRunRequest = NO_BODY,
) -> Response:
    now = body.now
    ahead = request.app.state.settings.environment == "test"

    async def execute(finish: Hook) -> object:
        async with command.service.pg.connection() as conn:
            async with Transaction.begin(conn) as tx:
                await finish.recall_first(tx)  # type: ignore[attr-defined]
            run = await run_deadlines(command.service, now, may_run_ahead=ahead)
            async with Transaction.begin(conn) as tx:  # the job spans many units: remember after
                await finish(tx, run)
        return run

    async def render(tx: Transaction, run: DeadlineRun) -> Reply:
        return Reply(200, schemas.DeadlineRun.model_validate(run.as_dict()))

    return await command.run(execute, render)


@router.get(
    "/deadlines",
    response_model=schemas.DeadlinePreview,
    responses=problem_responses(401, 403, 422),
    summary="Preview the deadline job: what a run on a day would record (writes nothing)",
)
async def preview_deadlines(
    principal: AgencyPrincipal,
    request: Request,
    until: Annotated[
        Day | None,
        Query(
            description="The day of the run to preview (default: today in Belgium)",
            examples=["2031-01-16"],
        ),
    ] = None,
) -> schemas.DeadlinePreview:
    service: RegistrationService = request.app.state.service
    day = until or today(service.clock.now())
    found = await due_deadlines(service, day)
    return schemas.DeadlinePreview(
        until=day,
        due=[
            schemas.DueDeadline(
                unit_id=due.unit_key,
                registration_number=due.registration_number,
                kind=due.kind.value,
                last_day=due.last_day,
                due_on=due.due_on,
                event_type=due.event.event_type,
                data=due.event.model_dump(mode="json"),
            )
            for due in found
        ],
    )


@router.get(
    "/registrations/{ref}/events",
    response_model=list[schemas.HistoryEvent],
    responses=problem_responses(401, 403, 404, 422),
    summary="A registration's full history: its events in order, with actor and time",
)
async def registration_history(
    ref: RegistrationRef, principal: AgencyPrincipal, engine: EngineDep
) -> list[schemas.HistoryEvent]:
    async with engine.connect() as conn:
        unit_key = (await queries.find_unit(conn, ref, principal))["unit_key"]
        return await queries.history(conn, unit_key)
