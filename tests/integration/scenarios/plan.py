"""``build_plan(seed, size)``: every unit's story and the bureaus', ratings and projects, on one
timeline (``Plan``)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from schwifty import IBAN

from app.domain import errors
from app.domain.bureaus import AppointAuditBureau, EndBureauAppointment
from app.domain.decider import RecordDecision, SubmitApplication
from app.domain.events import AuditResult, CertificateHeld
from app.domain.identifiers import (
    BankAccount,
    EnterpriseNumber,
    RegistrationNumber,
    RegistrationUnit,
    ServiceType,
)
from app.domain.norm import AuditType, Certificate, ProfessionalBody
from app.domain.policies import ELIGIBLE_THEMES
from app.domain.projects import ApproveProject, RecordProject
from app.domain.ratings import RecordRating
from app.events import Actor
from tests.integration.scenarios.paths import registered_path, single
from tests.integration.scenarios.story import Story
from tests.integration.scenarios.timeline import (
    BUREAUS,
    DEADLINE_DAYS,
    END,
    PLACEHOLDER_SERIAL,
    START,
    Action,
    BureauAction,
    DeadlineJob,
    ProjectAction,
    RatingAction,
    Role,
    Step,
    UnitAction,
    enterprise_number,
)
from tests.integration.scenarios.units import (
    ANY,
    BANKS,
    DRAWS,
    FORMS,
    MIX,
    MIX_UNITS,
    NAMES,
    START_WINDOW,
    THEMES,
    TRADES,
    DoesNotFit,
    Kind,
    UnitPlan,
)


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
            single(story, kind)
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
                registered_path(story)
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
