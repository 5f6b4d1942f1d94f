"""A realistic history of the registration process, driven through the service layer.

``build_plan(seed, size)`` writes the story of ``size`` registration units over six years
(2020-01-06 to 2026-01-05): every path of the lifecycle, each unit's steps on strictly later
days, all of them on one timeline with a few audit bureaus, ratings, and the deadline job every
30 days. Steps of one day run in a random (seeded) order; the deadline job runs first, at night.
``Driver(service, clock).run(plan)`` sets the clock to each step's instant and runs it through
``RegistrationService`` (and ``run_deadlines``), and records what the test needs to check.

Each unit's plan also says the status it must end in (after the last deadline run on the last
day), so the history checks the rules as well as feeding the rebuild.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from schwifty import IBAN
from sqlalchemy import text

from app.domain import errors
from app.domain.bureaus import AppointAuditBureau, BureauCommand, EndBureauAppointment
from app.domain.decider import (
    ChooseAuditBureau,
    Command,
    PlanAudit,
    ReactToFailedAudit,
    RecordDecision,
    RecordSwornDeclaration,
    StopRegistration,
    SubmitApplication,
    SubmitAuditReport,
)
from app.domain.errors import DomainError
from app.domain.events import (
    AuditResult,
    CertificateHeld,
    IndicatorScore,
    Score,
    Track,
    Verdict,
)
from app.domain.identifiers import (
    BankAccount,
    EnterpriseNumber,
    RegistrationNumber,
    RegistrationUnit,
    ServiceType,
)
from app.domain.norm import (
    CURRENT_NORM,
    AuditType,
    Certificate,
    CertificateClaim,
    Exemptions,
    ProfessionalBody,
    Requirement,
    audited_requirements,
)
from app.domain.policies import (
    ELIGIBLE_THEMES,
    reaction_deadline,
    registration_valid_until,
    starter_extended_valid_until,
    starter_follow_up_deadline,
)
from app.domain.projects import ApproveProject, ProjectCommand, RecordProject
from app.domain.ratings import RecordRating
from app.domain.registration import Status
from app.events import Actor, EventMetadata
from app.services.clock import FixedClock
from app.services.deadlines import run_deadlines
from app.services.registrations import RegistrationService

T = TypeVar("T")

BRUSSELS = ZoneInfo("Europe/Brussels")
START = date(2020, 1, 6)
END = date(2026, 1, 5)
DEADLINE_EVERY_DAYS = 30
DEADLINE_DAYS: tuple[date, ...] = tuple(
    sorted(
        {START + timedelta(days=n) for n in range(DEADLINE_EVERY_DAYS, (END - START).days + 1, 30)}
        | {END}
    )
)
AGENCY = Actor(id="vlaio-backoffice", role="agency")
PLACEHOLDER_SERIAL = 999_999  # a project's number until its unit's is known (ProjectAction)


def first_run_after(day: date) -> date | None:
    """The first deadline run that sees ``day`` as passed (runs on a later day)."""
    return next((run for run in DEADLINE_DAYS if run > day), None)


def enterprise_number(n: int) -> EnterpriseNumber:
    """The n-th made-up, valid Belgian enterprise number (0400.000.086, ...)."""
    return EnterpriseNumber.with_check_digits(4_000_000 + n)


# --- audit bureaus -----------------------------------------------------------------------


@dataclass(frozen=True)
class BureauPlan:
    bureau_id: str
    name: str
    enterprise_number: EnterpriseNumber
    appointed_from: date
    appointed_until: date | None = None  # the last day, as it will stand once known
    announced_on: date = START  # the day the agency records the appointment
    ended_on: date | None = None  # the day the agency ends the appointment early

    def covers(self, first: date, last: date) -> bool:
        """Appointed, as the service knows it on ``first``, from ``first`` through ``last``."""
        return (
            self.announced_on <= first
            and self.appointed_from <= first
            and (self.appointed_until is None or last <= self.appointed_until)
        )


LAST_DAY_2019_APPOINTMENTS = date(2023, 12, 31)
BUREAUS: tuple[BureauPlan, ...] = (
    BureauPlan(
        "vincotte", "AIB-Vinçotte International", enterprise_number(900_001), date(2019, 1, 1)
    ),
    BureauPlan("bqa", "Belgium Quality Association", enterprise_number(900_002), date(2019, 1, 1)),
    BureauPlan(
        "bureau-veritas",
        "Bureau Veritas Certification Belgium",
        enterprise_number(900_003),
        date(2019, 1, 1),
    ),
    BureauPlan("dnv", "DNV GL Business Assurance", enterprise_number(900_004), date(2019, 1, 1)),
    BureauPlan("kiwa", "Kiwa Belgium", enterprise_number(900_005), date(2019, 1, 1)),
    BureauPlan(
        "brand-compliance", "Brand Compliance", enterprise_number(900_006), date(2019, 1, 1)
    ),
    # appointed for a fixed period from the start
    BureauPlan(
        "bcc",
        "Belgisch Centrum voor Certificatie",
        enterprise_number(900_007),
        date(2019, 1, 1),
        appointed_until=LAST_DAY_2019_APPOINTMENTS,
    ),
    # appointed open-ended, the appointment ended by the agency in October 2023
    BureauPlan(
        "qfor",
        "AB Management Information Qfor",
        enterprise_number(900_008),
        date(2019, 1, 1),
        appointed_until=LAST_DAY_2019_APPOINTMENTS,
        ended_on=date(2023, 10, 2),
    ),
    # the 2024 appointment, announced in November 2023
    BureauPlan(
        "certup",
        "CertUp",
        enterprise_number(900_009),
        date(2024, 1, 1),
        announced_on=date(2023, 11, 15),
    ),
    BureauPlan(
        "lrqa",
        "LRQA",
        enterprise_number(900_010),
        date(2024, 1, 1),
        announced_on=date(2023, 11, 15),
    ),
)
ENDED_BUREAU = "qfor"


# --- steps -------------------------------------------------------------------------------


class Role(StrEnum):
    PROVIDER = "provider"
    BUREAU = "bureau"
    AGENCY = "agency"


@dataclass(frozen=True)
class UnitAction:
    unit_key: str
    command: Command
    actor: Actor
    refused_with: type[DomainError] | None = None  # the step expects this refusal


@dataclass(frozen=True)
class BureauAction:
    command: BureauCommand


@dataclass(frozen=True)
class RatingAction:
    command: RecordRating
    refused_with: type[DomainError] | None = None


@dataclass(frozen=True)
class ProjectAction:
    """A command on a subsidy project filed with ``unit_key``'s unit; a ``RecordProject`` names
    the unit's number, which is known once it is registered: the run fills it in."""

    project_id: str
    command: ProjectCommand
    unit_key: str


