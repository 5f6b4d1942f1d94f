"""Registered providers for the web page's tests, made through the API as in real life: the
agency appoints a bureau, each provider applies, is declared, audited, passes and is granted;
then it writes its public profile and clients rate it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx

from app.api.auth import Role
from app.services.clock import FixedClock
from tests.api.support import AGENCY, BUREAU, BUREAU_ID, auth, bureau_body, ok, report_body
from tests.integration.scenarios import enterprise_number

VISIT = date(2026, 1, 15)
DECIDED = date(2026, 1, 20)


@dataclass(frozen=True)
class Provider:
    kbo: str
    name: str
    service_types: tuple[str, ...] = ("opleiding",)
    profile: dict[str, Any] = field(default_factory=dict)
    scores: tuple[int, ...] = ()


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def register(
    api: httpx.AsyncClient, clock: FixedClock, providers: list[Provider]
) -> dict[str, list[str]]:
    """Drive every unit of every provider to "registered" (decided on DECIDED); the registration
    numbers per enterprise number. The clock starts before VISIT and ends on DECIDED."""
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    audits: list[tuple[str, str]] = []  # (application, audit)
    for provider in providers:
        headers = _provider(provider.kbo)
        for service_type in provider.service_types:
            body = {
                "service_type": service_type,
                "provider_name": provider.name,
                "bank_account": "be68 5390 0754 7034",
                "activities": "Opleidingen en advies voor kmo's",
                "themes": ["digitalisering"],
            }
            application = ok(await api.post("/applications", json=body, headers=headers), 201)
            application_id = application["application_id"]
            ok(
                await api.post(
                    f"/applications/{application_id}/sworn-declaration", json={}, headers=AGENCY
                )
            )
            audit = ok(
                await api.post(
                    f"/applications/{application_id}/audits",
                    json={"bureau_id": BUREAU_ID},
                    headers=headers,
                ),
                201,
            )
            plan = {"visit_date": VISIT.isoformat(), "planned_hours": "6"}
            ok(await api.post(f"/audits/{audit['audit_id']}/plan", json=plan, headers=BUREAU))
            audits.append((application_id, audit["audit_id"]))
    clock.set(at(date(2026, 1, 16)))
    for _, audit_id in audits:
        report = report_body(range(1, 6), visit=VISIT)
        ok(await api.post(f"/audits/{audit_id}/reports", json=report, headers=BUREAU), 201)
    clock.set(at(DECIDED))
    for application_id, _ in audits:
        decided = ok(
            await api.post(
                f"/applications/{application_id}/decision", json={"granted": True}, headers=AGENCY
            )
        )
        assert decided["status"] == "granted"
    numbers: dict[str, list[str]] = {}
    for n, provider in enumerate(providers):
        headers = _provider(provider.kbo)
        if provider.profile:
            ok(
                await api.post(
                    f"/providers/{provider.kbo}/profile", json=provider.profile, headers=headers
                )
            )
        for i, score in enumerate(provider.scores):
            rating = {
                "reference": f"rating-{n}-{i}",
                "provider_enterprise_number": provider.kbo,
                "client_enterprise_number": str(enterprise_number(500 + i)),
                "score": score,
                "rated_on": DECIDED.isoformat(),
            }
            ok(await api.post("/ratings", json=rating, headers=AGENCY), 201)
        mine = ok(await api.get("/registrations", headers=headers))["items"]
        numbers[provider.kbo] = sorted(r["registration_number"] for r in mine)
    return numbers


def _provider(kbo: str) -> dict[str, str]:
    return auth(Role.PROVIDER, sub=f"provider-{kbo}", enterprise_number=kbo)
