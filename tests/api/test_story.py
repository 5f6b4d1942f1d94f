"""Each audience's full story over HTTP against the real database: a provider applies for
training and advice, the agency records the declarations, a bureau plans and reports (one
passed, one conditional), the agency decides, numbers appear, a follow-up passes, a deadline
passes and is seen."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx

from app.domain.norm import CURRENT_NORM
from app.services.clock import FixedClock
from tests.api.support import (
    AGENCY,
    BUREAU,
    PROVIDER,
    PROVIDER_KBO,
    application_body,
    bureau_body,
    key,
    ok,
    report_body,
)

VISIT = date(2026, 1, 15)
FOLLOW_UP_DEADLINE = date(2026, 9, 15)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def test_the_whole_story_of_two_registrations(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY | key()), 201)

    # The provider applies for both service types.
    created = {}
    for service_type in ("opleiding", "advies"):
        response = await api.post(
            "/applications", json=application_body(service_type), headers=PROVIDER | key()
        )
        body = ok(response, 201)
        assert response.headers["Location"] == f"/applications/{body['application_id']}"
        assert body["enterprise_number"] == PROVIDER_KBO
        assert body["status"] == "open"
        created[service_type] = body["application_id"]
    training, advice = created["opleiding"], created["advies"]

    # The agency records both sworn declarations; its correlation id is kept with the event.
    declared = await api.post(
        f"/applications/{training}/sworn-declaration",
        json={},
        headers=AGENCY | key() | {"X-Request-ID": "backoffice-req-1"},
    )
    assert ok(declared)["sworn_declaration_on"] == "2026-01-05"
    assert declared.headers["X-Request-ID"] == "backoffice-req-1"
    ok(await api.post(f"/applications/{advice}/sworn-declaration", json={}, headers=AGENCY))

    # The provider chooses the bureau; the bureau sees the audits and plans them.
    audits = {}
    for name, application_id in created.items():
        response = await api.post(
            f"/applications/{application_id}/audits",
            json={"bureau_id": "bureau-kiwa"},
            headers=PROVIDER | key(),
        )
        audits[name] = ok(response, 201)["audit_id"]
        assert response.headers["Location"] == f"/audits/{audits[name]}"
    listed = ok(await api.get("/audits", headers=BUREAU))
    assert {a["audit_id"] for a in listed["items"]} == set(audits.values())
    for audit_id in audits.values():
        planned = ok(
            await api.post(
                f"/audits/{audit_id}/plan",
                json={"visit_date": VISIT.isoformat(), "planned_hours": "6"},
                headers=BUREAU | key(),
            )
        )
        assert planned["status"] == "planned"
        assert planned["cost_estimate"] == "1155.90"  # 6 h x EUR 192.65

    # One report passed, one conditionally passed (client satisfaction lacking).
    clock.set(at(date(2026, 1, 16)))
    ok(
        await api.post(
            f"/audits/{audits['opleiding']}/reports",
            json=report_body(range(1, 6), visit=VISIT),
            headers=BUREAU | key(),
        ),
        201,
    )
    conditional = report_body(
        range(1, 6),
        visit=VISIT,
        not_met=[3],
        result="conditionally_passed",
        follow_up_deadline=FOLLOW_UP_DEADLINE,
    )
    reported = ok(
        await api.post(
            f"/audits/{audits['advies']}/reports", json=conditional, headers=BUREAU | key()
        ),
        201,
    )
    assert reported["reports"][0]["result"] == "conditionally_passed"
    assert len(reported["reports"][0]["scores"]) == len(CURRENT_NORM.indicators)

    # The agency decides: numbers appear, consecutive, in the order of the decisions.
    clock.set(at(date(2026, 1, 20)))
    for application_id in (training, advice):
        decided = ok(
            await api.post(
                f"/applications/{application_id}/decision",
                json={"granted": True},
                headers=AGENCY | key(),
            )
        )
        assert decided["status"] == "granted"
    mine = ok(await api.get("/registrations", headers=PROVIDER))["items"]
    numbers = {r["service_type"]: r["registration_number"] for r in mine}
    assert numbers == {"opleiding": "DV.O000001", "advies": "DV.A000002"}

    registration = await api.get("/registrations/dvo000001", headers=PROVIDER)
    training_unit = ok(registration)
    assert training_unit["status"] == "registered"
    assert training_unit["valid_from"] == "2026-01-20"
    assert training_unit["valid_until"] == "2031-01-19"
    assert registration.headers["ETag"] == f'"{training_unit["version"]}"'
    advice_unit = ok(await api.get("/registrations/DV.A000002", headers=PROVIDER))
    assert advice_unit["status"] == "registered_conditionally"
    assert advice_unit["pending_deadline"] == {
        "kind": "follow_up",
        "last_day": FOLLOW_UP_DEADLINE.isoformat(),
    }

    # The follow-up of the conditional registration passes: it becomes unconditional.
    follow_up = ok(
        await api.post(
            "/registrations/dv.a%20000002/follow-up-audits",
            json={"bureau_id": "bureau-kiwa"},
            headers=PROVIDER | key(),
        ),
        201,
    )
    assert follow_up["audit_type"] == "conditional_follow_up"
    assert follow_up["application_id"] is None
    follow_up_visit = date(2026, 5, 4)
    ok(
        await api.post(
            f"/audits/{follow_up['audit_id']}/plan",
            json={"visit_date": follow_up_visit.isoformat(), "planned_hours": "2"},
            headers=BUREAU,
        )
    )
    clock.set(at(date(2026, 5, 5)))
    ok(
        await api.post(
            f"/audits/{follow_up['audit_id']}/reports",
            json=report_body([3], visit=follow_up_visit, audit_type="conditional_follow_up"),
            headers=BUREAU | key(),
        ),
        201,
    )
    advice_unit = ok(await api.get("/registrations/DV.A000002", headers=AGENCY))
    assert advice_unit["status"] == "registered"
    assert advice_unit["registration_kind"] == "full"

    # Five years on, the deadline passes; the agency's deadline run records it once.
    clock.set(at(date(2031, 1, 21)))
    run = ok(await api.post("/deadlines/run", headers=AGENCY | key()))
    assert run["events"] == {"RegistrationExpired": 2}
    again = ok(await api.post("/deadlines/run", headers=AGENCY | key()))
    assert again["events"] == {}
    expired = ok(await api.get("/registrations/DV.O000001", headers=AGENCY))
    assert expired["status"] == "expired"
    assert expired["registration_number"] == "DV.O000001"  # kept for life
    before = ok(
        await api.get("/registrations/DV.O000001", params={"as_of": "2031-01-19"}, headers=AGENCY)
    )
    assert before["status"] == "registered"
    assert before["as_of"] is not None
    first_day = ok(
        await api.get("/registrations/DV.O000001", params={"as_of": "2026-01-05"}, headers=AGENCY)
    )
    assert first_day["status"] == "in_audit"  # applied, declared, bureau chosen that day
    assert first_day["registration_number"] is None

    # The agency reads the whole history, in order, with actor, time and correlation id.
    history = ok(await api.get("/registrations/DV.O000001/events", headers=AGENCY))
    assert [event["event_type"] for event in history] == [
        "ApplicationSubmitted",
        "SwornDeclarationReceived",
        "AuditBureauChosen",
        "AuditPlanned",
        "AuditReportSubmitted",
        "RegistrationGranted",
        "RegistrationExpired",
    ]
    assert [event["version"] for event in history] == list(range(1, 8))
    declared_event = history[1]
    assert declared_event["actor"] == {"id": "vlaio-backoffice", "role": "agency"}
    assert declared_event["correlation_id"] == "backoffice-req-1"
    assert history[0]["actor"] == {"id": "provider-app", "role": "provider"}
    assert history[0]["idempotency_key"] is not None
    assert history[-1]["actor"]["role"] == "system"
    assert history[-1]["recorded_at"].startswith("2031-01-21")