@dataclass(frozen=True)
class DeadlineJob:
    twice: bool = False  # run it again at once: the second run must write nothing


Action = UnitAction | BureauAction | ProjectAction | RatingAction | DeadlineJob


@dataclass(frozen=True)
class Step:
    day: date
    tie: float  # orders the steps of one day
    seq: int  # the order in which the plan made it: a last tie-break, and a label
    actions: tuple[Action, ...]

    @property
    def sort_key(self) -> tuple[date, float, int]:
        return (self.day, self.tie, self.seq)


# --- one unit's story ----------------------------------------------------------------------


class Kind(StrEnum):
    BASIC = "basic"
    CERTIFICATE = "certificate"
    ACCOUNTANT_TRAINING = "accountant-training"
    ACCOUNTANT_ADVICE = "accountant-advice"
    CERTIFIED_ACCOUNTANT_ADVICE = "certified-accountant-advice"
    STARTER_FOLLOWED_UP = "starter-followed-up"
    STARTER_FOLLOW_UP_MISSED = "starter-follow-up-missed"
    STARTER_FOLLOW_UP_FAILED = "starter-follow-up-failed"
    CONDITIONAL_FOLLOWED_UP = "conditional-followed-up"
    CONDITIONAL_FOLLOW_UP_FAILED = "conditional-follow-up-failed"
    CONDITIONAL_FOLLOW_UP_MISSED = "conditional-follow-up-missed"
    FAILED_REACTED = "failed-reacted"
    FAILED_NO_REACTION = "failed-no-reaction"
    FAILED_NO_REACTION_REAPPLIED = "failed-no-reaction-reapplied"
    REFUSED_BY_DECISION = "refused-by-decision"
    STOPPED_BY_AGENCY = "stopped-by-agency"
    EXPIRED = "expired"
    RENEWED = "renewed"
    REREGISTERED = "reregistered"
    BOTH_SERVICES = "both-services"  # two units: one enterprise, training and advice
    UNIVERSITY = "university"  # two units: two departments of one university
    STARTER_PENDING = "starter-pending"  # registered as a starter, follow-up not yet due
    CONDITIONAL_PENDING = "conditional-pending"  # registered conditionally, follow-up not yet due
    OPEN_APPLIED = "open-applied"
    OPEN_IN_AUDIT = "open-in-audit"  # a bureau chosen, the visit not yet planned
    OPEN_AUDIT_PLANNED = "open-audit-planned"
    OPEN_AUDIT_REACTED = "open-audit-reacted"  # reacted to a failed audit, awaiting the report
    OPEN_AUDIT_FAILED = "open-audit-failed"
    OPEN_AWAITING_DECISION = "open-awaiting-decision"


# How many of each for a history of 300 units (pairs count once here, twice in units).
MIX: dict[Kind, int] = {
    Kind.BASIC: 85,
    Kind.CERTIFICATE: 18,
    Kind.ACCOUNTANT_TRAINING: 10,
    Kind.ACCOUNTANT_ADVICE: 10,
    Kind.CERTIFIED_ACCOUNTANT_ADVICE: 4,
    Kind.STARTER_FOLLOWED_UP: 14,
    Kind.STARTER_FOLLOW_UP_MISSED: 10,
    Kind.STARTER_FOLLOW_UP_FAILED: 4,
    Kind.CONDITIONAL_FOLLOWED_UP: 14,
    Kind.CONDITIONAL_FOLLOW_UP_FAILED: 10,
    Kind.CONDITIONAL_FOLLOW_UP_MISSED: 4,
    Kind.FAILED_REACTED: 14,
    Kind.FAILED_NO_REACTION: 10,
    Kind.FAILED_NO_REACTION_REAPPLIED: 5,
    Kind.REFUSED_BY_DECISION: 10,
    Kind.STOPPED_BY_AGENCY: 10,
    Kind.EXPIRED: 10,
    Kind.RENEWED: 14,
    Kind.REREGISTERED: 10,
    Kind.BOTH_SERVICES: 6,
    Kind.UNIVERSITY: 3,
    Kind.STARTER_PENDING: 3,
    Kind.CONDITIONAL_PENDING: 3,
    Kind.OPEN_APPLIED: 4,
    Kind.OPEN_IN_AUDIT: 2,
    Kind.OPEN_AUDIT_PLANNED: 2,
    Kind.OPEN_AUDIT_REACTED: 2,
    Kind.OPEN_AUDIT_FAILED: 4,
    Kind.OPEN_AWAITING_DECISION: 4,
}
MIX_UNITS = sum(MIX.values()) + MIX[Kind.BOTH_SERVICES] + MIX[Kind.UNIVERSITY]

# Days after START within which each story may begin; a story that does not fit before END
# (or misses a constraint of its path) is drawn again with another start.
EARLY, ANY = (1, 400), (1, 1700)
START_WINDOW: dict[Kind, tuple[int, int]] = {
    Kind.STARTER_FOLLOWED_UP: (1, 1300),
    Kind.STARTER_FOLLOW_UP_MISSED: (1, 1300),
    Kind.STARTER_FOLLOW_UP_FAILED: (1, 1300),
    Kind.FAILED_NO_REACTION_REAPPLIED: (1, 1500),
    Kind.EXPIRED: (1, 300),
    Kind.RENEWED: (1, 280),
    Kind.REREGISTERED: (1, 60),
    Kind.STARTER_PENDING: (1500, 2050),
    Kind.CONDITIONAL_PENDING: (1900, 2050),
    Kind.OPEN_APPLIED: (2150, 2190),
    Kind.OPEN_IN_AUDIT: (2100, 2170),
    Kind.OPEN_AUDIT_PLANNED: (2080, 2150),
    Kind.OPEN_AUDIT_REACTED: (1950, 2100),
    Kind.OPEN_AUDIT_FAILED: (2030, 2150),
    Kind.OPEN_AWAITING_DECISION: (2080, 2160),
}

