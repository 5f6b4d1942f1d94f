"""The whole demo plan: every step of every story, in the order they happen, each with its
moment."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from app.demo.data.bureaus import BUREAUS
from app.demo.data.providers import PROVIDERS
from app.demo.data.stories import EXPECTED
from app.demo.plan.projects import open_projects, ratings
from app.demo.plan.registrations import Story, play
from app.demo.plan.steps import (
    DEADLINE_JOB_EVERY,
    YEARS_OF_HISTORY,
    BureauStep,
    DeadlineStep,
    ProfileStep,
    Step,
    bureau_enterprise,
    first_application_id,
    provider_enterprise,
)
from app.domain.bureaus import AppointAuditBureau
from app.domain.policies import BELGIUM, today
from app.domain.profiles import UpdateProfile
from app.domain.registration import Status
from app.events import Actor


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
            play(story, demo_unit.path)
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
        steps.extend(ratings(index, provider, stories, day, rng))
        steps.extend(open_projects(index, provider, stories, day, rng))
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
