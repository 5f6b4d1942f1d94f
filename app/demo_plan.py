"""The demo data set's plan: the stories of its providers and bureaus, as dated steps that the
real commands carry out (`app.demo` loads them). See `app.demo` for the whole picture."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from schwifty import IBAN

from app.demo_data import BUREAUS, EXPECTED, PROVIDERS, DemoProvider, DemoUnit, Path
from app.domain.bureaus import AppointAuditBureau
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
from app.domain.events import (
    AuditResult,
    CertificateHeld,
    DisputeReason,
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
    CertificateClaim,
    Exemptions,
    Requirement,
    audited_requirements,
)
from app.domain.policies import BELGIUM, registration_valid_until, today
from app.domain.profiles import UpdateProfile
from app.domain.projects import (
    ApproveProject,
    ConfirmProject,
    DisputeProject,
    ProjectCommand,
    ReclaimProject,
    RecordProject,
    StopProject,
)
from app.domain.ratings import RecordRating
from app.domain.registration import Status
from app.events import Actor

YEARS_OF_HISTORY = 6
DEADLINE_JOB_EVERY = timedelta(days=7)
CORRELATION_ID = "kmop-demo"
AGENCY = Actor(id="vlaio-backoffice", role="agency")
IN_FORCE = frozenset(
    {Status.REGISTERED, Status.REGISTERED_CONDITIONALLY, Status.REGISTERED_STARTER}
)
BANKS = ("001", "068", "363", "539", "734", "737")  # bpost/BNP, Belfius, ING, Crelan, KBC, KBC

# The days between the steps of one application (the shape of every story).
DECLARATION_AFTER = 4
CHOICE_AFTER = 6
PLANNING_AFTER = 4
VISIT_AFTER_PLANNING = 21
REPORT_AFTER_VISIT = 9
DECISION_AFTER_REPORT = 21
REACTION_AFTER_REPORT = 30
RENEWAL_BEFORE_END = 200


PLACEHOLDER_SERIAL = (
    999_999  # a project's number until the loader knows its unit's (``ProjectStep``)
)


class DemoPartiallyLoaded(RuntimeError):
    """Some of the demo is there, not all: an earlier load was interrupted."""


def enterprise_number(n: int) -> EnterpriseNumber:
    """The n-th made-up, valid Belgian enterprise number (mod 97), spread over 0400-0799."""
    return EnterpriseNumber.with_check_digits(4_000_000 + (n * 1_234_577) % 4_000_000)


def working_day(day: date, after: date = date.min) -> date:
    """``day`` if a weekday; a Saturday becomes the Friday before (when that is still later
    than ``after``), a Sunday the Monday after: offices work on weekdays."""
    if day.weekday() == 5 and day - timedelta(days=1) > after:
        return day - timedelta(days=1)
    if day.weekday() >= 5:
        return day + timedelta(days=7 - day.weekday())
    return day


def bureau_enterprise(index: int) -> EnterpriseNumber:
    return enterprise_number(1 + index)


def provider_enterprise(index: int) -> EnterpriseNumber:
    return enterprise_number(101 + index)


def client_enterprise(index: int) -> EnterpriseNumber:
    return enterprise_number(1001 + index)


def unit_of(index: int, demo_unit: DemoUnit) -> RegistrationUnit:
    return RegistrationUnit(provider_enterprise(index), demo_unit.service_type)


def first_application_id(index: int, demo_unit: DemoUnit) -> str:
    return f"demo-{index + 1:02d}{demo_unit.service_type.number_letter.lower()}-1"


# --- the plan: what happens on which day ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitStep:
    unit_key: str
    command: Command
    actor: Actor


@dataclass(frozen=True, slots=True)
class ProfileStep:
    command: UpdateProfile
    actor: Actor


@dataclass(frozen=True, slots=True)
class RatingStep:
    command: RecordRating


@dataclass(frozen=True, slots=True)
class ProjectStep:
    """A command on a subsidy project; ``unit_key``: the unit whose number it names."""

    project_id: str
    command: ProjectCommand
    actor: Actor
    unit_key: str


@dataclass(frozen=True, slots=True)
class BureauStep:
    command: AppointAuditBureau


@dataclass(frozen=True, slots=True)
class DeadlineStep:
    pass


Action = UnitStep | ProfileStep | ProjectStep | RatingStep | BureauStep | DeadlineStep


@dataclass(frozen=True, slots=True)
class Step:
    day: date
    order: tuple[int, ...]  # within a day: the deadline job first, then provider by provider
    action: Action


@dataclass
class _Audit:
    audit_id: str
    bureau_id: str
    audit_type: AuditType
    visit: date | None = None
    reports: int = 0
    not_met: frozenset[Requirement] = frozenset()


class Story:
    """The steps of one registration unit, written from its first day on."""

    def __init__(
        self, index: int, provider: DemoProvider, demo_unit: DemoUnit, position: int, now: date
    ) -> None:
        self.index = index
        self.provider = provider
        self.unit = unit_of(index, demo_unit)
        self.position = position
        self.today = now
        self.day = now - timedelta(days=demo_unit.days_ago)
        self.bureau_id = BUREAUS[(index + position) % len(BUREAUS)].bureau_id
        self.tag = f"demo-{index + 1:02d}{self.unit.service_type.number_letter.lower()}"
        self.steps: list[Step] = []
        self.rng = random.Random(index * 10 + position)  # the same story on every load
        self.applications = 0
        self.audits = 0
        self.track = Track.BASIC
        self.granted_on: date | None = None  # the first positive decision
        self.valid_until: date | None = None
        self.lacking: frozenset[Requirement] = frozenset()
        self.certificates: tuple[CertificateHeld, ...] = ()  # claimed by the latest application
        self.enterprise = provider_enterprise(index)
        self.provider_actor = Actor(id=f"provider:{self.enterprise}", role="provider")

    # -- scheduling

    def on(self, after: int) -> date:
        """A working day some ``after`` days (and up to three more) after the last step."""
        jitter = self.rng.randint(0, 3) if after > 0 else 0
        return working_day(self.day + timedelta(days=after + jitter), self.day)

    def at(self, after: int, command: Command, actor: Actor) -> date:
        return self.put(self.on(after), command, actor)

    def put(self, day: date, command: Command, actor: Actor) -> date:
        if day >= self.today:  # the data set is wrong, not the user's input
            raise AssertionError(f"{self.tag}: a step on {day} is not in the past")
        self.steps.append(
            Step(
                day,
                (1, self.index, self.position, len(self.steps)),
                UnitStep(self.unit.key, command, actor),
            )
        )
        self.day = day
        return day

    def _bureau_actor(self, bureau_id: str) -> Actor:
        return Actor(id=f"{bureau_id}-software", role="bureau")

    @property
    def exemptions(self) -> Exemptions:
        return Exemptions(
            certificates=tuple(
                CertificateClaim(c.certificate, c.valid_until) for c in self.certificates
            ),
            professional_body=self.provider.professional_body,
        )

    # -- the process

    def apply(self, track: Track = Track.BASIC, *, after: int = 0) -> str:
        self.applications += 1
        self.track = track
        application_id = f"{self.tag}-{self.applications}"
        starter = track is Track.STARTER
        day = self.on(after)
        if self.provider.certificate is not None:  # a certificate valid for three more years
            valid_until = day + timedelta(days=3 * 365)
            self.certificates = (
                CertificateHeld(certificate=self.provider.certificate, valid_until=valid_until),
            )
        kind = "Opleidingen" if self.unit.service_type is ServiceType.TRAINING else "Advies"
        iban = IBAN.generate(
            "BE", bank_code=BANKS[self.index % len(BANKS)], account_code=f"{self.index + 1:07d}"
        )
        command = SubmitApplication(
            application_id=application_id,
            unit=self.unit,
            provider_name=self.provider.name,
            bank_account=BankAccount.parse(str(iban)),
            activities=f"{kind} voor kmo's. {self.provider.description}",
            themes=self.provider.themes,
            track=track,
            certificates=self.certificates,
            professional_body=self.provider.professional_body,
            activity_started_on=day - timedelta(days=240) if starter else None,
            dossiers=6 if starter else None,
        )
        self.put(day, command, self.provider_actor)
        self.at(DECLARATION_AFTER, RecordSwornDeclaration(application_id), AGENCY)
        return application_id

    def choose(self, *, follow_up: bool = False, after: int = CHOICE_AFTER) -> _Audit:
        self.audits += 1
        audit_id = f"{self.tag}-audit{self.audits}"
        if follow_up:
            audit_type = (
                AuditType.STARTER_FOLLOW_UP
                if self.track is Track.STARTER
                else AuditType.CONDITIONAL_FOLLOW_UP
            )
        else:
            audit_type = {
                Track.BASIC: AuditType.BASIC,
                Track.STARTER: AuditType.STARTER,
                Track.RENEWAL: AuditType.RENEWAL,
            }[self.track]
        command = ChooseAuditBureau(audit_id, self.bureau_id, follow_up=follow_up)
        self.at(after, command, self.provider_actor)
        return _Audit(audit_id, self.bureau_id, audit_type)

    def plan(self, audit: _Audit) -> None:
        planned_on = self.on(PLANNING_AFTER)
        audit.visit = working_day(planned_on + timedelta(days=VISIT_AFTER_PLANNING), planned_on)
        hours = Decimal(("7.5", "8", "12", "14.5", "16")[(self.index + self.audits) % 5])
        command = PlanAudit(audit.audit_id, audit.bureau_id, audit.visit, hours)
        self.put(planned_on, command, self._bureau_actor(audit.bureau_id))

    def report(
        self, audit: _Audit, result: AuditResult, *, follow_up_months: int | None = None
    ) -> None:
        assert audit.visit is not None
        audited = audited_requirements(
            audit.audit_type,
            self.unit.service_type,
            self.exemptions,
            audit.visit,
            lacking=self.lacking,
        )
        not_met: frozenset[Requirement] = frozenset()
        if result is not AuditResult.PASSED:
            preferred = Requirement.CLIENT_SATISFACTION
            not_met = frozenset({preferred if preferred in audited else max(audited)})
        audit.not_met = not_met
        audit.reports += 1
        command = SubmitAuditReport(
            audit_id=audit.audit_id,
            report_id=f"{audit.audit_id}-report{audit.reports}",
            bureau_id=audit.bureau_id,
            audit_type=audit.audit_type,
            visit_date=audit.visit,
            scores=_scores(audited, not_met),
            verdicts=tuple(Verdict(requirement=r, met=r not in not_met) for r in sorted(audited)),
            result=result,
            follow_up_deadline=(
                audit.visit + relativedelta(months=follow_up_months)
                if result is AuditResult.CONDITIONALLY_PASSED and follow_up_months
                else None
            ),
            norm_version=CURRENT_NORM.version,
        )
        after = (audit.visit - self.day).days + REPORT_AFTER_VISIT
        self.at(after, command, self._bureau_actor(audit.bureau_id))

    def react(self, audit: _Audit) -> None:
        reaction = "Klanttevredenheidsmeting herwerkt: elke klant krijgt nu een bevraging."
        self.at(
            REACTION_AFTER_REPORT, ReactToFailedAudit(audit.audit_id, reaction), self.provider_actor
        )

    def decide(
        self,
        application_id: str,
        *,
        granted: bool = True,
        lacking: frozenset[Requirement] = frozenset(),
    ) -> date:
        day = self.on(DECISION_AFTER_REPORT)
        reason = None if granted else "Het auditrapport toont dat niet aan de kmop-norm is voldaan."
        self.put(day, RecordDecision(application_id, granted, day, reason), AGENCY)
        if granted:
            self.granted_on = self.granted_on or day
            self.valid_until = registration_valid_until(day, starter=self.track is Track.STARTER)
            self.lacking = lacking
        return day

    def stop(self, after: int) -> None:
        reason = "Misbruik vastgesteld: facturen voor prestaties die niet geleverd werden."
        self.at(after, StopRegistration(reason), AGENCY)

    # -- the shapes

    def audited(
        self, result: AuditResult, *, follow_up_months: int | None = None
    ) -> tuple[str, _Audit]:
        application_id = self.apply(self.track)
        audit = self.choose()
        self.plan(audit)
        self.report(audit, result, follow_up_months=follow_up_months)
        return application_id, audit

    def register(
        self, result: AuditResult = AuditResult.PASSED, *, follow_up_months: int | None = None
    ) -> None:
        application_id, audit = self.audited(result, follow_up_months=follow_up_months)
        self.decide(application_id, lacking=audit.not_met)

    def follow_up(self, result: AuditResult, *, after: int) -> None:
        audit = self.choose(follow_up=True, after=after)
        self.plan(audit)
        self.report(audit, result)


def _scores(
    audited: frozenset[Requirement], not_met: frozenset[Requirement]
) -> tuple[IndicatorScore, ...]:
    """Both scores of every audited indicator: T/V where the requirement is met, G/B not."""
    found = []
    for n, indicator in enumerate(CURRENT_NORM.indicators):
        if indicator.requirement not in audited:
            continue
        if indicator.requirement in not_met:
            conformity, demonstrability = Score.G, (Score.B if n % 2 else Score.G)
        else:
            conformity, demonstrability = (
                (Score.V if n % 3 else Score.T),
                (Score.T if n % 2 else Score.V),
            )
        found.append(
            IndicatorScore(
                indicator=indicator.code, conformity=conformity, demonstrability=demonstrability
            )
        )
    return tuple(found)


def _play(story: Story, path: Path) -> None:
    match path:
        case Path.APPLIED:
            story.apply()
        case Path.AUDIT_ASSIGNED:
            story.apply()
            story.choose()
        case Path.AUDIT_PLANNED:
            story.apply()
            story.plan(story.choose())
        case Path.AUDIT_FAILED | Path.REFUSED_NO_REACTION:
            story.audited(AuditResult.FAILED)
        case Path.AWAITING_DECISION:
            story.audited(AuditResult.PASSED)
        case Path.REGISTERED | Path.EXPIRED:
            story.register()
        case Path.REGISTERED_AFTER_REACTION:
            application_id, audit = story.audited(AuditResult.FAILED)
            story.react(audit)
            story.plan(audit)
            story.report(audit, AuditResult.PASSED)
            story.decide(application_id)
        case Path.RENEWED:
            story.register()
            assert story.valid_until is not None
            renewal_on = story.valid_until - timedelta(days=RENEWAL_BEFORE_END)
            story.track = Track.RENEWAL
            application_id = story.apply(Track.RENEWAL, after=(renewal_on - story.day).days)
            audit = story.choose()
            story.plan(audit)
            story.report(audit, AuditResult.PASSED)
            story.decide(application_id)
        case Path.STARTER | Path.STARTER_FOLLOWED_UP | Path.STOPPED_FOLLOW_UP_FAILED:
            story.track = Track.STARTER
            story.register()
            if path is Path.STARTER_FOLLOWED_UP:
                story.follow_up(AuditResult.PASSED, after=400)
            elif path is Path.STOPPED_FOLLOW_UP_FAILED:
                story.follow_up(AuditResult.FAILED, after=300)
        case Path.CONDITIONAL:
            story.register(AuditResult.CONDITIONALLY_PASSED, follow_up_months=12)
        case Path.CONDITIONAL_FOLLOWED_UP:
            story.register(AuditResult.CONDITIONALLY_PASSED, follow_up_months=10)
            story.follow_up(AuditResult.PASSED, after=30)
        case Path.STOPPED_FOLLOW_UP_MISSED:
            story.register(AuditResult.CONDITIONALLY_PASSED, follow_up_months=9)
        case Path.REFUSED:
            application_id, _ = story.audited(AuditResult.FAILED)
            story.decide(application_id, granted=False)
        case Path.STOPPED_BY_AGENCY:
            story.register()
            story.stop(after=(story.today - story.day).days // 2)


def _rated_unit(provider: DemoProvider, stories: Sequence[Story]) -> Story | None:
    """The provider's unit whose projects the demo files: the first registered of those in
    force today."""
    in_force = [
        s
        for s, u in zip(stories, provider.units, strict=True)
        if s.granted_on is not None and EXPECTED[u.path] in IN_FORCE
    ]
    return min(in_force, key=lambda s: s.granted_on or date.max, default=None)


def _project(
    story: Story, serial: int, start: date, rng: random.Random, **fields: object
) -> RecordProject:
    """A project filed with ``story``'s unit, with catering within the cap (EUR 20 a person a
    day). Its registration number is the unit's, given when the unit is registered: the loader
    fills it in (``PLACEHOLDER_SERIAL`` until then)."""
    training = story.unit.service_type is ServiceType.TRAINING
    participants = rng.randint(2, 12) if training else None
    days = rng.choice((1, 2, 3)) if training else None
    price = Decimal(rng.randrange(800, 6000, 50))
    project = RecordProject(
        project_id=f"KMOP-{start.year}-{300_000 + serial:06d}",
        client=client_enterprise(serial),
        registration_number=RegistrationNumber(story.unit.service_type, PLACEHOLDER_SERIAL),
        service_type=story.unit.service_type,
        theme=story.provider.themes[serial % len(story.provider.themes)],
        start_date=start,
        end_date=start + timedelta(days=(days or 21) - 1),
        price_excluding_vat=price,
        vat=(price * Decimal("0.21")).quantize(Decimal("0.01")),
        participants=participants,
        training_days=Decimal(days) if days else None,
        catering_cost=Decimal(20 * participants * days) if participants and days else None,
    )
    return replace(project, **fields)  # type: ignore[arg-type]


def _ratings(
    index: int, provider: DemoProvider, stories: Sequence[Story], now: date, rng: random.Random
) -> list[Step]:
    """The provider's ratings, each of a project its client filed, confirmed by the provider and
    approved by the agency, spread from a month after its first registration in force; every
    fifth rated project is reclaimed later."""
    story = _rated_unit(provider, stories)
    if not provider.ratings or story is None or story.granted_on is None:
        return []
    first, last = story.granted_on + timedelta(days=30), now - timedelta(days=1)
    span = (last - first).days
    steps = []
    for k in range(provider.ratings):
        rated_on = first + timedelta(days=span * (k + 1) // (provider.ratings + 1))
        serial = index * 100 + k
        record = _project(story, serial, rated_on - timedelta(days=21), rng)
        record = replace(record, end_date=min(record.end_date, rated_on - timedelta(days=1)))
        flow: list[tuple[int, ProjectCommand, Actor]] = [
            (18, record, AGENCY),
            (16, ConfirmProject(), story.provider_actor),
            (9, ApproveProject(), AGENCY),
        ]
        for n, (before, command, actor) in enumerate(flow):
            day = rated_on - timedelta(days=before)
            steps.append(
                Step(
                    day,
                    (2, index, k, n),
                    ProjectStep(record.project_id, command, actor, story.unit.key),
                )
            )
        rating = RecordRating(
            reference=f"KMOP-{rated_on.year}-{104_000 + serial:06d}",
            project_id=record.project_id,
            client=record.client,
            score=rng.choices((5, 4, 3, 2), weights=(5, 4, 2, 1))[0],
            rated_on=rated_on,
        )
        steps.append(Step(rated_on, (2, index, k, 3), RatingStep(rating)))
        reclaim_on = rated_on + timedelta(days=20)
        if k % 5 == 4 and reclaim_on < now:
            reclaim = ReclaimProject("Na betaling vastgesteld: minder deelnemers dan aangerekend")
            steps.append(
                Step(
                    reclaim_on,
                    (2, index, k, 4),
                    ProjectStep(record.project_id, reclaim, AGENCY, story.unit.key),
                )
            )
    return steps


def _open_projects(
    index: int, provider: DemoProvider, stories: Sequence[Story], now: date, rng: random.Random
) -> list[Step]:
    """For every fourth provider, projects the provider and the agency are still busy with:
    one to check, one filed late, one with catering above the cap (training), one confirmed,
    one disputed, one disputed and then stopped."""
    story = _rated_unit(provider, stories)
    if index % 4 or story is None or story.granted_on is None:
        return []
    if (now - story.granted_on).days < 90:  # started after its registration: no story to tell
        return []
    serial = 90_000 + index * 10
    training = story.unit.service_type is ServiceType.TRAINING
    over_cap = {"catering_cost": Decimal("45.00") * 4 * 2, "participants": 4}
    over_cap |= {"training_days": Decimal(2)}
    dispute = DisputeProject(
        DisputeReason.CLIENT_DID_NOT_ENROL, "Deze onderneming schreef zich niet in."
    )
    wrong = DisputeProject(DisputeReason.WRONG_AMOUNT, "Het aangerekende bedrag is te hoog.")
    stop = StopProject("De klant schreef zich nooit in bij deze dienstverlener")
    plans: list[tuple[int, dict[str, object], list[tuple[int, ProjectCommand, Actor]]]] = [
        (10, {}, []),  # to check: filed 3 days after it started
        (40, {}, []),  # filed late: 20 days after it started
        (12, over_cap if training else {}, []),
        (30, {}, [(22, ConfirmProject(), story.provider_actor)]),
        (25, {}, [(15, dispute, story.provider_actor)]),
        (70, {}, [(55, wrong, story.provider_actor), (40, stop, AGENCY)]),
    ]
    steps = []
    for n, (started_ago, fields, then) in enumerate(plans):
        start = now - timedelta(days=started_ago)
        record = _project(story, serial + n, start, rng, **fields)
        filed = start + timedelta(days=20 if n == 1 else 3)
        key = story.unit.key
        steps.append(
            Step(filed, (3, index, n, 0), ProjectStep(record.project_id, record, AGENCY, key))
        )
        for m, (ago, command, actor) in enumerate(then, 1):
            day = now - timedelta(days=ago)
            steps.append(
                Step(day, (3, index, n, m), ProjectStep(record.project_id, command, actor, key))
            )
    return steps


@dataclass
class DemoPlan:
    start: date
    steps: list[Step]
    expected: dict[str, Status]  # unit key -> the status it ends in
    marks: list[str]  # the first application of every unit: how to tell the demo is loaded
    enterprises: list[str]


def build_plan(now: datetime) -> DemoPlan:
    """Every step of the demo, in the order they happen, up to (not including) ``now``'s day."""
    day = today(now)
    start = day - relativedelta(years=YEARS_OF_HISTORY)
    steps = [
        Step(
            start,
            (0, i),
            BureauStep(
                AppointAuditBureau(
                    bureau_id=bureau.bureau_id,
                    name=bureau.name,
                    enterprise_number=bureau_enterprise(i),
                    appointed_from=date(start.year, 1, 1),
                    contact=bureau.contact,
                )
            ),
        )
        for i, bureau in enumerate(BUREAUS)
    ]
    plan = DemoPlan(start, steps, {}, [], [])
    rng = random.Random(20260105)
    for index, provider in enumerate(PROVIDERS):
        stories = []
        for position, demo_unit in enumerate(provider.units):
            story = Story(index, provider, demo_unit, position, day)
            _play(story, demo_unit.path)
            steps.extend(story.steps)
            stories.append(story)
            plan.expected[story.unit.key] = EXPECTED[demo_unit.path]
            plan.marks.append(first_application_id(index, demo_unit))
        profile_on = min(story.steps[0].day for story in stories)
        enterprise = provider_enterprise(index)
        plan.enterprises.append(str(enterprise))
        profile = UpdateProfile(
            enterprise=enterprise,
            description=provider.description,
            themes=provider.themes,
            locations=provider.locations,
        )
        actor = Actor(id=f"provider:{enterprise}", role="provider")
        steps.append(Step(profile_on, (1, index, -1), ProfileStep(profile, actor)))
        steps.extend(_ratings(index, provider, stories, day, rng))
        steps.extend(_open_projects(index, provider, stories, day, rng))
    run_on = start + DEADLINE_JOB_EVERY
    while run_on < day:
        steps.append(Step(run_on, (0,), DeadlineStep()))
        run_on += DEADLINE_JOB_EVERY
    steps.sort(key=lambda step: (step.day, step.order))
    return plan


def timed(steps: Sequence[Step]) -> Iterator[tuple[datetime, Step]]:
    """The moment of each step: the deadline job at 01:00, the others from 08:30 on, 90 s
    apart, in Belgian time."""
    taken: Counter[date] = Counter()
    for step in steps:
        if isinstance(step.action, DeadlineStep):
            yield datetime.combine(step.day, time(1, 0), tzinfo=BELGIUM), step
            continue
        offset = timedelta(seconds=90 * taken[step.day])
        taken[step.day] += 1
        yield datetime.combine(step.day, time(8, 30), tzinfo=BELGIUM) + offset, step