THEMES = tuple(sorted(ELIGIBLE_THEMES))
NAMES = (
    "Peeters",
    "Janssens",
    "Maes",
    "Jacobs",
    "Mertens",
    "Willems",
    "Claes",
    "Goossens",
    "Wouters",
    "De Smet",
    "Dubois",
    "Vermeulen",
    "Van den Broeck",
    "Lemaître",
    "Verbruggen",
)
TRADES = ("Opleidingen", "Advies", "Consult", "Academie", "Coaching", "Partners", "Groep")
FORMS = ("BV", "NV", "CommV", "VZW", "")
BANKS = ("539", "001", "068", "734", "363")


DRAWS = 300


class DoesNotFit(Exception):
    """The story drawn does not fit the timeline (or its path's constraints): draw again."""


@dataclass
class UnitPlan:
    key: str
    unit: RegistrationUnit
    kind: Kind
    name: str
    bank_account: BankAccount
    themes: tuple[str, ...]
    certificates: tuple[CertificateHeld, ...] = ()
    professional_body: ProfessionalBody | None = None
    expected: Status = Status.NONE  # at the end, after the last deadline run

    @property
    def exemptions(self) -> Exemptions:
        return Exemptions(
            certificates=tuple(
                CertificateClaim(c.certificate, c.valid_until) for c in self.certificates
            ),
            professional_body=self.professional_body,
        )


@dataclass
class Audit:
    audit_id: str
    bureau_id: str
    audit_type: AuditType
    planned_on: date | None = None
    visit: date | None = None
    reports: int = 0


@dataclass
class Report:
    day: date
    result: AuditResult
    not_met: frozenset[Requirement]
    follow_up_deadline: date | None


@dataclass
class Registration:
    status: Status  # while in force
    valid_until: date
    follow_up_deadline: date | None


