"""Who may call what: every route against every kind of caller.

The role matrix walks every route the app serves (so a new route without an entry fails) with no
token, the agency, the owning provider, another provider, the assigned bureau and another bureau,
against real state built through the API. The tokens themselves (bad ones, RS256, production):
tests/api/test_authority_tokens.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.services.clock import FixedClock
from tests.api.support import (
    AGENCY,
    BUREAU,
    BUREAU_ID,
    OTHER_BUREAU,
    OTHER_BUREAU_ID,
    OTHER_PROVIDER,
    PROBLEM,
    PROVIDER,
    PROVIDER_KBO,
    bureau_body,
    ok,
    problem,
    register,
    report_body,
)
from tests.integration.scenarios import enterprise_number

VISIT = date(2026, 1, 15)
REGISTRATION_NUMBER = "DV.O000001"
RATING_REFERENCE = "rating-2026-000001"
OTHER_BUREAU_KBO = str(enterprise_number(901))
CLIENT_KBO = str(enterprise_number(500))
PUBLIC_ROUTES = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/norm",  # the kmop-norm, public: tests/api/test_norm.py
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/openapi.json",
}

# --- the role matrix ----------------------------------------------------------------------

CALLERS: dict[str, dict[str, str]] = {
    "anonymous": {},
    "agency": AGENCY,
    "provider": PROVIDER,  # owns the application, its audit and DV.O000001
    "other_provider": OTHER_PROVIDER,
    "bureau": BUREAU,  # bureau-kiwa: the audit is assigned to it
    "other_bureau": OTHER_BUREAU,  # bureau-dnv: appointed, but audits nothing here
}

# The expected status per operation (the route's name, which is its operation id) and caller.
# 401: no token. 403: a role the route is not for. 404: another's resource (no existence leak).
# Otherwise what the rightful caller gets with the body below: 200 for reads, 409 for commands
# the state already went past (nothing changes), 422 for bodies that are deliberately invalid.
# fmt: off
EXPECTED: dict[str, tuple[int, int, int, int, int, int]] = {
    #                             anonymous agency provider other_provider bureau other_bureau
    # provider.py: providers only, within their own enterprise
    "submit_application":         (401, 403, 422, 422, 403, 403),
    "choose_audit_bureau":        (401, 403, 409, 404, 403, 403),
    "choose_follow_up_bureau":    (401, 403, 409, 404, 403, 403),
    "react_to_failed_audit":      (401, 403, 409, 404, 403, 403),
    # bureau.py: bureaus only, the audits assigned to theirs
    "plan_audit":                 (401, 403, 403, 403, 409, 404),
    "submit_audit_report":        (401, 403, 403, 403, 409, 404),
    # agency.py: the agency only
    "record_sworn_declaration":   (401, 409, 403, 403, 403, 403),
    "record_decision":            (401, 409, 403, 403, 403, 403),
    "stop_registration":          (401, 422, 403, 403, 403, 403),
    "appoint_bureau":             (401, 409, 403, 403, 403, 403),
    "retire_bureau":              (401, 422, 403, 403, 403, 403),
    "record_rating":              (401, 409, 403, 403, 403, 403),
    "get_rating":                 (401, 200, 403, 403, 403, 403),
    "run_deadline_job":           (401, 200, 403, 403, 403, 403),
    "preview_deadlines":          (401, 200, 403, 403, 403, 403),
    "registration_history":       (401, 200, 403, 403, 403, 403),
    # projects.py: the agency records and decides; the provider checks those filed with it
    "record_project":             (401, 409, 403, 403, 403, 403),
    "list_projects":              (401, 200, 200, 200, 403, 403),
    "get_project":                (401, 200, 200, 404, 403, 403),
    "confirm_project":            (401, 403, 409, 404, 403, 403),
    "dispute_project":            (401, 403, 409, 404, 403, 403),
    "approve_project":            (401, 409, 403, 403, 403, 403),
    "stop_project":               (401, 409, 403, 403, 403, 403),
    "reclaim_project":            (401, 422, 403, 403, 403, 403),
    # attest.py: the attest of registration, for the provider itself and the agency
    "download_attest":            (401, 200, 200, 404, 403, 403),
    # feed.py: every role, the events of its own scope (tests/api/test_audience_feed.py)
    "read_event_feed":            (401, 200, 200, 200, 200, 200),
    "stream_events":              (401, 200, 200, 200, 200, 200),
    # webhooks.py: every role registers its own; a webhook's log is its registering client's
    "register_webhook":           (401, 422, 422, 422, 422, 422),
    "list_webhooks":              (401, 200, 200, 200, 200, 200),
    "list_webhook_deliveries":    (401, 404, 200, 404, 404, 404),
    "remove_webhook":             (401, 404, 204, 404, 404, 404),  # after the two above
    # reads.py: every role, each within its scope
    "list_registrations":         (401, 200, 200, 200, 200, 200),
    "get_registration":           (401, 200, 200, 404, 200, 404),
    "list_applications":          (401, 200, 200, 200, 200, 200),
    "get_application":            (401, 200, 200, 404, 200, 404),
    "list_audits":                (401, 200, 200, 200, 200, 200),
    "get_audit":                  (401, 200, 200, 404, 200, 404),
    "list_bureaus":               (401, 200, 200, 200, 200, 200),
    "get_bureau":                 (401, 200, 200, 200, 200, 200),
    # the provider's public profile: kept by the provider, read by it and the agency
    "get_profile":                (401, 200, 200, 404, 403, 403),
    "update_profile":             (401, 403, 422, 422, 403, 403),
    # public.py: anyone, with or without a token
    "search_providers":           (200, 200, 200, 200, 200, 200),
    "public_provider":            (200, 200, 200, 200, 200, 200),
    "search_options":             (200, 200, 200, 200, 200, 200),
    "registered_on":              (200, 200, 200, 200, 200, 200),
    # opendata.py: the register as open data, anyone
    "open_data_csv":              (200, 200, 200, 200, 200, 200),
    "open_data_json":             (200, 200, 200, 200, 200, 200),
    "open_data_description":      (200, 200, 200, 200, 200, 200),
}
# fmt: on

PROJECT_ID = "kmop-2026-000001"
PROJECT = {
    "project_id": PROJECT_ID,
    "client_enterprise_number": CLIENT_KBO,
    "registration_number": REGISTRATION_NUMBER,
    "service_type": "opleiding",
    "theme": "digitalisering",
    "start_date": "2026-01-21",
    "end_date": "2026-01-22",
    "price_excluding_vat": "900.00",
    "vat": "189.00",
    "participants": 3,
    "training_days": "2",
}

RATING = {
    "reference": RATING_REFERENCE,
    "project_id": PROJECT_ID,
    "client_enterprise_number": CLIENT_KBO,
    "score": 4,
    "rated_on": "2026-01-22",
}

# The body each command is sent by the callers that get past authentication and the role check.
# Valid bodies where the scope must be looked at (a 404 needs the handler to run) and the state
# refuses the command (409, nothing written); an invalid body (422) where a valid one would
# change the state. Routes without an entry take no body.
BODIES: dict[str, Any] = {
    "submit_application": {},
    "choose_audit_bureau": {"bureau_id": BUREAU_ID},
    "choose_follow_up_bureau": {"bureau_id": BUREAU_ID},
    "react_to_failed_audit": {"reaction": "Klanttevredenheid wordt nu gemeten."},
    "plan_audit": {"visit_date": VISIT.isoformat(), "planned_hours": "6"},
    "submit_audit_report": report_body(range(1, 6), visit=VISIT),
    "record_sworn_declaration": {},
    "record_decision": {"granted": True},
    "stop_registration": {},
    "appoint_bureau": bureau_body(),
    "retire_bureau": {},
    "record_rating": RATING,
    "record_project": PROJECT,  # recorded already
    "dispute_project": {"reason": "wrong_amount", "comment": "Het bedrag klopt niet."},
    "stop_project": {"reason": "Misbruik vastgesteld"},  # approved already
    "reclaim_project": {},  # would reclaim the approved project: no reason
    "update_profile": {"themes": ["koken"]},  # not an eligible theme
    "register_webhook": {"url": "ftp://integrator.example.com/kmop"},  # not https
}


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def api_routes(app: FastAPI) -> dict[str, tuple[str, str]]:
    """Every route of the app that needs a token: name -> (method, path).

    Since FastAPI 0.137 ``app.routes`` holds one opaque entry per included router rather than
    its routes, so the routes are walked through ``iter_route_contexts``, which yields each
    APIRoute however it was included, with its effective path."""
    routes: dict[str, tuple[str, str]] = {}
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        assert context.path is not None
        assert context.name is not None
        if context.path in PUBLIC_ROUTES:
            continue
        methods = context.methods or set()
        assert len(methods) == 1, (context.name, methods)
        assert context.name not in routes, f"two routes are named {context.name}"
        routes[context.name] = (next(iter(methods)), context.path)
    return routes


async def count_events(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM events")) or 0)


async def build_state(api: httpx.AsyncClient, clock: FixedClock) -> dict[str, str]:
    """Two appointed bureaus, one application of PROVIDER declared, audited by bureau-kiwa,
    passed and granted (DV.O000001), one project filed with PROVIDER, confirmed, approved and
    rated by its client: a real id for every path parameter."""
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    ok(
        await api.post(
            "/bureaus", json=bureau_body(OTHER_BUREAU_ID, OTHER_BUREAU_KBO), headers=AGENCY
        ),
        201,
    )
    registered = await register(api, clock, PROVIDER)
    application_id, audit_id = registered.application_id, registered.audit_id
    registration = ok(await api.get(f"/registrations/{REGISTRATION_NUMBER}", headers=PROVIDER))
    assert registration["status"] == "registered"
    assert registration["registration_number"] == REGISTRATION_NUMBER
    ok(await api.post("/projects", json=PROJECT, headers=AGENCY), 201)
    ok(await api.post(f"/projects/{PROJECT_ID}/confirmation", headers=PROVIDER))
    clock.set(at(date(2026, 1, 23)))
    ok(await api.post(f"/projects/{PROJECT_ID}/approval", headers=AGENCY))
    ok(await api.post("/ratings", json=RATING, headers=AGENCY), 201)
    webhook = {"url": "http://127.0.0.1:9/kmop"}  # never called: tests run no dispatcher
    webhook_id = ok(await api.post("/webhooks", json=webhook, headers=PROVIDER), 201)["webhook_id"]
    return {
        "project_id": PROJECT_ID,
        "application_id": application_id,
        "audit_id": audit_id,
        "ref": REGISTRATION_NUMBER,
        "number": REGISTRATION_NUMBER,
        "bureau_id": BUREAU_ID,
        "reference": RATING_REFERENCE,
        "enterprise_number": PROVIDER_KBO,
        "webhook_id": webhook_id,
    }


def check(
    response: httpx.Response, name: str, caller: str, expected: int, failures: list[str]
) -> None:
    """Collects every mismatch, so one run shows the whole matrix's disagreements."""
    where = f"{name} as {caller}: expected {expected}, got {response.status_code}"
    if response.status_code != expected:
        failures.append(f"{where}: {response.text[:300]}")
        return
    if expected in (401, 403, 404):
        code = {401: "unauthenticated", 403: "forbidden", 404: "not-found"}[expected]
        if response.headers.get("content-type") != PROBLEM:
            failures.append(f"{where} but content-type {response.headers.get('content-type')}")
        elif response.json().get("code") != code:
            failures.append(f"{where} but code {response.json().get('code')!r}, not {code!r}")
    if expected == 401:
        challenge = response.headers.get("WWW-Authenticate", "")
        if not challenge.startswith("Bearer"):
            failures.append(f"{where} but WWW-Authenticate is {challenge!r}")


