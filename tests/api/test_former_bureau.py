"""A bureau that audited a unit before sees the registration it audited, not its successor: every
read a bureau can make, walked with the former bureau and with the current one."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from app.services.clock import FixedClock
from tests.api.support import (
    AGENCY,
    BUREAU,
    OTHER_BUREAU,
    OTHER_BUREAU_ID,
    PROVIDER,
    application_body,
    at,
    bureau_body,
    ok,
    problem,
    register,
    report_body,
)
from tests.integration.scenarios import enterprise_number

SECOND_VISIT = date(2026, 2, 5)


@pytest.fixture
async def story(api: httpx.AsyncClient, clock: FixedClock) -> dict[str, str]:
    """bureau-kiwa audits the provider's first application (passed, then refused by the
    minister on 2026-01-20); the provider applies again on 2026-02-01 and chooses bureau-dnv,
    whose audit fails on 2026-02-06: the provider may react until August."""
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    other = bureau_body(OTHER_BUREAU_ID, str(enterprise_number(901)))
    ok(await api.post("/bureaus", json=other, headers=AGENCY), 201)
    first = await register(api, clock, PROVIDER, decide=False)
    clock.set(at(date(2026, 1, 20)))
    refusal = {"granted": False, "reason": "Onvoldoende bewijs"}
    ok(
        await api.post(
            f"/applications/{first.application_id}/decision", json=refusal, headers=AGENCY
        )
    )

    clock.set(at(date(2026, 2, 1)))
    application_id = ok(
        await api.post("/applications", json=application_body(), headers=PROVIDER), 201
    )["application_id"]
    ok(await api.post(f"/applications/{application_id}/sworn-declaration", json={}, headers=AGENCY))
    choose = {"bureau_id": OTHER_BUREAU_ID}
    audit_id = ok(
        await api.post(f"/applications/{application_id}/audits", json=choose, headers=PROVIDER), 201
    )["audit_id"]
    plan = {"visit_date": SECOND_VISIT.isoformat(), "planned_hours": "6"}
    ok(await api.post(f"/audits/{audit_id}/plan", json=plan, headers=OTHER_BUREAU))
    clock.set(at(date(2026, 2, 6)))
    failed = report_body(range(1, 6), visit=SECOND_VISIT, not_met=[3])
    ok(await api.post(f"/audits/{audit_id}/reports", json=failed, headers=OTHER_BUREAU), 201)
    return {
        "unit": first.registration_id,
        "first_application": first.application_id,
        "first_audit": first.audit_id,
        "application": application_id,
        "audit": audit_id,
    }


async def registration(
    api: httpx.AsyncClient, unit: str, headers: dict[str, str], **params: Any
) -> Any:
    return ok(await api.get(f"/registrations/{unit}", params=params, headers=headers))


async def listed(api: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any) -> Any:
    return ok(await api.get(path, params=params, headers=headers))["items"]


async def test_the_former_bureau_sees_the_registration_it_audited_not_its_successor(
    api: httpx.AsyncClient, story: dict[str, str]
) -> None:
    unit = story["unit"]
    current = await registration(api, unit, OTHER_BUREAU)
    assert current["status"] == "audit_failed"
    assert (current["current_bureau_id"], current["current_audit_id"]) == (
        OTHER_BUREAU_ID,
        story["audit"],
    )
    assert current["open_application_id"] == story["application"]
    assert current["pending_deadline"]["kind"] == "reaction"

    former = await registration(api, unit, BUREAU)
    assert former["status"] == "refused"  # what became of the application it audited
    assert former["current_bureau_id"] is None
    assert former["current_audit_id"] is None
    assert former["open_application_id"] is None
    assert former["pending_deadline"] is None  # the reaction to the other bureau's report
    assert (former["enterprise_number"], former["service_type"]) == (
        current["enterprise_number"],
        "opleiding",
    )
    # now, or as of any instant after its successor was chosen: the same
    assert await registration(api, unit, BUREAU, as_of="2026-02-10T12:00:00Z") == {
        **former,
        "as_of": "2026-02-10T12:00:00Z",
    }
    # as of a day it was the current bureau, it sees its own audit
    then = await registration(api, unit, BUREAU, as_of="2026-01-17")
    assert (then["status"], then["current_audit_id"]) == ("awaiting_decision", story["first_audit"])


async def test_the_former_bureaus_lists_and_filters_reveal_nothing_of_its_successor(
    api: httpx.AsyncClient, story: dict[str, str]
) -> None:
    former = await registration(api, story["unit"], BUREAU)
    assert await listed(api, "/registrations", BUREAU) == [former]
    for params in (
        {"bureau_id": OTHER_BUREAU_ID},
        {"status": "audit_failed"},
        {"deadline_before": "2030-01-01"},
    ):
        assert await listed(api, "/registrations", BUREAU, **params) == [], params
        assert len(await listed(api, "/registrations", OTHER_BUREAU, **params)) == 1, params
    assert await listed(api, "/registrations", BUREAU, status="refused") == [former]

    applications = await listed(api, "/applications", BUREAU)
    assert [a["application_id"] for a in applications] == [story["first_application"]]
    assert [a["audit_id"] for a in await listed(api, "/audits", BUREAU)] == [story["first_audit"]]
    for path in (f"/applications/{story['application']}", f"/audits/{story['audit']}"):
        problem(await api.get(path, headers=BUREAU), 404, "not-found")
    problem(
        await api.get(f"/registrations/{story['unit']}/events", headers=BUREAU), 403, "forbidden"
    )

    # the successor sees its own, and nothing of the former bureau's audit
    assert [a["audit_id"] for a in await listed(api, "/audits", OTHER_BUREAU)] == [story["audit"]]
    problem(
        await api.get(f"/audits/{story['first_audit']}", headers=OTHER_BUREAU), 404, "not-found"
    )