class Story:
    """Writes the steps of one unit and tracks what they lead to; ``day`` is its last step's day."""

    def __init__(self, rng: random.Random, plan: UnitPlan, start: date, tag: str) -> None:
        self.rng = rng
        self.plan = plan
        self.day = start
        self.tag = tag
        self.entries: list[tuple[date, tuple[Action, ...]]] = []
        self.registration: Registration | None = None
        self.ended: Status | None = None
        self.pending: Status = Status.NONE  # the status when not registered
        self.applications = 0
        self.audits = 0
        self.grants: list[date] = []  # the decision dates of its granted applications
        self.starter = False  # the current application is on the starter track
        self.declaration: str | None = None  # an application whose declaration comes late

    # -- scheduling

    def gap(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def at(self, day: date, *actions: Action) -> None:
        if day > END:
            raise DoesNotFit(f"{self.plan.kind}: step on {day}")
        self.entries.append((day, actions))
        self.day = max(self.day, day)

    def next(self, low: int, high: int) -> date:
        return self.day + timedelta(days=self.gap(low, high))

    def unit(
        self,
        command: Command,
        role: Role,
        actor_id: str | None = None,
        *,
        refused_with: type[DomainError] | None = None,
    ) -> UnitAction:
        return UnitAction(self.plan.key, command, self._actor(role, actor_id), refused_with)

    def _actor(self, role: Role, actor_id: str | None) -> Actor:
        if role is Role.AGENCY:
            return AGENCY
        if role is Role.BUREAU:
            return Actor(id=f"bureau:{actor_id}", role="bureau")
        return Actor(id=f"provider:{self.plan.unit.enterprise_number}", role="provider")

    # -- the process

    def submit(
        self,
        day: date,
        track: Track = Track.BASIC,
        *,
        late_declaration: bool | None = None,
    ) -> str:
        """Apply on ``day``; the sworn declaration follows now or, if late, during the audit."""
        self.applications += 1
        application_id = f"{self.tag}-a{self.applications}"
        starter = track is Track.STARTER
        command = SubmitApplication(
            application_id=application_id,
            unit=self.plan.unit,
            provider_name=self.plan.name,
            bank_account=self.plan.bank_account,
            activities=f"{self.plan.unit.service_type.value} voor kmo's: {self.plan.name}",
            themes=self.plan.themes,
            track=track,
            certificates=self.plan.certificates,
            professional_body=self.plan.professional_body,
            activity_started_on=day - timedelta(days=self.gap(60, 800)) if starter else None,
            dossiers=self.gap(0, 19) if starter else None,
        )
        self.at(day, self.unit(command, Role.PROVIDER))
        self.pending = Status.APPLIED
        late = self.rng.random() < 0.3 if late_declaration is None else late_declaration
        self.declaration = application_id if late else None
        if not late:
            self.declare(application_id, self.next(2, 12))
        return application_id

    def declare(self, application_id: str, day: date) -> None:
        received_on = max(self.day, day - timedelta(days=self.gap(0, 2)))
        self.at(day, self.unit(RecordSwornDeclaration(application_id, received_on), Role.AGENCY))

    def choose(self, audit_type: AuditType, *, day: date | None = None) -> Audit:
        day = day or self.next(3, 30)
        self.audits += 1
        audit_id = f"{self.tag}-audit{self.audits}"
        # the bureau must stay appointed through every visit of this audit (re-visits included)
        last_visit = min(day + timedelta(days=400), END)
        bureaus = [b for b in BUREAUS if b.covers(day, last_visit)]
        if not bureaus:
            raise DoesNotFit(f"no bureau appointed from {day} through {last_visit}")
        bureau = self.rng.choice(bureaus)
        actions: list[Action] = []
        ended = next(b for b in BUREAUS if b.bureau_id == ENDED_BUREAU)
        if ended.appointed_until and day > ended.appointed_until and self.rng.random() < 0.05:
            # a provider still has the old list: the service refuses the retired bureau
            retired = ChooseAuditBureau(audit_id, ENDED_BUREAU)
            actions.append(
                self.unit(retired, Role.PROVIDER, refused_with=errors.BureauNotAppointed)
            )
        actions.append(self.unit(ChooseAuditBureau(audit_id, bureau.bureau_id), Role.PROVIDER))
        self.at(day, *actions)
        self.pending = Status.IN_AUDIT
        return Audit(audit_id, bureau.bureau_id, audit_type)

    def plan_visit(self, audit: Audit) -> None:
        day = self.next(1, 10)
        audit.planned_on = day
        audit.visit = day + timedelta(days=self.gap(7, 40))
        hours = Decimal(self.rng.choice(("6", "7.5", "8", "12", "12.25", "16", "20.5")))
        command = PlanAudit(audit.audit_id, audit.bureau_id, audit.visit, hours)
        self.at(day, self.unit(command, Role.BUREAU, audit.bureau_id))

    def report(
        self,
        audit: Audit,
        result: AuditResult,
        *,
        lacking: frozenset[Requirement] = frozenset(),
    ) -> Report:
        assert audit.visit is not None
        assert audit.planned_on is not None
        day = audit.visit + timedelta(days=self.gap(2, 21))
        if self.declaration is not None:  # the sworn declaration arrives during the audit
            self.declare(self.declaration, audit.planned_on + timedelta(days=self.gap(1, 7)))
            self.declaration = None
        audited = audited_requirements(
            audit.audit_type,
            self.plan.unit.service_type,
            self.plan.exemptions,
            audit.visit,
            lacking=lacking,
        )
        not_met: frozenset[Requirement] = frozenset()
        if result is not AuditResult.PASSED:
            assert audited, "an audit that finds something lacking audits something"
            count = min(len(audited), self.rng.choice((1, 1, 2)))
            not_met = frozenset(self.rng.sample(sorted(audited), count))
        follow_up_deadline = (
            audit.visit + relativedelta(months=self.gap(6, 12))
            if result is AuditResult.CONDITIONALLY_PASSED
            else None
        )
        audit.reports += 1
        command = SubmitAuditReport(
            audit_id=audit.audit_id,
            report_id=f"{audit.audit_id}-report{audit.reports}",
            bureau_id=audit.bureau_id,
            audit_type=audit.audit_type,
            visit_date=audit.visit,
            scores=self._scores(audited, not_met),
            verdicts=tuple(Verdict(requirement=r, met=r not in not_met) for r in sorted(audited)),
            result=result,
            follow_up_deadline=follow_up_deadline,
            norm_version=CURRENT_NORM.version,
        )
        self.at(day, self.unit(command, Role.BUREAU, audit.bureau_id))
        self.pending = (
            Status.AUDIT_FAILED if result is AuditResult.FAILED else Status.AWAITING_DECISION
        )
        return Report(day, result, not_met, follow_up_deadline)

    def _scores(
        self, audited: frozenset[Requirement], not_met: frozenset[Requirement]
    ) -> tuple[IndicatorScore, ...]:
        low, high = (Score.B, Score.G), (Score.T, Score.V)
        return tuple(
            IndicatorScore(
                indicator=indicator.code,
                conformity=self.rng.choice(low if indicator.requirement in not_met else high),
                demonstrability=self.rng.choice(low if indicator.requirement in not_met else high),
            )
            for indicator in CURRENT_NORM.indicators
            if indicator.requirement in audited
        )

    def audit(self, audit_type: AuditType, result: AuditResult) -> tuple[Audit, Report]:
        audit = self.choose(audit_type)
        self.plan_visit(audit)
        return audit, self.report(audit, result)

    def react(self, audit: Audit, report: Report) -> None:
        day = report.day + timedelta(days=self.gap(10, 150))
        if day > reaction_deadline(report.day):
            raise DoesNotFit("reaction too late")
        reaction = "Werkwijze klanttevredenheid herschreven; bewijsstukken bijgevoegd."
        self.at(day, self.unit(ReactToFailedAudit(audit.audit_id, reaction), Role.PROVIDER))
        self.pending = Status.IN_AUDIT

    def decide(
        self, application_id: str, report: Report, *, granted: bool = True, day: date | None = None
    ) -> date:
        day = day or self.next(5, 30)
        decision_date = max(report.day, day - timedelta(days=self.gap(0, 3)))
        reason = None if granted else "Het auditrapport toont onvoldoende werking van de norm."
        command = RecordDecision(application_id, granted, decision_date, reason)
        self.at(day, self.unit(command, Role.AGENCY))
        self.record_decision(report, decision_date, granted=granted)
        return decision_date

    def record_decision(self, report: Report, decision_date: date, *, granted: bool) -> None:
        if not granted:
            self.pending, self.registration = Status.REFUSED, None
            return
        self.grants.append(decision_date)
        self.ended = None
        if report.result is AuditResult.CONDITIONALLY_PASSED:
            self.registration = Registration(
                Status.REGISTERED_CONDITIONALLY,
                registration_valid_until(decision_date, starter=False),
                report.follow_up_deadline,
            )
        elif self.starter:
            self.registration = Registration(
                Status.REGISTERED_STARTER,
                registration_valid_until(decision_date, starter=True),
                starter_follow_up_deadline(decision_date),
            )
        else:
            self.registration = Registration(
                Status.REGISTERED, registration_valid_until(decision_date, starter=False), None
            )
        self.pending = Status.NONE

    def follow_up(self, result: AuditResult, lacking: frozenset[Requirement]) -> None:
        registration = self.registration
        assert registration is not None
        assert registration.follow_up_deadline is not None
        starter = registration.status is Status.REGISTERED_STARTER
        audit_type = AuditType.STARTER_FOLLOW_UP if starter else AuditType.CONDITIONAL_FOLLOW_UP
        audit = self.choose(
            audit_type,
            day=self.next(200, 450) if starter else self.next(10, 60),
        )
        self.pending = Status.NONE
        self.plan_visit(audit)
        report = self.report(audit, result, lacking=lacking)
        self.pending = Status.NONE
        deadline = registration.follow_up_deadline
        assert audit.visit is not None
        if report.day > deadline or audit.visit > deadline:
            raise DoesNotFit("follow-up after its deadline")
        if result is AuditResult.FAILED:
            self.ended = Status.STOPPED
            return
        valid_until = (
            starter_extended_valid_until(registration.valid_until)
            if starter
            else registration.valid_until
        )
        self.registration = Registration(Status.REGISTERED, valid_until, None)

    def lapses_on(self) -> date | None:
        """The deadline run that ends the registration, if one does by END."""
        registration = self.registration
        if registration is None or self.ended is not None:
            return None
        last_day = min(registration.valid_until, registration.follow_up_deadline or date.max)
        return first_run_after(last_day)

    def stop(self) -> None:
        assert self.registration is not None
        day = self.next(60, 900)
        last_day = min(self.registration.valid_until, self.registration.follow_up_deadline or END)
        if day > last_day:
            raise DoesNotFit("stop after the end")
        reason = "Misbruik vastgesteld: facturen voor niet-geleverde opleidingen."
        self.at(day, self.unit(StopRegistration(reason), Role.AGENCY))
        self.ended = Status.STOPPED

    def expected(self) -> Status:
        """The unit's status after the last deadline run on END."""
        registration = self.registration
        follow_up_missed = (
            registration is not None
            and registration.follow_up_deadline is not None
            and registration.follow_up_deadline < END
        )
        expired = registration is not None and registration.valid_until < END
        if registration is not None and self.ended is None and not follow_up_missed and not expired:
            return registration.status
        if self.pending is not Status.NONE:
            return self.pending  # an open application, or the last one refused
        assert registration is not None
        if self.ended is not None:
            return self.ended
        return Status.STOPPED if follow_up_missed else Status.EXPIRED


# --- the paths ---------------------------------------------------------------------------


def _registered_path(story: Story, track: Track = Track.BASIC) -> date:
    """Apply, pass the audit, be granted; returns the decision date."""
    application_id = story.submit(story.day, track)
    story.starter = track is Track.STARTER
    audit_type = {
        Track.BASIC: AuditType.BASIC,
        Track.STARTER: AuditType.STARTER,
        Track.RENEWAL: AuditType.RENEWAL,
    }[track]
    _, report = story.audit(audit_type, AuditResult.PASSED)
    return story.decide(application_id, report)


def _no_follow_up(story: Story, *, missed: bool) -> None:
    """No follow-up audit: its deadline must pass by the end if ``missed``, else not."""
    registration = story.registration
    assert registration is not None
    assert registration.follow_up_deadline is not None
    if (registration.follow_up_deadline < END) is not missed:
        raise DoesNotFit("the follow-up deadline falls on the wrong side of the end")


def _conditional(story: Story, then: AuditResult | None, *, missed: bool = True) -> None:
    application_id = story.submit(story.day)
    _, report = story.audit(AuditType.BASIC, AuditResult.CONDITIONALLY_PASSED)
    story.decide(application_id, report)
    if then is None:
        _no_follow_up(story, missed=missed)
        return
    story.follow_up(then, lacking=report.not_met)


def _starter(story: Story, then: AuditResult | None, *, missed: bool = True) -> None:
    _registered_path(story, Track.STARTER)
    if then is None:
        _no_follow_up(story, missed=missed)
        return
    story.follow_up(then, lacking=frozenset())


def _failed(story: Story, *, react: bool, refuse: bool = False, reapply: bool = False) -> None:
    application_id = story.submit(story.day)
    audit, report = story.audit(AuditType.BASIC, AuditResult.FAILED)
    if react:
        story.react(audit, report)
        story.plan_visit(audit)
        report = story.report(audit, AuditResult.PASSED)
        story.decide(application_id, report)
        return
    if refuse:
        story.decide(application_id, report, granted=False)
        return
    refused_on = first_run_after(reaction_deadline(report.day))
    if refused_on is None:
        raise DoesNotFit("reaction deadline not passed by the end")
    story.pending = Status.REFUSED
    if reapply:
        story.day = refused_on
        story.day = story.next(20, 90)
        _registered_path(story)


def _renewed(story: Story) -> None:
    _registered_path(story)
    assert story.registration is not None
    valid_until = story.registration.valid_until
    day = valid_until - timedelta(days=story.gap(150, 240))
    # a registered unit cannot simply apply again: only for renewal
    refused = SubmitApplication(
        application_id=f"{story.tag}-not-a-renewal",
        unit=story.plan.unit,
        provider_name=story.plan.name,
        bank_account=story.plan.bank_account,
        activities="opnieuw",
        themes=story.plan.themes,
    )
    story.at(
        day - timedelta(days=1),
        story.unit(refused, Role.PROVIDER, refused_with=errors.UnitAlreadyRegistered),
    )
    story.day = day
    application_id = story.submit(day, Track.RENEWAL)
    _, report = story.audit(AuditType.RENEWAL, AuditResult.PASSED)
    decision = story.next(5, 30)
    if decision > valid_until:
        raise DoesNotFit("renewal decided after the end of the registration")
    story.decide(application_id, report, day=decision)


def _reregistered(story: Story) -> None:
    _registered_path(story)
    expired_on = story.lapses_on()
    if expired_on is None:
        raise DoesNotFit("registration does not expire by the end")
    story.ended = Status.EXPIRED
    story.day = expired_on
    story.day = story.next(3, 20)
    _registered_path(story)


def _open(story: Story, kind: Kind) -> None:
    """Stories still under way on the last day."""
    story.submit(story.day, late_declaration=False)
    if kind is Kind.OPEN_APPLIED:
        return
    audit = story.choose(AuditType.BASIC)
    if kind is Kind.OPEN_IN_AUDIT:
        return
    story.plan_visit(audit)
    if kind is Kind.OPEN_AUDIT_PLANNED:
        return
    if kind is Kind.OPEN_AWAITING_DECISION:
        story.report(audit, AuditResult.PASSED)
        return
    report = story.report(audit, AuditResult.FAILED)
    if kind is Kind.OPEN_AUDIT_REACTED:
        story.react(audit, report)
        return
    if first_run_after(reaction_deadline(report.day)) is not None:
        raise DoesNotFit("the reaction deadline passes before the end")


def _single(story: Story, kind: Kind) -> None:
    match kind:
        case (
            Kind.BASIC
            | Kind.CERTIFICATE
            | Kind.ACCOUNTANT_TRAINING
            | Kind.ACCOUNTANT_ADVICE
            | Kind.CERTIFIED_ACCOUNTANT_ADVICE
        ):
            _registered_path(story)
        case Kind.STARTER_FOLLOWED_UP:
            _starter(story, AuditResult.PASSED)
        case Kind.STARTER_FOLLOW_UP_MISSED:
            _starter(story, None)
        case Kind.STARTER_FOLLOW_UP_FAILED:
            _starter(story, AuditResult.FAILED)
        case Kind.CONDITIONAL_FOLLOWED_UP:
            _conditional(story, AuditResult.PASSED)
        case Kind.CONDITIONAL_FOLLOW_UP_FAILED:
            _conditional(story, AuditResult.FAILED)
        case Kind.CONDITIONAL_FOLLOW_UP_MISSED:
            _conditional(story, None)
        case Kind.FAILED_REACTED:
            _failed(story, react=True)
        case Kind.FAILED_NO_REACTION:
            _failed(story, react=False)
        case Kind.FAILED_NO_REACTION_REAPPLIED:
            _failed(story, react=False, reapply=True)
        case Kind.REFUSED_BY_DECISION:
            _failed(story, react=False, refuse=True)
        case Kind.STOPPED_BY_AGENCY:
            _registered_path(story)
            story.stop()
        case Kind.EXPIRED:
            _registered_path(story)
            if story.lapses_on() is None:
                raise DoesNotFit("registration does not expire by the end")
        case Kind.RENEWED:
            _renewed(story)
        case Kind.REREGISTERED:
            _reregistered(story)
        case Kind.STARTER_PENDING:
            _starter(story, None, missed=False)
        case Kind.CONDITIONAL_PENDING:
            _conditional(story, None, missed=False)
        case (
            Kind.OPEN_APPLIED
            | Kind.OPEN_IN_AUDIT
            | Kind.OPEN_AUDIT_PLANNED
            | Kind.OPEN_AUDIT_REACTED
            | Kind.OPEN_AUDIT_FAILED
            | Kind.OPEN_AWAITING_DECISION
        ):
            _open(story, kind)
        case _:
            raise AssertionError(kind)


# --- the plan ----------------------------------------------------------------------------


@dataclass
class Plan:
    seed: int
    steps: list[Step]
    units: dict[str, UnitPlan]
    both_services: list[tuple[str, str]]  # (training, advice) of one enterprise, same day
    universities: list[tuple[str, str]]  # two departments of one university
    ratings: int  # ratings that must be recorded (the duplicate not counted)


class Planner:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.entries: list[tuple[date, float, tuple[Action, ...]]] = []
        self.units: dict[str, UnitPlan] = {}
        self.enterprises = 0
        self.ratings = 0
        self.both_services: list[tuple[str, str]] = []
        self.universities: list[tuple[str, str]] = []

    def add(self, day: date, *actions: Action, tie: float | None = None) -> None:
        self.entries.append((day, self.rng.random() if tie is None else tie, actions))

    def new_plan(
        self,
        kind: Kind,
        service: ServiceType,
        enterprise: EnterpriseNumber | None = None,
        department: str | None = None,
    ) -> UnitPlan:
        if enterprise is None:
            self.enterprises += 1
            enterprise = enterprise_number(self.enterprises)
        unit = RegistrationUnit(enterprise, service, department)
        rng = self.rng
        name = " ".join(
            part for part in (rng.choice(TRADES), rng.choice(NAMES), rng.choice(FORMS)) if part
        )
        if department:
            name = f"Universiteit {rng.choice(NAMES)} - {department}"
        iban = IBAN.generate(
            "BE", bank_code=rng.choice(BANKS), account_code=f"{self.enterprises:07d}"
        )
        return UnitPlan(
            key=unit.key,
            unit=unit,
            kind=kind,
            name=name,
            bank_account=BankAccount.parse(str(iban)),
            themes=tuple(rng.sample(THEMES, rng.randint(1, 3))),
        )

    def exemptions_of(self, plan: UnitPlan, start: date) -> None:
        rng = self.rng
        certificate = CertificateHeld(
            certificate=rng.choice(list(Certificate)),
            valid_until=start + timedelta(days=rng.randint(700, 1400)),
        )
        body = {
            ServiceType.TRAINING: (ProfessionalBody.ITAA, ProfessionalBody.IBR),
            ServiceType.ADVICE: (ProfessionalBody.ITAA, ProfessionalBody.IBR, ProfessionalBody.IAB),
        }[plan.unit.service_type]
        if plan.kind is Kind.CERTIFICATE:
            if rng.random() < 0.15:  # expired by the audit date: no exemption, a full audit
                certificate = CertificateHeld(
                    certificate=certificate.certificate, valid_until=start + timedelta(days=3)
                )
            plan.certificates = (certificate,)
        elif plan.kind in (Kind.ACCOUNTANT_TRAINING, Kind.ACCOUNTANT_ADVICE):
            plan.professional_body = rng.choice(body)
        elif plan.kind is Kind.CERTIFIED_ACCOUNTANT_ADVICE:
            plan.certificates = (certificate,)
            plan.professional_body = rng.choice(body)

    def service_of(self, kind: Kind) -> ServiceType:
        if kind is Kind.ACCOUNTANT_TRAINING:
            return ServiceType.TRAINING
        if kind in (Kind.ACCOUNTANT_ADVICE, Kind.CERTIFIED_ACCOUNTANT_ADVICE):
            return ServiceType.ADVICE
        return self.rng.choice((ServiceType.TRAINING, ServiceType.ADVICE))

    def draw(self, kind: Kind, write: Callable[[int], list[Story]]) -> list[Story]:
        low, high = START_WINDOW.get(kind, ANY)
        for _ in range(DRAWS):
            try:
                return write(self.rng.randint(low, high))
            except DoesNotFit:
                continue
        raise AssertionError(f"no {kind} story fits the timeline in {DRAWS} draws")

    def single(self, kind: Kind, number: int) -> None:
        service = self.service_of(kind)
        enterprises = self.enterprises

        def write(offset: int) -> list[Story]:
            self.enterprises = enterprises
            start = START + timedelta(days=offset)
            plan = self.new_plan(kind, service)
            self.exemptions_of(plan, start)
            story = Story(self.rng, plan, start, f"u{number:03d}")
            _single(story, kind)
            return [story]

        self.keep(self.draw(kind, write))

    def both_services_pair(self, number: int) -> None:
        enterprises = self.enterprises

        def write(offset: int) -> list[Story]:
            self.enterprises = enterprises
            start = START + timedelta(days=offset)
            training = self.new_plan(Kind.BOTH_SERVICES, ServiceType.TRAINING)
            advice = self.new_plan(
                Kind.BOTH_SERVICES, ServiceType.ADVICE, training.unit.enterprise_number
            )
            advice.name, advice.bank_account = training.name, training.bank_account
            stories = [
                Story(self.rng, training, start, f"u{number:03d}o"),
                Story(self.rng, advice, start + timedelta(days=1), f"u{number:03d}a"),
            ]
            applications, reports = [], []
            for story in stories:
                applications.append(story.submit(story.day))
                reports.append(story.audit(AuditType.BASIC, AuditResult.PASSED)[1])
            day = max(s.day for s in stories) + timedelta(days=self.rng.randint(5, 20))
            decision_date = day - timedelta(days=self.rng.randint(0, 2))
            if decision_date < max(r.day for r in reports):
                decision_date = day
            # one step: the agency records both of the minister's decisions of that day
            actions = tuple(
                story.unit(RecordDecision(app, True, decision_date), Role.AGENCY)
                for story, app in zip(stories, applications, strict=True)
            )
            stories[0].at(day, *actions)
            for story, report in zip(stories, reports, strict=True):
                story.record_decision(report, decision_date, granted=True)
                story.day = day
            return stories

        stories = self.draw(Kind.BOTH_SERVICES, write)
        self.keep(stories)
        self.both_services.append((stories[0].plan.key, stories[1].plan.key))

    def university(self, number: int) -> None:
        enterprises = self.enterprises

        def write(offset: int) -> list[Story]:
            self.enterprises = enterprises
            self.enterprises += 1
            enterprise = enterprise_number(self.enterprises)
            stories = []
            for n, department in enumerate(
                ("Faculteit Economie en Bedrijfskunde", "Faculteit Ingenieurswetenschappen")
            ):
                plan = self.new_plan(Kind.UNIVERSITY, ServiceType.TRAINING, enterprise, department)
                start = START + timedelta(days=offset + n * self.rng.randint(0, 200))
                story = Story(self.rng, plan, start, f"u{number:03d}d{n}")
                _registered_path(story)
                stories.append(story)
            return stories

        stories = self.draw(Kind.UNIVERSITY, write)
        self.keep(stories)
        self.universities.append((stories[0].plan.key, stories[1].plan.key))

    def keep(self, stories: Sequence[Story]) -> None:
        for story in stories:
            story.plan.expected = story.expected()
            assert story.plan.key not in self.units, story.plan.key
            self.units[story.plan.key] = story.plan
            days = [day for day, _ in story.entries]
            # one step a day per unit: steps of one day run in a random order
            assert days == sorted(set(days)), (story.plan.kind, days)
            for day, actions in story.entries:
                self.add(day, *actions)
            self.rate(story)

    def rate(self, story: Story) -> None:
        """Some clients rate the provider some time after its registration: only a provider
        registered on the rating's date or before is rated, so after its first grant."""
        if not story.grants or self.rng.random() < 0.6:
            return
        for _ in range(self.rng.randint(1, 3)):
            day = story.grants[0] + timedelta(days=self.rng.randint(30, 900))
            if day > END:
                continue
            self.ratings += 1
            rated_on = day - timedelta(days=self.rng.randint(0, 10))
            project = self.project(story, f"project-{self.ratings:05d}", rated_on)
            command = RecordRating(
                reference=f"rating-{self.ratings:05d}",
                project_id=project.project_id,
                client=project.client,
                score=self.rng.choices((1, 2, 3, 4, 5), weights=(1, 1, 3, 6, 5))[0],
                rated_on=rated_on,
            )
            self.add(day, RatingAction(command))

    def project(self, story: Story, project_id: str, rated_on: date) -> RecordProject:
        """The project a rating is of: the client's service of a few days that ended before the
        rating, filed two days after its start (one in five a fortnight late), approved."""
        unit = story.plan.unit
        late = self.rng.random() < 0.2
        start = rated_on - timedelta(days=20 if late else 6)
        training = unit.service_type is ServiceType.TRAINING
        record = RecordProject(
            project_id=project_id,
            client=enterprise_number(500_000 + self.ratings),
            registration_number=RegistrationNumber(unit.service_type, PLACEHOLDER_SERIAL),
            service_type=unit.service_type,
            theme=sorted(ELIGIBLE_THEMES)[self.ratings % len(ELIGIBLE_THEMES)],
            start_date=start,
            end_date=start + timedelta(days=1),
            price_excluding_vat=Decimal(self.rng.randrange(500, 5000, 25)),
            vat=Decimal("0.00"),
            participants=self.rng.randint(1, 9) if training else None,
            training_days=Decimal(2) if training else None,
            catering_cost=Decimal(self.rng.randrange(0, 600, 10)) if training else None,
        )
        filed = start + timedelta(days=16 if late else 2)
        self.add(filed, ProjectAction(project_id, record, unit.key))
        self.add(rated_on, ProjectAction(project_id, ApproveProject(), unit.key), tie=-0.25)
        return record

    def bureaus(self) -> None:
        for bureau in BUREAUS:
            appoint = AppointAuditBureau(
                bureau_id=bureau.bureau_id,
                name=bureau.name,
                enterprise_number=bureau.enterprise_number,
                appointed_from=bureau.appointed_from,
                appointed_until=None if bureau.ended_on else bureau.appointed_until,
                contact=f"audit@{bureau.bureau_id}.be",
            )
            self.add(bureau.announced_on, BureauAction(appoint), tie=-0.5)
            if bureau.ended_on is not None:
                assert bureau.appointed_until is not None
                end = EndBureauAppointment(bureau.bureau_id, bureau.appointed_until)
                self.add(bureau.ended_on, BureauAction(end))
        # an appointed audit bureau cannot apply to be registered itself
        bureau = BUREAUS[0]
        unit = RegistrationUnit(bureau.enterprise_number, ServiceType.ADVICE)
        command = SubmitApplication(
            application_id="bureau-applies",
            unit=unit,
            provider_name=bureau.name,
            bank_account=BankAccount.parse("BE68539007547034"),
            activities="advies",
            themes=("innovatie",),
        )
        actor = Actor(id=f"provider:{bureau.enterprise_number}", role="provider")
        self.add(
            date(2021, 3, 1), UnitAction(unit.key, command, actor, errors.ApplicantIsAuditBureau)
        )

    def deadline_job(self) -> None:
        for n, day in enumerate(DEADLINE_DAYS):
            self.add(day, DeadlineJob(twice=n % 12 == 5), tie=-1.0)

    def duplicate_rating(self) -> None:
        """A client's rating arrives twice (a retry): the second is refused."""
        first = next(
            (day, action)
            for day, _, actions in self.entries
            for action in actions
            if isinstance(action, RatingAction) and day + timedelta(days=45) <= END
        )
        day, action = first
        again = RatingAction(action.command, errors.RatingAlreadyRecorded)
        self.add(day + timedelta(days=45), again)

    def plan(self) -> Plan:
        steps = [
            Step(day, tie, seq, actions) for seq, (day, tie, actions) in enumerate(self.entries)
        ]
        steps.sort(key=lambda s: s.sort_key)
        return Plan(
            seed=self.seed,
            steps=steps,
            units=self.units,
            both_services=self.both_services,
            universities=self.universities,
            ratings=self.ratings,
        )


def build_plan(seed: int, size: int = MIX_UNITS) -> Plan:
    """The story of about ``size`` units; every kind at least once."""
    planner = Planner(seed)
    planner.bureaus()
    planner.deadline_job()
    number = 0
    for kind, count in MIX.items():
        for _ in range(max(1, round(count * size / MIX_UNITS))):
            number += 1
            if kind is Kind.BOTH_SERVICES:
                planner.both_services_pair(number)
            elif kind is Kind.UNIVERSITY:
                planner.university(number)
            else:
                planner.single(kind, number)
    planner.duplicate_rating()
    return planner.plan()


# --- running it --------------------------------------------------------------------------


@dataclass
class History:
    """What happened while the plan ran, as the service answered it."""

    statuses_seen: set[Status] = field(default_factory=set)
    first_numbers: dict[str, tuple[int, str]] = field(default_factory=dict)  # at first grant
    first_grant_order: list[str] = field(default_factory=list)
    granted_at: dict[str, list[datetime]] = field(default_factory=dict)  # decision instants
    deadline_events: Counter[str] = field(default_factory=Counter)
    deadline_runs: int = 0
    refusals: Counter[str] = field(default_factory=Counter)  # expected refusals, by code
    commands: int = 0
    ratings: int = 0


_NUMBER = text(
    "SELECT registration_serial, registration_number FROM registrations WHERE unit_key = :k"
)
_STATUSES = text("SELECT DISTINCT status FROM registrations")


class Driver:
    def __init__(self, service: RegistrationService, clock: FixedClock) -> None:
        self.service = service
        self.clock = clock
        self.history = History()

    async def run(self, plan: Plan) -> History:
        day, tick = None, 0
        for step in plan.steps:
            if step.day != day:
                day, tick = step.day, 0
            for action in step.actions:
                tick += 1
                self.clock.set(self._instant(step.day, tick, night=isinstance(action, DeadlineJob)))
                await self._run(action, step)
        return self.history

    @staticmethod
    def _instant(day: date, tick: int, *, night: bool) -> datetime:
        start = time(2, 0) if night else time(8, 0)
        return datetime.combine(day, start, BRUSSELS) + timedelta(seconds=7 * tick)

    async def _run(self, action: Action, step: Step) -> None:
        metadata = EventMetadata(correlation_id=f"step-{step.seq}")
        match action:
            case UnitAction():
                await self._unit(action, metadata)
            case BureauAction():
                await self.service.execute_bureau(
                    action.command, metadata.model_copy(update={"actor": AGENCY})
                )
            case ProjectAction():
                command = action.command
                if isinstance(command, RecordProject):
                    async with self.service.engine.connect() as conn:
                        row = (await conn.execute(_NUMBER, {"k": action.unit_key})).one()
                    number = RegistrationNumber.parse(row.registration_number)
                    command = replace(command, registration_number=number)
                agency = metadata.model_copy(update={"actor": AGENCY})
                await self.service.execute_project(action.project_id, command, agency)
            case RatingAction():
                await self._expect(
                    action.refused_with, self.service.record_rating(action.command, metadata)
                )
                if action.refused_with is None:
                    self.history.ratings += 1
            case DeadlineJob():
                await self._deadlines(action)

    async def _unit(self, action: UnitAction, metadata: EventMetadata) -> None:
        metadata = metadata.model_copy(update={"actor": action.actor})
        outcome = await self._expect(
            action.refused_with, self.service.execute(action.unit_key, action.command, metadata)
        )
        if outcome is None:
            return
        self.history.commands += 1
        self.history.statuses_seen.add(outcome.state.status)
        command = action.command
        if isinstance(command, RecordDecision) and command.granted:
            self.history.granted_at.setdefault(action.unit_key, []).append(self.clock.now())
            if action.unit_key not in self.history.first_numbers:
                async with self.service.engine.connect() as conn:
                    row = (await conn.execute(_NUMBER, {"k": action.unit_key})).one()
                self.history.first_numbers[action.unit_key] = (
                    row.registration_serial,
                    row.registration_number,
                )
                self.history.first_grant_order.append(action.unit_key)

    async def _expect(self, refused_with: type[DomainError] | None, call: Awaitable[T]) -> T | None:
        """Await ``call``; when a refusal is expected, it must come, and is counted."""
        if refused_with is None:
            return await call
        try:
            await call
        except refused_with as refusal:
            self.history.refusals[refusal.code] += 1
            return None
        raise AssertionError(f"the service did not refuse with {refused_with.code}")

    async def _deadlines(self, job: DeadlineJob) -> None:
        run = await run_deadlines(self.service, may_run_ahead=True)  # the test's clock
        self.history.deadline_runs += 1
        self.history.deadline_events.update(run.events)
        if job.twice:
            again = await run_deadlines(self.service, may_run_ahead=True)
            assert not again.events, f"the deadline job wrote twice: {again.events}"
        if run.events:
            async with self.service.engine.connect() as conn:
                statuses = (await conn.execute(_STATUSES)).scalars().all()
            self.history.statuses_seen.update(Status(s) for s in statuses)
