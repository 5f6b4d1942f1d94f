"""Providers: apply for their own enterprise, choose an audit bureau, react to a failed audit.

A provider's token names its enterprise; every resource it names is looked up within it, so
another enterprise's application, audit or registration is not found (404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from app.api import schemas
from app.api.http import replies
from app.api.http.auth import Principal, ProviderPrincipal, Role, require
from app.api.http.commands import CommandDep, Hook, Reply, etag, new_id
from app.api.http.deps import EngineDep
from app.api.http.fastpath import CommandRoute
from app.api.http.params import RegistrationRef, ResourceId
from app.api.http.problems import problem_responses
from app.api.queries import registrations as queries
from app.domain.decider import ChooseAuditBureau, ReactToFailedAudit, SubmitApplication
from app.domain.errors import InvalidCommand
from app.domain.events import CertificateHeld, ProfileLocation, ProviderProfileUpdated
from app.domain.identifiers import (
    BankAccount,
    EnterpriseNumber,
    InvalidIdentifier,
    RegistrationUnit,
)
from app.domain.profiles import UpdateProfile
from app.domain.regions import province_of
from app.events import EventStore
from app.events.catalog import REGISTRY, provider_stream_id
from app.runtime.pg import Executes
from app.services.registrations import UnknownResource
from app.services.transaction import Transaction

router = APIRouter(tags=["provider"], route_class=CommandRoute)
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
    audit_id = new_id("audit")
    choose = ChooseAuditBureau(audit_id, body.bureau_id, application_id=application_id)
    located = queries.locate_application(application_id, principal)
    render = replies.located_audit(audit_id, None, created=True)
    return await command.on_located(located, choose, render)


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
    audit_id = new_id("audit")
    choose = ChooseAuditBureau(audit_id, body.bureau_id, follow_up=True)
    located = queries.locate_unit(ref, principal)
    render = replies.located_audit(audit_id, None, created=True)
    return await command.on_located(located, choose, render)


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
    react = ReactToFailedAudit(audit_id, body.reaction)
    located = queries.locate_audit(audit_id, principal)
    return await command.on_located(located, react, replies.located_audit(audit_id, located))


# --- the public profile ---------------------------------------------------------------------

EnterprisePath = Annotated[
    str,
    Path(
        max_length=40,
        pattern=r"^[^\x00-\x1f\x7f/]+$",
        description="The enterprise number in any common written form",
        examples=["0403170701"],
    ),
]
ProfileReader = Annotated[Principal, Depends(require(Role.PROVIDER, Role.AGENCY))]


def _own_enterprise(enterprise_number: str, principal: Principal) -> str:
    """The enterprise, canonical; a provider sees only its own (another's is not found)."""
    try:
        kbo = str(EnterpriseNumber.parse(enterprise_number))
    except InvalidIdentifier:
        raise UnknownResource(f"there is no provider {enterprise_number!r}") from None
    if principal.role is Role.PROVIDER and kbo != principal.enterprise_number:
        raise UnknownResource(f"there is no provider {kbo} that you may see")
    return kbo


async def _profile(conn: Executes, kbo: str) -> schemas.Profile:
    recorded = await EventStore(conn, REGISTRY).read_stream(provider_stream_id(kbo))
    latest = recorded[-1].event if recorded else None
    if not isinstance(latest, ProviderProfileUpdated):
        return schemas.Profile(
            enterprise_number=kbo, description="", themes=[], locations=[], version=len(recorded)
        )
    return schemas.Profile(
        enterprise_number=kbo,
        description=latest.description,
        themes=list(latest.themes),
        locations=[
            schemas.Location(
                **location.model_dump(), province=province_of(location.postal_code).value
            )
            for location in latest.locations
        ],
        website=latest.website,
        version=len(recorded),
    )


@router.get(
    "/providers/{enterprise_number}/profile",
    response_model=schemas.Profile,
    responses=problem_responses(401, 403, 404, 422),
    summary="The provider's public profile as it keeps it (ETag: its version)",
)
async def get_profile(
    enterprise_number: EnterprisePath, principal: ProfileReader, engine: EngineDep
) -> Response:
    kbo = _own_enterprise(enterprise_number, principal)
    async with engine.connect() as conn:
        profile = await _profile(conn, kbo)
    return Response(
        profile.model_dump_json(),
        media_type="application/json",
        headers={"ETag": etag(profile.version)},
    )


@router.post(
    "/providers/{enterprise_number}/profile",
    response_model=schemas.Profile,
    responses=COMMAND_PROBLEMS,
    summary="Keep the public profile: description, themes, locations, website (the whole "
    "profile; the public search shows it while a registration is in force)",
)
async def update_profile(
    enterprise_number: EnterprisePath,
    body: schemas.ProfileRequest,
    principal: ProviderPrincipal,
    command: CommandDep,
) -> Response:
    kbo = _own_enterprise(enterprise_number, principal)
    if body.enterprise_number is not None and body.enterprise_number != kbo:
        raise InvalidCommand(
            f"the body is the profile of {body.enterprise_number}, the path names {kbo}"
        )
    update = UpdateProfile(
        enterprise=EnterpriseNumber(kbo),
        description=body.description,
        themes=tuple(body.themes),
        locations=tuple(
            ProfileLocation(
                name=location.name,
                street=location.street,
                postal_code=location.postal_code,
                municipality=location.municipality,
            )
            for location in body.locations
        ),
        website=body.website,
    )

    async def execute(finish: Hook) -> object:
        return await command.service.update_profile(
            update, command.metadata, expected_version=command.expected_version, finish=finish
        )

    async def render(tx: Transaction, outcome: object) -> Reply:
        profile = await _profile(tx, kbo)
        return Reply(200, profile, version=profile.version)

    return await command.run(execute, render)
