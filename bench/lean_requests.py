"""What ``bench/lean.py`` sends: this service's command bodies and the provider tokens, audits
and projects they need, prepared before a load so that every request is a distinct valid one."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date

import asyncpg

from app.api.http.auth import Role, mint_token
from app.runtime.settings import DEVELOPMENT_JWT_SECRET
from bench import commands
from bench.history import PlannedAudit

# --- requests ----------------------------------------------------------------------------------


def application_template() -> str:
    body = dict(commands.application(0).body)
    body["provider_name"] = "Vormingscentrum Belasting {n}"
    return json.dumps(body, ensure_ascii=False)


class Tokens:
    """Provider tokens of fresh enterprises, each used once: "/applications<TAB>token" lines."""

    def __init__(self) -> None:
        self.next = 0

    def take(self, count: int) -> list[str]:
        lines = []
        for n in range(self.next, self.next + count):
            token = mint_token(
                DEVELOPMENT_JWT_SECRET,
                subject=f"provider-lean-{n}",
                role=Role.PROVIDER,
                enterprise_number=str(commands.new_enterprise(n)),
                ttl_seconds=6 * 3600,
            )
            lines.append(f"/applications\t{token}")
        self.next += count
        return lines


class Reports:
    """The planned audits' report requests, each used once: "path<TAB>bureau token" lines."""

    def __init__(self, audits: Sequence[PlannedAudit]) -> None:
        self.tokens = {
            bureau_id: commands.bureau_token(bureau_id)
            for bureau_id in {audit.bureau_id for audit in audits}
        }
        headers = {b: {"Authorization": f"Bearer {t}"} for b, t in self.tokens.items()}
        bodies = {json.dumps(commands.report(a, headers).body) for a in audits}
        if len(bodies) != 1:  # the planned audits are alike: one body fits them all
            raise AssertionError(f"{len(bodies)} different report bodies")
        self.template = bodies.pop()
        self.audits: Iterator[PlannedAudit] = iter(audits)
        self.left = len(audits)

    def take(self, count: int) -> list[str]:
        count = min(count, self.left)
        self.left -= count
        return [
            f"/audits/{a.audit_id}/reports\t{self.tokens[a.bureau_id]}"
            for a in (next(self.audits) for _ in range(count))
        ]


class Projects:
    """Subsidy projects the agency records, a new one per request (its id the request's unique
    key): "/projects<TAB>agency token" lines, filed with ``number`` and starting ``day``."""

    def __init__(self, number: str, day: date) -> None:
        self.token = mint_token(
            DEVELOPMENT_JWT_SECRET, subject="agency-lean", role=Role.AGENCY, ttl_seconds=6 * 3600
        )
        body = {
            "project_id": "project-{n}",
            "client_enterprise_number": str(commands.new_enterprise(999_999)),
            "registration_number": number,
            "service_type": "opleiding",
            "theme": "digitalisering",
            "start_date": day.isoformat(),
            "end_date": day.isoformat(),
            "price_excluding_vat": "1200.00",
            "vat": "252.00",
            "participants": 4,
            "training_days": "1",
            "catering_cost": "80.00",
        }
        self.template = json.dumps(body)

    def take(self, count: int) -> list[str]:
        return [f"/projects\t{self.token}"] * count


async def a_training_number(dsn: str) -> str:
    """A training registration the store holds (projects filed with it are judged on its unit's
    events), or a number none does (the findings say so; no unit to fold)."""
    conn = await asyncpg.connect(dsn)
    try:
        number = await conn.fetchval(
            "SELECT registration_number FROM registrations WHERE registration_number LIKE"
            " 'DV.O%' ORDER BY registration_number LIMIT 1"
        )
    finally:
        await conn.close()
    return str(number or "DV.O999999")
