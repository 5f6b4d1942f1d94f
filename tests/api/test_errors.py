"""Bad input gets a clear problem+json answer with a stable code and changes nothing; domain
refusals carry the rule's code; identifiers are accepted in their written forms."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.services.clock import FixedClock
from tests.api.support import (
    AGENCY,
    BUREAU,
    PROVIDER,
    PROVIDER_KBO,
    application_body,
    bureau_body,
    ok,
    problem,
    report_body,
)

VISIT = date(2026, 1, 15)


async def count_events(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM events")) or 0)


async def applied(api: httpx.AsyncClient, service_type: str = "opleiding") -> dict[str, Any]:
    body: dict[str, Any] = ok(
        await api.post("/applications", json=application_body(service_type), headers=PROVIDER),
        201,
    )
    return body


async def planned_audit(api: httpx.AsyncClient, *, declared: bool) -> str:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    application_id = (await applied(api))["application_id"]
    if declared:
        ok(
            await api.post(
                f"/applications/{application_id}/sworn-declaration", json={}, headers=AGENCY
            )
        )
    audit = ok(
        await api.post(
            f"/applications/{application_id}/audits",
            json={"bureau_id": "bureau-kiwa"},
            headers=PROVIDER,
        ),
        201,
    )
    audit_id: str = audit["audit_id"]
    ok(
        await api.post(
            f"/audits/{audit_id}/plan",
            json={"visit_date": VISIT.isoformat(), "planned_hours": "4"},
            headers=BUREAU,
        )
    )
    return audit_id


async def test_no_report_before_the_sworn_declaration(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    audit_id = await planned_audit(api, declared=False)
    clock.set(datetime(2026, 1, 16, 9, tzinfo=UTC))
    before = await count_events(engine)
    response = await api.post(
        f"/audits/{audit_id}/reports",
        json=report_body(range(1, 6), visit=VISIT),
        headers=BUREAU,
    )
    body = problem(response, 409, "sworn-declaration-missing")
    assert "sworn declaration" in body["detail"]
    assert body["type"].endswith("/sworn-declaration-missing")
    assert await count_events(engine) == before


async def test_an_inconsistent_report_is_refused_with_the_reason(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    audit_id = await planned_audit(api, declared=True)
    clock.set(datetime(2026, 1, 16, 9, tzinfo=UTC))
    before = await count_events(engine)
    passed_with_a_failure = report_body(range(1, 6), visit=VISIT, not_met=[2], result="passed")
    body = problem(
        await api.post(f"/audits/{audit_id}/reports", json=passed_with_a_failure, headers=BUREAU),
        422,
        "report-inconsistent",
    )
    assert "not met" in body["detail"]
    no_verdicts = report_body(range(1, 6), visit=VISIT) | {"verdicts": []}
    problem(
        await api.post(f"/audits/{audit_id}/reports", json=no_verdicts, headers=BUREAU),
        422,
        "report-inconsistent",
    )
    assert await count_events(engine) == before


async def test_a_bureau_that_is_not_appointed_cannot_be_chosen(api: httpx.AsyncClient) -> None:
    application_id = (await applied(api))["application_id"]
    problem(
        await api.post(
            f"/applications/{application_id}/audits",
            json={"bureau_id": "bureau-nobody"},
            headers=PROVIDER,
        ),
        409,
        "bureau-not-appointed",
    )


async def test_invalid_fields_are_pointed_at(api: httpx.AsyncClient, engine: AsyncEngine) -> None:
    bad = application_body(bank_account="BE00 0000 0000 0000", themes=["astrologie"])
    del bad["provider_name"]
    body = problem(
        await api.post("/applications", json=bad, headers=PROVIDER), 422, "validation-failed"
    )
    pointers = {error["pointer"] for error in body["errors"]}
    assert pointers == {"#/bank_account", "#/themes/0", "#/provider_name"}
    assert await count_events(engine) == 0


@pytest.mark.parametrize(
    "field",
    [
        {"provider_name": "Nul\u0000Byte"},
        {"activities": "bell \u0007"},
        {"department": "x" * 201},
        {"dossiers": -1},
        {"activity_started_on": "0001-01-01"},
        {"certificates": [{"certificate": "iso-9001", "valid_until": "99999-01-01"}]},
        {"unexpected": True},
    ],
)
async def test_bad_values_are_refused_and_change_nothing(
    api: httpx.AsyncClient, engine: AsyncEngine, field: dict[str, Any]
) -> None:
    response = await api.post("/applications", json=application_body(**field), headers=PROVIDER)
    problem(response, 422, "validation-failed")
    assert await count_events(engine) == 0


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 422),
        (b"\xff\xfe\xfa", "application/json", 400),  # not UTF-8: the body cannot be parsed
        (b"provider_name=x", "application/x-www-form-urlencoded", 415),  # bodies are JSON
        (b"[]", "application/json", 422),
        (b"", "application/json", 422),
    ],
)
async def test_malformed_bodies_are_problems(
    api: httpx.AsyncClient, content: bytes, content_type: str, status: int
) -> None:
    response = await api.post(
        "/applications", content=content, headers=PROVIDER | {"Content-Type": content_type}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/registrations", {"cursor": "not-a-cursor"}),
        ("/registrations", {"limit": "100000"}),
        ("/registrations", {"limit": "0"}),
        ("/registrations", {"enterprise_number": "0403170702"}),
        ("/registrations", {"deadline_before": "tomorrow"}),
        ("/registrations", {"status": "x\u0000"}),
        ("/registrations/DV.O000001", {"as_of": "yesterday"}),
        ("/registrations/DV.O000001", {"as_of": "99999-01-01"}),
        ("/registrations/DV.O000001", {"as_of": "0001-01-01"}),
        ("/applications/a%00b", {}),
        ("/audits/a%20b", {}),
    ],
)
async def test_bad_parameters_are_problems(
    api: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    response = await api.get(path, params=params, headers=AGENCY)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] in {"validation-failed", "invalid-cursor"}


async def test_identifiers_in_their_written_forms_come_back_canonical(
    api: httpx.AsyncClient,
) -> None:
    created = await applied(api)
    assert created["enterprise_number"] == PROVIDER_KBO
    written = f"BE {PROVIDER_KBO[:4]}.{PROVIDER_KBO[4:7]}.{PROVIDER_KBO[7:]}"
    listed = ok(
        await api.get("/registrations", params={"enterprise_number": written}, headers=AGENCY)
    )
    assert [r["enterprise_number"] for r in listed["items"]] == [PROVIDER_KBO]
    by_id = ok(await api.get(f"/registrations/{created['registration_id']}", headers=AGENCY))
    assert by_id["id"] == created["registration_id"]
    problem(await api.get("/registrations/DV.O123456", headers=AGENCY), 404, "not-found")


async def test_lists_page_with_a_cursor_and_filter(api: httpx.AsyncClient) -> None:
    for service_type in ("opleiding", "advies"):
        await applied(api, service_type)
    ok(
        await api.post(
            "/applications",
            json=application_body("opleiding", department="Departement Industriële Wetenschappen"),
            headers=PROVIDER,
        ),
        201,
    )
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"limit": "1"} | ({"cursor": cursor} if cursor else {})
        page = ok(await api.get("/registrations", params=params, headers=AGENCY))
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 3
    assert seen == sorted(set(seen))
    training = ok(
        await api.get(
            "/registrations",
            params={"service_type": "opleiding", "status": "applied"},
            headers=AGENCY,
        )
    )
    assert {r["service_type"] for r in training["items"]} == {"opleiding"}
    assert len(training["items"]) == 2
    applications = ok(await api.get("/applications", params={"limit": "2"}, headers=PROVIDER))
    assert len(applications["items"]) == 2
    assert applications["next_cursor"] is not None


async def test_unknown_routes_and_methods_are_problems(api: httpx.AsyncClient) -> None:
    problem(await api.get("/nowhere", headers=AGENCY), 404, "not-found")
    problem(await api.delete("/applications", headers=AGENCY), 405, "method-not-allowed")


async def test_a_deeply_nested_body_with_an_idempotency_key_is_a_problem(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    response = await api.post(
        "/applications",
        content=deep,
        headers=PROVIDER | {"Content-Type": "application/json", "Idempotency-Key": "deep"},
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await count_events(engine) == 0
