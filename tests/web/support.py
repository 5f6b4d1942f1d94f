"""Registered providers for the web page's tests, made through the API as in real life: the
agency appoints a bureau, each provider applies, is declared, audited, passes and is granted;
then it writes its public profile and clients rate it, each of a project it bought."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from app.api.http.auth import Role
from app.services.clock import FixedClock
from tests.api.support import AGENCY, auth, bought, bureau_body, ok
from tests.api.support import register as register_unit
from tests.integration.scenarios import enterprise_number

DECIDED = date(2026, 1, 20)


@dataclass(frozen=True)
class Provider:
    kbo: str
    name: str
    service_types: tuple[str, ...] = ("opleiding",)
    profile: dict[str, Any] = field(default_factory=dict)
    scores: tuple[int, ...] = ()


async def register(
    api: httpx.AsyncClient, clock: FixedClock, providers: list[Provider]
) -> dict[str, list[str]]:
    """Drive every unit of every provider to "registered" (decided on DECIDED); the registration
    numbers per enterprise number. The clock ends on DECIDED."""
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    for provider in providers:
        for service_type in provider.service_types:
            await register_unit(
                api,
                clock,
                _provider(provider.kbo),
                service_type=service_type,
                provider_name=provider.name,
                activities="Opleidingen en advies voor kmo's",
                themes=["digitalisering"],
            )
    numbers: dict[str, list[str]] = {}
    for n, provider in enumerate(providers):
        headers = _provider(provider.kbo)
        if provider.profile:
            ok(
                await api.post(
                    f"/providers/{provider.kbo}/profile", json=provider.profile, headers=headers
                )
            )
        mine = ok(await api.get("/registrations", headers=headers))["items"]
        numbers[provider.kbo] = sorted(r["registration_number"] for r in mine)
        for i, score in enumerate(provider.scores):
            client = str(enterprise_number(500 + i))
            project_id = f"project-{n}-{i}"
            await bought(api, project_id, numbers[provider.kbo][0], client, DECIDED)
            rating = {
                "reference": f"rating-{n}-{i}",
                "project_id": project_id,
                "client_enterprise_number": client,
                "score": score,
                "rated_on": DECIDED.isoformat(),
            }
            ok(await api.post("/ratings", json=rating, headers=AGENCY), 201)
    return numbers


def _provider(kbo: str) -> dict[str, str]:
    return auth(Role.PROVIDER, sub=f"provider-{kbo}", enterprise_number=kbo)
