"""Rebuilding the projections from the events gives back every row, registration numbers included.

A six-year history of about 300 registration units (``scenarios/``) runs through the service
layer with a fixed clock and the deadline job; then ``rebuild_projections`` empties and replays
every projection table, and every row must come back equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.identifiers import RegistrationNumber, ServiceType
from app.domain.registration import Status
from app.events.bulk import PRIMARY_KEYS
from app.events.projections import PROJECTION_TABLES, Projector
from app.events.rebuild import rebuild_projections
from app.services.clock import FixedClock
from app.services.registrations import RegistrationService
from tests.integration.scenarios import (
    BUREAUS,
    END,
    ENDED_BUREAU,
    LAST_DAY_2019_APPOINTMENTS,
    Driver,
    History,
    Kind,
    Plan,
    build_plan,
)

SEED = 20260105
NUMBER_BASE = 236_700  # numbers like the real DV.O236716

Row = dict[str, Any]
Snapshot = dict[str, list[Row]]


async def snapshot(engine: AsyncEngine) -> Snapshot:
    """Every row of every projection table, all columns, in primary-key order."""
    assert set(PRIMARY_KEYS) == set(PROJECTION_TABLES)
    tables: Snapshot = {}
    async with engine.connect() as conn:
        for table, key in PRIMARY_KEYS.items():
            result = await conn.execute(text(f"SELECT * FROM {table} ORDER BY {key}"))
            tables[table] = [dict(row._mapping) for row in result]
    assert "registration_number" in tables["registrations"][0]
    assert "registration_serial" in tables["registrations"][0]
    return tables


def differences(before: Snapshot, after: Snapshot) -> list[str]:
    """The first few rows that differ, to read in a failure message."""
    found: list[str] = []
    for table, key in PRIMARY_KEYS.items():
        old = {row[key]: row for row in before[table]}
        new = {row[key]: row for row in after[table]}
        for pk in sorted(old.keys() | new.keys()):
            if old.get(pk) != new.get(pk):
                changed = (
                    {
                        column: (value, new[pk][column])
                        for column, value in old[pk].items()
                        if new[pk][column] != value
                    }
                    if pk in old and pk in new
                    else ("only before" if pk in old else "only after")
                )
                found.append(f"{table}[{pk}]: {changed}")
    return found[:10]


async def run_history(engine: AsyncEngine, plan: Plan) -> tuple[RegistrationService, History]:
    clock = FixedClock()
    service = RegistrationService(engine, clock=clock, projector=Projector(NUMBER_BASE))
    history = await Driver(service, clock).run(plan)
    return service, history


def by_key(rows: Sequence[Row], key: str = "unit_key") -> dict[str, Row]:
    return {row[key]: row for row in rows}


async def test_rebuild_after_six_years_of_history_gives_every_row_and_number_again(
    engine: AsyncEngine,
) -> None:
    plan = build_plan(SEED)
    service, history = await run_history(engine, plan)
    before = await snapshot(engine)

    report = await rebuild_projections(engine, service.projector)
    after = await snapshot(engine)

    assert after == before, differences(before, after)
    async with engine.connect() as conn:
        events = await conn.scalar(text("SELECT count(*) FROM events"))
        unit_streams = await conn.scalar(
            text("SELECT count(DISTINCT stream_id) FROM events WHERE stream_id LIKE 'unit:%'")
        )
    assert report.events == events
    assert report.units == unit_streams == len(plan.units)

    registrations = by_key(before["registrations"])
    _check_statuses(plan, history, registrations)
    _check_numbers(plan, history, registrations)
    _check_history_was_realistic(plan, history, before)


def _check_statuses(plan: Plan, history: History, registrations: dict[str, Row]) -> None:
    assert registrations.keys() == plan.units.keys()
    ended_as = {key: Status(row["status"]) for key, row in registrations.items()}
    planned = {key: unit.expected for key, unit in plan.units.items()}
    wrong = {
        key: (plan.units[key].kind.value, planned[key].value, ended_as[key].value)
        for key in planned
        if ended_as[key] != planned[key]
    }
    assert not wrong, f"(kind, expected, actual) of units that ended otherwise: {wrong}"
    every_status = set(Status) - {Status.NONE}
    assert every_status <= history.statuses_seen | set(ended_as.values())
    assert every_status <= set(ended_as.values()), "the last day shows every status too"


def _check_numbers(plan: Plan, history: History, registrations: dict[str, Row]) -> None:
    numbered = [row for row in registrations.values() if row["first_registered_on"] is not None]
    serials = sorted(row["registration_serial"] for row in numbered)
    assert serials == list(range(NUMBER_BASE, NUMBER_BASE + len(numbered)))
    assert len({row["registration_number"] for row in numbered}) == len(numbered)
    for row in numbered:
        number = RegistrationNumber(ServiceType(row["service_type"]), row["registration_serial"])
        assert row["registration_number"] == str(number)
    for row in registrations.values():
        if row["first_registered_on"] is None:
            assert row["registration_serial"] is None
            assert row["registration_number"] is None

    # the n-th first registration got the n-th number, and every unit kept it for life
    assert [history.first_numbers[key][0] for key in history.first_grant_order] == serials
    assert history.first_numbers.keys() == {row["unit_key"] for row in numbered}
    for key, first_number in history.first_numbers.items():
        row = registrations[key]
        assert (row["registration_serial"], row["registration_number"]) == first_number
    for kind in (Kind.RENEWED, Kind.REREGISTERED):
        units = [key for key, unit in plan.units.items() if unit.kind is kind]
        assert units
        for key in units:
            assert len(history.granted_at[key]) == 2, key
            second_grant = history.granted_at[key][1].date()
            row = registrations[key]
            assert row["first_registered_on"] < row["valid_from"] <= second_grant
            assert (row["registration_serial"], row["registration_number"]) == (
                history.first_numbers[key]
            )

    # registered for training and advice on the same day: consecutive numbers
    assert plan.both_services
    for training, advice in plan.both_services:
        first, second = registrations[training], registrations[advice]
        assert first["first_registered_on"] == second["first_registered_on"]
        assert second["registration_serial"] == first["registration_serial"] + 1
        assert first["registration_number"].startswith("DV.O")
        assert second["registration_number"].startswith("DV.A")

    # a university registers per department: one enterprise, two units, two numbers
    assert plan.universities
    for one, other in plan.universities:
        first, second = registrations[one], registrations[other]
        assert first["enterprise_number"] == second["enterprise_number"]
        assert first["department"] != second["department"]
        assert first["registration_number"] != second["registration_number"]


def _check_history_was_realistic(plan: Plan, history: History, tables: Snapshot) -> None:
    assert history.deadline_runs >= 70
    for event in ("FollowUpMissed", "RegistrationExpired", "ApplicationRefusedForNoReaction"):
        assert history.deadline_events[event] > 0, event
    assert history.refusals["rating-already-recorded"] == 1
    assert history.refusals["unit-already-registered"] == len(
        [u for u in plan.units.values() if u.kind is Kind.RENEWED]
    )
    assert history.refusals["applicant-is-audit-bureau"] == 1

    ratings = tables["provider_ratings"]
    assert sum(row["rating_count"] for row in ratings) == history.ratings == plan.ratings
    assert all(
        row["rating_count"] <= row["rating_sum"] <= 5 * row["rating_count"] for row in ratings
    )
    # Every rating is of an approved project of its client's, some of them filed late.
    projects = tables["projects"]
    assert len(projects) == plan.ratings
    assert all(row["status"] == "approved" and row["rating_reference"] for row in projects)
    assert any("filed_in_time" in row["unmet_findings"] for row in projects)

    bureaus = by_key(tables["bureaus"], "bureau_id")
    assert bureaus.keys() == {b.bureau_id for b in BUREAUS}
    assert bureaus[ENDED_BUREAU]["appointed_until"] == LAST_DAY_2019_APPOINTMENTS
    audits = tables["audits"]
    assert {row["bureau_id"] for row in audits} >= {"certup", "lrqa", ENDED_BUREAU}
    assert all(
        row["visit_date"] <= LAST_DAY_2019_APPOINTMENTS
        for row in audits
        if row["bureau_id"] == ENDED_BUREAU
    )
    # the hourly rate changed on 2024-01-01: each estimate uses the rate of its visit date
    planned = [row for row in audits if row["planned_hours"] is not None]
    for row in planned:
        rate = Decimal("150.00") if row["visit_date"] < date(2024, 1, 1) else Decimal("192.65")
        cents = (row["planned_hours"] * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert row["cost_estimate"] == cents
    assert {row["visit_date"].year for row in planned} >= {2020, 2023, 2024, 2025}

    applications = tables["applications"]
    assert {row["status"] for row in applications} == {"open", "granted", "refused"}
    assert {row["track"] for row in applications} == {"basic", "starter", "renewal"}
    assert {row["audit_type"] for row in audits} == {
        "basic",
        "starter",
        "renewal",
        "starter_follow_up",
        "conditional_follow_up",
    }
    assert {row["status"] for row in audits} == {"assigned", "planned", "reported", "reacted"}
    assert max(row["updated_at"] for row in tables["registrations"]).date() <= END
    assert min(row["submitted_on"] for row in applications) < date(2020, 3, 1)


async def test_rebuild_twice_and_state_as_of_before_a_decision(engine: AsyncEngine) -> None:
    plan = build_plan(SEED + 1, size=40)
    service, history = await run_history(engine, plan)
    live = await snapshot(engine)

    await rebuild_projections(engine, service.projector)
    once = await snapshot(engine)
    await rebuild_projections(engine, service.projector)
    twice = await snapshot(engine)

    assert once == live, differences(live, once)
    assert twice == once, differences(once, twice)

    registrations = by_key(twice["registrations"])
    key = next(
        key
        for key, unit in plan.units.items()
        if unit.kind is Kind.BASIC
        and len(history.granted_at.get(key, [])) == 1
        and registrations[key]["status"] == Status.REGISTERED
    )
    decided_at = history.granted_at[key][0]

    before_decision, version_before = await service.unit_state(
        key, as_of=decided_at - timedelta(microseconds=1)
    )
    at_decision, version_at = await service.unit_state(key, as_of=decided_at)
    now, version_now = await service.unit_state(key)

    assert before_decision.status is Status.AWAITING_DECISION
    assert before_decision.registration is None
    assert at_decision.status is now.status is Status.REGISTERED
    assert version_at == version_before + 1 <= version_now
    assert now.first_registered_on == registrations[key]["first_registered_on"]
