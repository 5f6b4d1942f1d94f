"""The request examples of the OpenAPI document, and the states in which each applies.

``OPERATIONS`` walks the document: every operation with a request body, with its example and
the role that sends it. ``BUILDERS`` brings a fresh registry, through the API, to a state in
which an operation's command applies; the states are built from the other operations'
examples, so the examples tell one coherent story: kiwa is appointed, the provider of the
examples applies, is declared, audited and registered, and so on.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx

from app.api.http.auth import Role
from app.cli.openapi import document
from app.domain.events import AuditResult
from app.services.clock import FixedClock
from tests.api.support import auth

DOCUMENT = document()


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    role: Role
    example: dict[str, Any] | None


def _operations() -> dict[str, Operation]:
    schemas = DOCUMENT["components"]["schemas"]
    found = {}
    for path, methods in DOCUMENT["paths"].items():
        for method, op in methods.items():
            body = op.get("requestBody")
            if body is None:
                continue
            media = body["content"]["application/json"]
            ref = media["schema"]["$ref"].rsplit("/", 1)[-1]
            examples = media.get("examples") or schemas[ref].get("examples") or [None]
            found[op["operationId"]] = Operation(
                op["operationId"], method, path, Role(op["tags"][0]), examples[0]
            )
    return found


OPERATIONS = _operations()


def example(operation_id: str) -> dict[str, Any]:
    found = OPERATIONS[operation_id].example
    assert found is not None, f"{operation_id} has no request example"
    return found


# The parties the examples name: kiwa (bureau-kiwa, 0417.497.106) audits, the provider
# 0403.170.701 applies.
EXAMPLE_PROVIDER = "0403170701"
HEADERS = {
    Role.AGENCY: auth(Role.AGENCY, sub="vlaio-backoffice"),
    Role.BUREAU: auth(Role.BUREAU, sub="kiwa-software", bureau_id="bureau-kiwa"),
    Role.PROVIDER: auth(Role.PROVIDER, sub="provider-app", enterprise_number=EXAMPLE_PROVIDER),
}


def on(day: str) -> datetime:
    d = date.fromisoformat(day)
    return datetime(d.year, d.month, d.day, 10, tzinfo=UTC)


@dataclass
class Story:
    api: httpx.AsyncClient
    clock: FixedClock
    ids: dict[str, str] = field(
        default_factory=lambda: {
            "enterprise_number": EXAMPLE_PROVIDER,
            "bureau_id": example("appoint_bureau")["bureau_id"],
        }
    )

    def url(self, path: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: self.ids[m.group(1)], path)

    async def request(self, operation_id: str, body: Any = None) -> httpx.Response:
        op = OPERATIONS[operation_id]
        sent = example(operation_id) if body is None else body
        return await self.api.request(
            op.method, self.url(op.path), json=sent, headers=HEADERS[op.role]
        )

    async def send(self, operation_id: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.request(operation_id, body)
        assert 200 <= response.status_code < 300, (operation_id, body, response.text)
        return response.json()


# --- the states, each built from the one before ---------------------------------------------


async def appointed(story: Story) -> None:
    story.clock.set(on("2026-11-02"))
    await story.send("appoint_bureau")


async def applied(story: Story) -> None:
    await appointed(story)
    story.ids["application_id"] = (await story.send("submit_application"))["application_id"]


async def declared(story: Story) -> None:
    await applied(story)
    story.clock.set(on(example("record_sworn_declaration")["received_on"]))
    await story.send("record_sworn_declaration")


async def assigned(story: Story) -> None:
    await declared(story)
    story.ids["audit_id"] = (await story.send("choose_audit_bureau"))["audit_id"]


async def planned(story: Story) -> None:
    await assigned(story)
    story.clock.set(on("2026-11-25"))  # the visit is planned ahead
    await story.send("plan_audit")


async def reported(story: Story, **changes: Any) -> None:
    await planned(story)
    story.clock.set(on("2026-12-16"))  # the day after the visit
    await story.send("submit_audit_report", {**example("submit_audit_report"), **changes})


def _lacking(requirement: int) -> list[dict[str, Any]]:
    verdicts = example("submit_audit_report")["verdicts"]
    return [{**v, "met": v["requirement"] != requirement} for v in verdicts]


async def failed(story: Story) -> None:
    await reported(story, result="failed", verdicts=_lacking(3))
    story.clock.set(on("2027-01-05"))


async def granted(story: Story, **report: Any) -> None:
    await reported(story, **report)
    story.clock.set(on(example("record_decision")["decision_date"]))
    story.ids["ref"] = (await story.send("record_decision"))["registration_number"]
    story.clock.set(on("2027-01-10"))


async def granted_conditionally(story: Story) -> None:
    await granted(
        story,
        result=AuditResult.CONDITIONALLY_PASSED.value,
        verdicts=_lacking(3),
        follow_up_deadline="2027-06-15",
    )


async def project_recorded(story: Story) -> None:
    """The example's project, filed with the provider of the examples (DV.O000001), recorded
    six days after its start."""
    await granted(story)
    story.ids["project_id"] = (await story.send("record_project"))["project_id"]


async def project_approved(story: Story) -> None:
    await project_recorded(story)
    story.clock.set(on("2027-01-20"))
    response = await story.api.post(
        story.url("/projects/{project_id}/approval"), headers=HEADERS[Role.AGENCY]
    )
    assert response.status_code == 200, response.text


BUILDERS: dict[str, Callable[[Story], Awaitable[None]]] = {
    "appoint_bureau": lambda story: _at(story, "2026-11-02"),
    "register_webhook": appointed,  # a webhook needs no state: it follows what is to come
    "submit_application": appointed,
    "update_profile": applied,
    "record_sworn_declaration": lambda story: _then(applied, story, "2026-11-20"),
    "choose_audit_bureau": declared,
    "plan_audit": lambda story: _then(assigned, story, "2026-11-25"),
    "submit_audit_report": lambda story: _then(planned, story, "2026-12-16"),
    "record_decision": lambda story: _then(reported, story, "2026-12-20"),
    "react_to_failed_audit": failed,
    "choose_follow_up_bureau": granted_conditionally,
    "stop_registration": granted,
    "record_rating": project_approved,
    "retire_bureau": appointed,
    "record_project": granted,
    "dispute_project": project_recorded,
    "stop_project": project_recorded,
    "reclaim_project": project_approved,
    # the example's instant is in the past of the (test) clock: what an operator re-runs
    "run_deadline_job": lambda story: _then(appointed, story, "2026-12-02"),
}


async def _at(story: Story, day: str) -> None:
    story.clock.set(on(day))


async def _then(state: Callable[[Story], Awaitable[None]], story: Story, day: str) -> None:
    await state(story)
    story.clock.set(on(day))
