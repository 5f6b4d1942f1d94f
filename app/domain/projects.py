"""Subsidy projects: the provider as co-guardian of the subsidy (DOMAIN.md; brochure, Fase III).

The agency's systems record each project filed in the kmo-portefeuille application; the service
computes what it can check (``findings``) and stores the findings in ``ProjectRecorded``; the
provider confirms the project or disputes it with one of the brochure's reasons; the agency
approves or stops it, and reclaims it when it was wrongly granted after payment.

**The findings are frozen when the project is recorded**: the registration is judged as of the
start date (the unit's state folded from the events recorded up to the end of that day, and
``attest.in_force_on``, the one in-force rule), the filing date is the day the agency's systems
recorded the project (the service's clock, in Belgium). Replaying the events never re-judges a
project, whatever happened to the registration or the policies since. A start date still to
come is judged on the registration as it stands when the project is recorded.

**Findings are data, not refusals**: a project filed late, with catering above the cap, on a
theme not eligible, or naming a registration number this registry never gave, is still recorded
(the kmo-portefeuille application filed it: the record must say so); its findings say what is
wrong. An unknown number names no provider, so no provider sees that project; the agency does.

**The eligible amount**: the price excluding VAT (VAT is never eligible) plus the catering up to
its cap (EUR 25 x participants x training days); nothing (0.00) when a finding makes the whole
service ineligible (not registered on the start date, filed late, a theme not eligible).

**Who acts when** (our choices): the provider checks a project while it is to check (confirm or
dispute, once: a second thought goes to the agency in words); the agency approves or stops a
project that is not decided yet, whether the provider checked it or not (the check has no
deadline of its own: the agency sees how long each project waited); only an approved project can
be reclaimed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from app.domain import errors
from app.domain.attest import KIND_WORDS, SERVICE_WORDS, in_force_on
from app.domain.event import DomainEvent
from app.domain.events import (
    DisputeReason,
    Finding,
    FindingCode,
    FindingOutcome,
    ProjectApproved,
    ProjectConfirmed,
    ProjectDisputed,
    ProjectReclaimed,
    ProjectRecorded,
    ProjectStopped,
)
from app.domain.identifiers import EnterpriseNumber, RegistrationNumber, ServiceType
from app.domain.policies import (
    CATERING_CAP_PER_PERSON_DAY,
    ELIGIBLE_THEMES,
    PROJECT_FILING_DAYS,
    THEMES_REQUIRED_FROM,
    catering_cap,
    project_filing_deadline,
    today,
)
from app.domain.registration import UnitState

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The findings that make the whole service ineligible when not met (nothing to subsidise).
WHOLE_SERVICE = frozenset(
    {FindingCode.REGISTERED_ON_START_DATE, FindingCode.FILED_IN_TIME, FindingCode.ELIGIBLE_THEME}
)


class ProjectStatus(StrEnum):
    TO_CHECK = "to_check"  # recorded; the provider has not confirmed nor disputed it
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"
    APPROVED = "approved"
    STOPPED = "stopped"
    RECLAIMED = "reclaimed"


UNDECIDED = frozenset({ProjectStatus.TO_CHECK, ProjectStatus.CONFIRMED, ProjectStatus.DISPUTED})


@dataclass(frozen=True, slots=True)
class ProjectState:
    recorded: ProjectRecorded | None = None
    status: ProjectStatus | None = None


def evolve_project(state: ProjectState, event: DomainEvent) -> ProjectState:
    match event:
        case ProjectRecorded():
            return ProjectState(event, ProjectStatus.TO_CHECK)
        case ProjectConfirmed():
            return ProjectState(state.recorded, ProjectStatus.CONFIRMED)
        case ProjectDisputed():
            return ProjectState(state.recorded, ProjectStatus.DISPUTED)
        case ProjectApproved():
            return ProjectState(state.recorded, ProjectStatus.APPROVED)
        case ProjectStopped():
            return ProjectState(state.recorded, ProjectStatus.STOPPED)
        case ProjectReclaimed():
            return ProjectState(state.recorded, ProjectStatus.RECLAIMED)
    return state


# --- commands ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordProject:
    project_id: str
    client: EnterpriseNumber
    registration_number: RegistrationNumber
    service_type: ServiceType
    theme: str
    start_date: date
    end_date: date
    price_excluding_vat: Decimal
    vat: Decimal
    participants: int | None = None
    training_days: Decimal | None = None
    catering_cost: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ConfirmProject:
    pass


@dataclass(frozen=True, slots=True)
class DisputeProject:
    reason: DisputeReason
    comment: str


@dataclass(frozen=True, slots=True)
class ApproveProject:
    pass


@dataclass(frozen=True, slots=True)
class StopProject:
    reason: str


@dataclass(frozen=True, slots=True)
class ReclaimProject:
    reason: str


ProjectCommand = (
    RecordProject | ConfirmProject | DisputeProject | ApproveProject | StopProject | ReclaimProject
)


@dataclass(frozen=True, slots=True)
class Holder:
    """The registration unit that holds the project's number, as the rules judge it: its state
    folded from the events recorded up to the end of the start date, and its enterprise."""

    enterprise_number: str
    as_of_start: UnitState


def decide_project(
    command: ProjectCommand, state: ProjectState, now: datetime, holder: Holder | None = None
) -> Sequence[DomainEvent]:
    """``holder``: for ``RecordProject``, the unit that holds the number (None: no unit does)."""
    day = today(now)
    if isinstance(command, RecordProject):
        if state.recorded is not None:
            raise errors.ProjectAlreadyRecorded(
                f"project {command.project_id!r} is already recorded"
            )
        return [record(command, day, holder)]
    if state.recorded is None or state.status is None:
        raise errors.InvalidCommand("there is no such project")  # the API finds it first
    status = state.status
    match command:
        case ConfirmProject() | DisputeProject():
            if status is not ProjectStatus.TO_CHECK:
                raise errors.ProjectAlreadyChecked(
                    f"the project is {status.value}, no longer to check"
                )
            if isinstance(command, ConfirmProject):
                return [ProjectConfirmed(confirmed_on=day)]
            comment = command.comment.strip()
            if not comment:
                raise errors.InvalidCommand("a dispute says what is wrong in a comment")
            return [ProjectDisputed(reason=command.reason, comment=comment, disputed_on=day)]
        case ApproveProject() | StopProject():
            if status not in UNDECIDED:
                raise errors.ProjectAlreadyDecided(f"the project is {status.value} already")
            if isinstance(command, ApproveProject):
                return [ProjectApproved(approved_on=day)]
            return [ProjectStopped(reason=_reason(command.reason), stopped_on=day)]
        case ReclaimProject():
            if status is not ProjectStatus.APPROVED:
                raise errors.ProjectNotApproved(
                    f"only an approved project is reclaimed; this one is {status.value}"
                )
            return [ProjectReclaimed(reason=_reason(command.reason), reclaimed_on=day)]
    raise AssertionError(command)


def _reason(text: str) -> str:
    if not text.strip():
        raise errors.InvalidCommand("a reason is required")
    return text.strip()


def record(command: RecordProject, filed_on: date, holder: Holder | None) -> ProjectRecorded:
    _check_data(command)
    training = command.service_type is ServiceType.TRAINING
    findings = (
        registered_on_start(command, holder),
        filed_in_time(command.start_date, filed_on),
        eligible_theme(command.theme, command.start_date),
        vat_not_eligible(command.vat),
        catering_within_cap(command) if training else _catering_not_applicable(),
    )
    return ProjectRecorded(
        project_id=command.project_id,
        client_enterprise_number=str(command.client),
        registration_number=str(command.registration_number),
        provider_enterprise_number=holder.enterprise_number if holder else None,
        service_type=command.service_type,
        theme=command.theme,
        start_date=command.start_date,
        end_date=command.end_date,
        price_excluding_vat=_cents(command.price_excluding_vat),
        vat=_cents(command.vat),
        participants=command.participants,
        training_days=command.training_days,
        catering_cost=_cents(command.catering_cost) if training else None,
        filed_on=filed_on,
        findings=findings,
        eligible_amount=eligible_amount(command, findings),
    )


def _cents(amount: Decimal | None) -> Decimal:
    return (amount or ZERO).quantize(CENT)


def _check_data(command: RecordProject) -> None:
    if command.end_date < command.start_date:
        raise errors.InvalidCommand("the service cannot end before it starts")
    if command.price_excluding_vat < 0 or command.vat < 0:
        raise errors.InvalidCommand("amounts are not negative")
    if not command.theme.strip():
        raise errors.InvalidCommand("the project names its theme")
    training = command.service_type is ServiceType.TRAINING
    if training:
        if command.participants is None or command.training_days is None:
            raise errors.InvalidCommand("a training names its participants and training days")
        if command.participants < 1 or command.training_days <= 0:
            raise errors.InvalidCommand("a training has participants and training days")
        if command.catering_cost is not None and command.catering_cost < 0:
            raise errors.InvalidCommand("amounts are not negative")
    elif (command.participants, command.training_days, command.catering_cost) != (None,) * 3:
        raise errors.InvalidCommand(
            "participants, training days and catering are a training's; this is advice"
        )


# --- the findings, each named and explained ---------------------------------------------


def _finding(code: FindingCode, met: bool | None, explanation: str) -> Finding:
    outcome = (
        FindingOutcome.NOT_APPLICABLE
        if met is None
        else FindingOutcome.MET
        if met
        else FindingOutcome.NOT_MET
    )
    return Finding(code=code, outcome=outcome, explanation=explanation)


def registered_on_start(command: RecordProject, holder: Holder | None) -> Finding:
    """The provider's registration for the project's service type was in force on the start
    date, as the events recorded up to the end of that day say."""
    code, number, start = (
        FindingCode.REGISTERED_ON_START_DATE,
        command.registration_number,
        command.start_date,
    )
    if holder is None:
        return _finding(code, False, f"{number} is not a registration number of this registry")
    if number.service_type is not command.service_type:
        return _finding(
            code,
            False,
            f"{number} is a registration for {SERVICE_WORDS[number.service_type]},"
            f" the project is {SERVICE_WORDS[command.service_type]}",
        )
    registration = in_force_on(holder.as_of_start, start)
    if registration is None:
        return _finding(code, False, f"{number} was not in force on {start}, the start date")
    return _finding(
        code,
        True,
        f"{number} was in force on {start} ({KIND_WORDS[registration.kind]},"
        f" {registration.valid_from} through {registration.valid_until})",
    )


def filed_in_time(start_date: date, filed_on: date) -> Finding:
    last_day = project_filing_deadline(start_date)
    days = (filed_on - start_date).days
    when = f"filed on {filed_on}, {abs(days)} days {'after' if days >= 0 else 'before'} the start"
    rule = f"at the latest {PROJECT_FILING_DAYS} days after the start ({last_day})"
    return _finding(FindingCode.FILED_IN_TIME, filed_on <= last_day, f"{when}; {rule}")


def eligible_theme(theme: str, start_date: date) -> Finding:
    code = FindingCode.ELIGIBLE_THEME
    if start_date < THEMES_REQUIRED_FROM:
        return _finding(
            code, None, f"the eligible themes hold for services from {THEMES_REQUIRED_FROM}"
        )
    if theme in ELIGIBLE_THEMES:
        return _finding(code, True, f"{theme!r} is an eligible theme")
    return _finding(code, False, f"{theme!r} is not an eligible theme since {THEMES_REQUIRED_FROM}")


def vat_not_eligible(vat: Decimal) -> Finding:
    return _finding(
        FindingCode.VAT_NOT_ELIGIBLE,
        True,
        f"VAT is not eligible: EUR {_cents(vat)} left out of the eligible amount",
    )


def _catering_not_applicable() -> Finding:
    return _finding(FindingCode.CATERING_WITHIN_CAP, None, "catering counts for training only")


def catering_within_cap(command: RecordProject) -> Finding:
    assert command.participants is not None
    assert command.training_days is not None
    cap = catering_cap(command.participants, command.training_days)
    cost = _cents(command.catering_cost)
    rule = (
        f"at most EUR {CATERING_CAP_PER_PERSON_DAY} x {command.participants} participants"
        f" x {command.training_days} training days = EUR {cap}"
    )
    if cost <= cap:
        return _finding(FindingCode.CATERING_WITHIN_CAP, True, f"catering EUR {cost}, {rule}")
    return _finding(
        FindingCode.CATERING_WITHIN_CAP,
        False,
        f"catering EUR {cost} is above the cap, {rule}: EUR {cost - cap} is not eligible",
    )


def eligible_amount(command: RecordProject, findings: Sequence[Finding]) -> Decimal:
    if any(f.code in WHOLE_SERVICE and f.outcome is FindingOutcome.NOT_MET for f in findings):
        return ZERO
    amount = _cents(command.price_excluding_vat)
    if command.service_type is ServiceType.TRAINING:
        assert command.participants is not None
        assert command.training_days is not None
        cap = catering_cap(command.participants, command.training_days)
        amount += min(_cents(command.catering_cost), cap)
    return amount
