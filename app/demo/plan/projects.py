"""The subsidy projects and ratings the demo files with a provider's unit: rated ones,
some reclaimed, and open ones the provider and the agency are still busy with."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from app.demo.data.stories import EXPECTED, DemoProvider
from app.demo.plan.registrations import Story
from app.demo.plan.steps import AGENCY, IN_FORCE, ProjectStep, RatingStep, Step, client_enterprise
from app.domain.events import DisputeReason
from app.domain.identifiers import RegistrationNumber, ServiceType
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
from app.events import Actor

PLACEHOLDER_SERIAL = (
    999_999  # a project's number until the loader knows its unit's (``ProjectStep``)
)


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


def ratings(
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


def open_projects(
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
