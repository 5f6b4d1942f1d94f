"""Deciding on an application: submitting it (who may apply, on which track, with what data)
and receiving its sworn declaration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain import errors
from app.domain.decider.context import Context
from app.domain.event import DomainEvent
from app.domain.events import ApplicationSubmitted, CertificateHeld, SwornDeclarationReceived, Track
from app.domain.identifiers import BankAccount, RegistrationUnit
from app.domain.norm import ProfessionalBody
from app.domain.policies import ELIGIBLE_THEMES
from app.domain.registration import UnitState


@dataclass(frozen=True, slots=True)
class SubmitApplication:
    application_id: str
    unit: RegistrationUnit
    provider_name: str
    bank_account: BankAccount
    activities: str
    themes: tuple[str, ...]
    track: Track = Track.BASIC
    certificates: tuple[CertificateHeld, ...] = ()
    professional_body: ProfessionalBody | None = None
    activity_started_on: date | None = None
    dossiers: int | None = None


@dataclass(frozen=True, slots=True)
class RecordSwornDeclaration:
    application_id: str
    received_on: date | None = None  # default: today


def submit(
    command: SubmitApplication, state: UnitState, day: date, context: Context
) -> list[DomainEvent]:
    if state.application is not None:
        raise errors.ApplicationAlreadyOpen(
            f"application {state.application.application_id} for this unit is still open"
        )
    if state.in_force and command.track is not Track.RENEWAL:
        raise errors.UnitAlreadyRegistered("this unit is registered; it can only apply for renewal")
    if command.track is Track.RENEWAL and not state.in_force:
        raise errors.NotRegistered("only a registered unit can apply for renewal")
    enterprise = str(command.unit.enterprise_number)
    if context.is_appointed_bureau(enterprise, day):
        raise errors.ApplicantIsAuditBureau(
            f"enterprise {enterprise} is an appointed audit bureau and cannot apply"
        )
    _check_application_data(command, day, context)
    return [
        ApplicationSubmitted(
            application_id=command.application_id,
            enterprise_number=enterprise,
            department=command.unit.department,
            service_type=command.unit.service_type,
            provider_name=command.provider_name.strip(),
            bank_account=str(command.bank_account),
            activities=command.activities.strip(),
            themes=tuple(sorted(set(command.themes))),
            track=command.track,
            certificates=command.certificates,
            professional_body=command.professional_body,
            activity_started_on=command.activity_started_on,
            dossiers=command.dossiers,
            submitted_on=day,
        )
    ]


def _check_application_data(command: SubmitApplication, day: date, context: Context) -> None:
    if not command.provider_name.strip():
        raise errors.InvalidCommand("the provider's name is required")
    if not command.activities.strip():
        raise errors.InvalidCommand("the activities must be described")
    if not command.themes:
        raise errors.InvalidCommand("at least one theme is required")
    unknown = sorted(set(command.themes) - ELIGIBLE_THEMES)
    if unknown:
        raise errors.InvalidCommand(f"themes not eligible: {', '.join(unknown)}")
    if command.track is Track.STARTER:
        started, dossiers = command.activity_started_on, command.dossiers
        if started is None or dossiers is None:
            raise errors.NotAStarter(
                "the starter track needs the start date of the activity and the number of dossiers"
            )
        if started > day or dossiers < 0:
            raise errors.InvalidCommand(
                "the activity's start date cannot be in the future nor the dossiers negative"
            )
        if not context.starter_criteria.is_starter(started, dossiers, day):
            criteria = context.starter_criteria
            raise errors.NotAStarter(
                f"a starter is active less than {criteria.max_years_active} years "
                f"{criteria.rule.value} has fewer than {criteria.max_dossiers} dossiers"
            )


def open_application(state: UnitState, application_id: str) -> None:
    if state.application is None or state.application.application_id != application_id:
        raise errors.NoOpenApplication(f"application {application_id} is not open")


def sworn_declaration(
    command: RecordSwornDeclaration, state: UnitState, day: date
) -> list[DomainEvent]:
    open_application(state, command.application_id)
    assert state.application is not None
    if state.application.sworn_declaration_on is not None:
        raise errors.SwornDeclarationAlreadyReceived(
            f"received on {state.application.sworn_declaration_on}"
        )
    received_on = command.received_on or day
    if received_on > day or received_on < state.application.submitted_on:
        raise errors.InvalidCommand(
            "the sworn declaration is received between the application and today"
        )
    return [
        SwornDeclarationReceived(application_id=command.application_id, received_on=received_on)
    ]
