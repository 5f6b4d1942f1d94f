"""Helpers for driving the HTTP API as its three kinds of clients would."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx

from app.api.http.auth import Role, mint_token
from app.domain.identifiers import RegistrationNumber, ServiceType
from app.domain.norm import CURRENT_NORM
from app.runtime.settings import DEVELOPMENT_JWT_SECRET
from app.services.clock import FixedClock
from tests.integration.scenarios import enterprise_number

PROBLEM = "application/problem+json"
PROVIDER_KBO = str(enterprise_number(1))
OTHER_PROVIDER_KBO = str(enterprise_number(2))
BUREAU_KBO = str(enterprise_number(900))
BUREAU_ID = "bureau-kiwa"
OTHER_BUREAU_ID = "bureau-dnv"


def token(role: Role, **claims: Any) -> str:
    return mint_token(
        DEVELOPMENT_JWT_SECRET, subject=claims.pop("sub", f"{role}-client"), role=role, **claims
    )


def auth(role: Role, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, **claims)}"}


AGENCY = auth(Role.AGENCY, sub="vlaio-backoffice")
PROVIDER = auth(Role.PROVIDER, sub="provider-app", enterprise_number=PROVIDER_KBO)
OTHER_PROVIDER = auth(Role.PROVIDER, sub="other-app", enterprise_number=OTHER_PROVIDER_KBO)
BUREAU = auth(Role.BUREAU, sub="kiwa-software", bureau_id=BUREAU_ID)
OTHER_BUREAU = auth(Role.BUREAU, sub="dnv-software", bureau_id=OTHER_BUREAU_ID)


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def application_body(service_type: str = "opleiding", **fields: Any) -> dict[str, Any]:
    return {
        "service_type": service_type,
        "provider_name": "Vormingscentrum Voorbeeld",
        "bank_account": "be68 5390 0754 7034",
        "activities": "Opleidingen digitale vaardigheden voor kmo's",
        "themes": ["digitalisering", "innovatie"],
        **fields,
    }


def report_body(
    audited: Iterable[int],
    *,
    visit: date,
    audit_type: str = "basic",
    not_met: Iterable[int] = (),
    result: str | None = None,
    follow_up_deadline: date | None = None,
) -> dict[str, Any]:
    audited, lacking = set(audited), set(not_met)
    return {
        "audit_type": audit_type,
        "visit_date": visit.isoformat(),
        "scores": [
            {"indicator": i.code, "conformity": "T", "demonstrability": "V"}
            for i in CURRENT_NORM.indicators
            if i.requirement in audited
        ],
        "verdicts": [{"requirement": r, "met": r not in lacking} for r in sorted(audited)],
        "result": result or ("failed" if lacking else "passed"),
        "follow_up_deadline": follow_up_deadline.isoformat() if follow_up_deadline else None,
    }


def bureau_body(bureau_id: str = BUREAU_ID, kbo: str = BUREAU_KBO) -> dict[str, Any]:
    return {
        "bureau_id": bureau_id,
        "name": "Kiwa Belgium" if bureau_id == BUREAU_ID else "DNV Business Assurance",
        "enterprise_number": kbo,
        "appointed_from": "2024-01-01",
    }


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


VISIT = date(2026, 1, 15)


@dataclass(frozen=True)
class Registered:
    application_id: str
    audit_id: str
    registration_id: str


async def audit_planned(
    api: httpx.AsyncClient,
    application_id: str,
    provider: dict[str, str],
    *,
    visit: date = VISIT,
    hours: str = "6",
) -> str:
    """The application's sworn declaration received, its audit assigned to bureau-kiwa (which
    must be appointed) by ``provider`` and planned on ``visit``: the audit's id."""
    ok(await api.post(f"/applications/{application_id}/sworn-declaration", json={}, headers=AGENCY))
    audit_id: str = ok(
        await api.post(
            f"/applications/{application_id}/audits",
            json={"bureau_id": BUREAU_ID},
            headers=provider,
        ),
        201,
    )["audit_id"]
    plan = {"visit_date": visit.isoformat(), "planned_hours": hours}
    ok(await api.post(f"/audits/{audit_id}/plan", json=plan, headers=BUREAU))
    return audit_id


async def register(
    api: httpx.AsyncClient,
    clock: FixedClock,
    provider: dict[str, str],
    *,
    decide: bool = True,
    service_type: str = "opleiding",
    **application: Any,
) -> Registered:
    """One application of ``provider`` (its headers) the whole way: applied on 2026-01-05,
    declared, audited by bureau-kiwa (which must be appointed) on VISIT, passed, and, with
    ``decide``, granted on 2026-01-20."""
    clock.set(at(date(2026, 1, 5)))
    created = ok(
        await api.post(
            "/applications", json=application_body(service_type, **application), headers=provider
        ),
        201,
    )
    application_id = created["application_id"]
    audit_id = await audit_planned(api, application_id, provider)
    clock.set(at(date(2026, 1, 16)))
    report = report_body(range(1, 6), visit=VISIT)
    ok(await api.post(f"/audits/{audit_id}/reports", json=report, headers=BUREAU), 201)
    if decide:
        clock.set(at(date(2026, 1, 20)))
        decision = {"granted": True}
        url = f"/applications/{application_id}/decision"
        assert ok(await api.post(url, json=decision, headers=AGENCY))["status"] == "granted"
    return Registered(application_id, audit_id, str(created["registration_id"]))


async def bought(
    api: httpx.AsyncClient,
    project_id: str,
    number: str,
    client: str,
    start: date,
    **fields: Any,
) -> dict[str, Any]:
    """``client``'s project with the provider of ``number`` (a day's training, or advice), from
    ``start``, recorded on the clock's day and approved by the agency: a service bought, which
    its client may rate (ratings come from projects)."""
    service_type = RegistrationNumber.parse(number).service_type
    training = service_type is ServiceType.TRAINING
    body: dict[str, Any] = {
        "project_id": project_id,
        "client_enterprise_number": client,
        "registration_number": number,
        "service_type": service_type.value,
        "theme": "digitalisering",
        "start_date": start.isoformat(),
        "end_date": start.isoformat(),
        "price_excluding_vat": "500.00",
        "vat": "105.00",
    }
    if training:
        body |= {"participants": 2, "training_days": "1"}
    ok(await api.post("/projects", json=body | fields, headers=AGENCY), 201)
    return dict(ok(await api.post(f"/projects/{project_id}/approval", headers=AGENCY)))