async def test_every_route_answers_each_kind_of_caller_as_its_role_and_scope_allow(
    api: httpx.AsyncClient, clocked_app: FastAPI, clock: FixedClock, engine: AsyncEngine
) -> None:
    routes = api_routes(clocked_app)
    assert len(routes) >= 20, routes  # the walk found the routers' routes, not just the docs
    schema_operations = {
        operation["operationId"]
        for path, item in clocked_app.openapi()["paths"].items()
        for operation in item.values()
        if path not in PUBLIC_ROUTES
    }
    assert set(routes) == schema_operations
    assert set(EXPECTED) == set(routes), (
        f"routes without an entry: {sorted(set(routes) - set(EXPECTED))}; "
        f"entries without a route: {sorted(set(EXPECTED) - set(routes))}"
    )
    assert set(BODIES) <= {name for name, (method, _) in routes.items() if method == "POST"}

    ids = await build_state(api, clock)
    before = await count_events(engine)
    # As when the service stops, event streams end at once: a client that reads the whole
    # response (httpx's ASGI transport) gets its status instead of waiting forever.
    clocked_app.state.stopping.set()

    failures: list[str] = []
    for name, (method, path) in sorted(routes.items()):
        url = path.format(**ids)
        for caller, expected in zip(CALLERS, EXPECTED[name], strict=True):
            headers = CALLERS[caller]
            if expected in (401, 403) or name not in BODIES:
                # Authentication and the role are checked before the body: none is sent.
                response = await api.request(method, url, headers=headers)
            else:
                response = await api.request(method, url, json=BODIES[name], headers=headers)
            check(response, name, caller, expected, failures)
    assert not failures, "\n".join(failures)
    assert await count_events(engine) == before  # the matrix changed nothing


async def test_another_providers_resource_looks_like_one_that_does_not_exist(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    ids = await build_state(api, clock)
    for path in (
        f"/applications/{ids['application_id']}",
        f"/audits/{ids['audit_id']}",
        f"/registrations/{REGISTRATION_NUMBER}",
    ):
        hidden = problem(await api.get(path, headers=OTHER_PROVIDER), 404, "not-found")
        absent = problem(await api.get(path + "9", headers=OTHER_PROVIDER), 404, "not-found")
        assert hidden["title"] == absent["title"]
        problem(await api.get(path, headers=OTHER_BUREAU), 404, "not-found")
    # Lists are scoped the same way: the others see none of it.
    for headers in (OTHER_PROVIDER, OTHER_BUREAU):
        for listing in ("/applications", "/audits", "/registrations"):
            assert ok(await api.get(listing, headers=headers))["items"] == []
    for headers in (AGENCY, PROVIDER, BUREAU):
        for listing in ("/applications", "/audits", "/registrations"):
            assert len(ok(await api.get(listing, headers=headers))["items"]) == 1
