"""``GET /norm``: public, cacheable, and enough to build a report the service accepts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from app.domain.norm import CURRENT_NORM
from app.domain.policies import HOURLY_RATES
from app.services.clock import FixedClock
from tests.api.support import (
    AGENCY,
    BUREAU,
    PROVIDER,
    application_body,
    at,
    bureau_body,
    ok,
)


async def test_the_norm_is_public_and_cacheable(api: httpx.AsyncClient) -> None:
    response = await api.get("/norm")
    norm = ok(response)
    assert norm["current_version"] == CURRENT_NORM.version
    assert "max-age=" in response.headers["Cache-Control"]
    assert int(response.headers["Cache-Control"].rsplit("max-age=", 1)[1]) > 0
    etag = response.headers["ETag"]
    again = await api.get("/norm", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["ETag"] == etag
    assert again.content == b""


async def test_the_norm_says_what_the_domain_says(api: httpx.AsyncClient) -> None:
    norm = ok(await api.get("/norm"))
    (edition,) = [v for v in norm["versions"] if v["version"] == CURRENT_NORM.version]
    assert [i["indicator"] for i in edition["indicators"]] == [
        i.code for i in CURRENT_NORM.indicators
    ]
    assert [(r["valid_from"], Decimal(r["euros"])) for r in norm["hourly_rates"]] == [
        (rate.valid_from.isoformat(), rate.euros) for rate in HOURLY_RATES
    ]


def _report_from(norm: dict[str, Any], audit_type: str, exempt: set[int], visit: date) -> Any:
    """A passing report built from /norm alone: the audit type's requirements less the
    exempted ones, every indicator of those scored, a verdict on each."""
    (kind,) = [t for t in norm["audit_types"] if t["audit_type"] == audit_type]
    audited = set(kind["audits"]) - exempt
    (edition,) = [v for v in norm["versions"] if v["version"] == norm["current_version"]]
    best = norm["scores"][-1]["score"]
    return {
        "audit_type": audit_type,
        "norm_version": edition["version"],
        "visit_date": visit.isoformat(),
        "scores": [
            {"indicator": i["indicator"], "conformity": best, "demonstrability": best}
            for i in edition["indicators"]
            if i["requirement"] in audited
        ],
        "verdicts": [{"requirement": r, "met": True} for r in sorted(audited)],
        "result": "passed",
    }


async def _audit(api: httpx.AsyncClient, clock: FixedClock, **application: Any) -> str:
    clock.set(at(date(2026, 1, 5)))
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    app_id = ok(
        await api.post("/applications", json=application_body(**application), headers=PROVIDER), 201
    )["application_id"]
    ok(await api.post(f"/applications/{app_id}/sworn-declaration", json={}, headers=AGENCY))
    audit_id: str = ok(
        await api.post(
            f"/applications/{app_id}/audits", json={"bureau_id": "bureau-kiwa"}, headers=PROVIDER
        ),
        201,
    )["audit_id"]
    return audit_id


async def test_a_report_built_from_the_norm_alone_is_accepted(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    norm = ok(await api.get("/norm"))
    audit_id = await _audit(api, clock)
    visit = date(2026, 1, 15)
    planned = ok(
        await api.post(
            f"/audits/{audit_id}/plan",
            json={"visit_date": visit.isoformat(), "planned_hours": "6"},
            headers=BUREAU,
        )
    )
    rate = max(
        (r for r in norm["hourly_rates"] if r["valid_from"] <= visit.isoformat()),
        key=lambda r: r["valid_from"],
    )
    assert Decimal(planned["cost_estimate"]) == Decimal(rate["euros"]) * 6
    clock.set(at(date(2026, 1, 16)))
    report = _report_from(norm, "basic", set(), visit)
    ok(await api.post(f"/audits/{audit_id}/reports", json=report, headers=BUREAU), 201)


async def test_a_report_with_the_exemptions_the_norm_lists_is_accepted(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    norm = ok(await api.get("/norm"))
    exemptions = norm["exemptions"]
    certificate = exemptions["certificates"][0]
    audit_id = await _audit(
        api,
        clock,
        certificates=[{"certificate": certificate, "valid_until": "2030-01-01"}],
        professional_body=exemptions["professional_bodies"][-1],
    )
    visit = date(2026, 1, 15)
    plan = {"visit_date": visit.isoformat(), "planned_hours": "3"}
    ok(await api.post(f"/audits/{audit_id}/plan", json=plan, headers=BUREAU))
    clock.set(at(date(2026, 1, 16)))
    exempt = {
        *exemptions["certificate_exempts"],
        *exemptions["professional_body_exempts"]["opleiding"],
    }
    report = _report_from(norm, "basic", exempt, visit)
    assert report["verdicts"] == [{"requirement": 4, "met": True}]
    ok(await api.post(f"/audits/{audit_id}/reports", json=report, headers=BUREAU), 201)
