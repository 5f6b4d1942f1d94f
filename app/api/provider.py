"""Providers: apply for their own enterprise, choose an audit bureau, react to a failed audit.

A provider's token names its enterprise; every resource it names is looked up within it, so
another enterprise's application, audit or registration is not found (404)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from app.api import queries, replies, schemas
from app.api.auth import ProviderPrincipal
from app.api.commands import CommandDep, new_id
from app.api.params import RegistrationRef, ResourceId
from app.api.problems import problem_responses
from app.domain.decider import ChooseAuditBureau, ReactToFailedAudit, SubmitApplication
from app.domain.events import CertificateHeld
from app.domain.identifiers import BankAccount, EnterpriseNumber, RegistrationUnit

router = APIRouter(tags=["provider"])
COMMAND_PROBLEMS = problem_responses(401, 403, 404, 409, 412, 422)


@router.post(
    "/applications",
    status_code=201,
    response_model=schemas.Application,
    responses=problem_responses(401, 403, 409, 412, 422),
    summary="Apply for registration of one service type",
)
async def submit_application(
    body: schemas.SubmitApplicationRequest, principal: ProviderPrincipal, command: CommandDep
) -> Response:
    assert principal.enterprise_number is not None
    unit = RegistrationUnit(
        EnterpriseNumber(principal.enterprise_number), body.service_type, body.department
    )
    application_id = new_id("application")
    submit = SubmitApplication(
        application_id=application_id,
        unit=unit,
        provider_name=body.provider_name,
        bank_account=BankAccount(body.bank_account),
        activities=body.activities,
        themes=tuple(body.themes),
        track=body.track,
        certificates=tuple(
            CertificateHeld(certificate=c.certificate, valid_until=c.valid_until)
            for c in body.certificates
        ),
        professional_body=body.professional_body,
        activity_started_on=body.activity_started_on,
        dossiers=body.dossiers,
    )

    return await command.on_unit(
        unit.key, submit, replies.application(application_id, principal, created=True)
    )


@router.post(
    "/applications/{application_id}/audits",
    status_code=201,
    response_model=schemas.Audit,
    responses=COMMAND_PROBLEMS,
    summary="Choose the appointed audit bureau that audits this application",
)
async def choose_audit_bureau(
    application_id: ResourceId,
    body: schemas.ChooseBureauRequest,
    principal: ProviderPrincipal,
    command: CommandDep,
) -> Response:
    async with command.engine.connect() as conn:
        found = await queries.application(conn, application_id, principal)
    audit_id = new_id("audit")
    choose = ChooseAuditBureau(audit_id, body.bureau_id, application_id=application_id)

    return await command.on_unit(
        found.registration_id, choose, replies.audit(audit_id, principal, created=True)
    )


@router.post(
    "/registrations/{ref}/follow-up-audits",
    status_code=201,
    response_model=schemas.Audit,
    responses=COMMAND_PROBLEMS,
    summary="Choose the audit bureau for the follow-up audit of a conditional or starter "
    "registration",
)
async def choose_follow_up_bureau(
    ref: RegistrationRef,
    body: schemas.ChooseBureauRequest,
    principal: ProviderPrincipal,
    command: CommandDep,
) -> Response:
    async with command.engine.connect() as conn:
        unit_key = (await queries.find_unit(conn, ref, principal))["unit_key"]
    audit_id = new_id("audit")
    choose = ChooseAuditBureau(audit_id, body.bureau_id, follow_up=True)

    return await command.on_unit(unit_key, choose, replies.audit(audit_id, principal, created=True))


@router.post(
    "/audits/{audit_id}/reaction",
    response_model=schemas.Audit,
    responses=COMMAND_PROBLEMS,
    summary="React to a failed audit (within 6 months); the bureau may then report again",
)
async def react_to_failed_audit(
    audit_id: ResourceId,
    body: schemas.ReactionRequest,
    principal: ProviderPrincipal,
    command: CommandDep,
) -> Response:
    async with command.engine.connect() as conn:
        unit_key = (await queries.find_audit(conn, audit_id, principal))["unit_key"]
    react = ReactToFailedAudit(audit_id, body.reaction)

    return await command.on_unit(unit_key, react, replies.audit(audit_id, principal))
