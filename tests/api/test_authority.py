"""Who may call what: every route against every kind of caller, and the tokens themselves.

The role matrix walks every route the app serves (so a new route without an entry fails) with no
token, the agency, the owning provider, another provider, the assigned bureau and another bureau,
against real state built through the API. Then bad tokens (expired, forged, wrong audience, odd
claims, malformed headers), RS256 with a PEM public key and with a JWKS URL, and the refusal of
the development secret in production.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from jwt.algorithms import RSAAlgorithm
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.http.auth import TokenVerifier, Unauthenticated
from app.domain.identifiers import EnterpriseNumber, InvalidIdentifier
from app.main import create_app
from app.runtime.settings import DEVELOPMENT_JWT_SECRET, Settings
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

AUDIENCE = "kmop-registry"
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


# --- bad tokens ---------------------------------------------------------------------------


def claims(**changes: Any) -> dict[str, Any]:
    """An agency token's claims, valid for an hour; a change of None removes the claim."""
    base: dict[str, Any] = {
        "sub": "vlaio-backoffice",
        "role": "agency",
        "aud": AUDIENCE,
        "iat": int(time.time()),
        "exp": int(time.time()) + 3600,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def hs256(payload: dict[str, Any], secret: str = DEVELOPMENT_JWT_SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def invalid_token(response: httpx.Response) -> None:
    problem(response, 401, "unauthenticated")
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer")
    assert 'error="invalid_token"' in challenge


def segment(value: Any) -> str:
    raw = json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


INVALID_PROVIDER_KBO = "0400000000"

BAD_TOKENS: dict[str, Callable[[], str]] = {
    "expired": lambda: hs256(claims(exp=int(time.time()) - 3600)),
    "not yet valid": lambda: hs256(claims(nbf=int(time.time()) + 3600)),
    "signed with another secret": lambda: hs256(claims(), "another-secret-of-32-bytes-at-least"),
    "for another audience": lambda: hs256(claims(aud="another-service")),
    "without audience": lambda: hs256(claims(aud=None)),
    "without expiry": lambda: hs256(claims(exp=None)),
    "without subject": lambda: hs256(claims(sub=None)),
    "empty subject": lambda: hs256(claims(sub="")),
    "blank subject": lambda: hs256(claims(sub="   ")),
    "without role": lambda: hs256(claims(role=None)),
    "role admin": lambda: hs256(claims(role="admin")),
    "bureau without bureau_id": lambda: hs256(claims(role="bureau")),
    "bureau with empty bureau_id": lambda: hs256(claims(role="bureau", bureau_id="")),
    "provider with invalid enterprise number": lambda: hs256(
        claims(role="provider", enterprise_number=INVALID_PROVIDER_KBO)
    ),
    "provider without enterprise number": lambda: hs256(claims(role="provider")),
    "exp that is a numeric string": lambda: hs256(claims(exp=str(int(time.time()) + 3600))),
    "iat that is a numeric string": lambda: hs256(claims(iat=str(int(time.time())))),
    "nbf that is a numeric string": lambda: hs256(claims(nbf=str(int(time.time()) - 60))),
    "exp that is true": lambda: hs256(claims(exp=True)),
    "living longer than a day": lambda: hs256(claims(exp=int(time.time()) + 86400 + 3600)),
    "without iat, valid for a year": lambda: hs256(
        claims(iat=None, exp=int(time.time()) + 365 * 86400)
    ),
    "issued a week ago, valid for a week": lambda: hs256(
        claims(iat=int(time.time()) - 7 * 86400, exp=int(time.time()) + 3600)
    ),
    "longer than 8 KiB, well signed": lambda: hs256(claims(padding="x" * 9000)),
    "1.3 MB, well signed": lambda: hs256(claims(padding="x" * 1_300_000)),
    "alg none": lambda: jwt.encode(claims(), "", algorithm="none"),
    "HS512": lambda: jwt.encode(claims(), DEVELOPMENT_JWT_SECRET, algorithm="HS512"),
    "RS256 where no key is configured": lambda: jwt.encode(
        claims(), private_key(), algorithm="RS256"
    ),
    "not a jwt": lambda: "not-a-jwt",
    "three garbage segments": lambda: "a.b.c",
    "header that is a list": lambda: f"{segment([])}.{segment(claims())}.c2ln",
    "payload that is a list": lambda: (
        f"{segment({'alg': 'HS256', 'typ': 'JWT'})}.{segment([1])}.c2ln"
    ),
    "alg that is a number": lambda: f"{segment({'alg': 7})}.{segment(claims())}.c2ln",
}


def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


async def test_the_test_tokens_are_accepted(client: httpx.AsyncClient) -> None:
    """The control for the refusals below: the same claims, well signed, pass."""
    assert ok(await client.get("/bureaus", headers=bearer(hs256(claims()))))["items"] == []
    provider = claims(role="provider", enterprise_number=PROVIDER_KBO)
    ok(await client.get("/applications", headers=bearer(hs256(provider))))
    ok(await client.get("/audits", headers=bearer(hs256(claims(role="bureau", bureau_id="b")))))
    with pytest.raises(InvalidIdentifier):  # what the refused provider token below names
        EnterpriseNumber.parse(INVALID_PROVIDER_KBO)
    # Within the 30 seconds of clock skew an expired token still passes.
    ok(await client.get("/bureaus", headers=bearer(hs256(claims(exp=int(time.time()) - 5)))))


async def test_a_token_may_live_up_to_the_configured_maximum(engine: AsyncEngine) -> None:
    """The control for the lifetime refusals: up to KMOP_JWT_MAX_LIFETIME_SECONDS (from iat, or
    from now without iat) a token passes; a second more than that (beyond the skew) does not."""
    now = int(time.time())
    ok(await client_get(engine, claims(iat=now, exp=now + 23 * 3600)))  # the default: a day
    short = {"jwt_max_lifetime_seconds": 600}
    for fine in (claims(iat=now, exp=now + 600), claims(iat=None, exp=now + 600)):
        ok(await client_get(engine, fine, **short))
    ok(await client_get(engine, claims(iat=now + 0.5, exp=now + 300.25), **short))  # numbers
    for too_long in (claims(iat=now, exp=now + 700), claims(iat=None, exp=now + 700)):
        invalid_token(await client_get(engine, too_long, **short))


async def client_get(engine: AsyncEngine, payload: dict[str, Any], **settings: Any) -> Any:
    app = create_app(Settings(environment="test", **settings), engine=engine)
    async with client_for(app) as client:
        return await client.get("/bureaus", headers=bearer(hs256(payload)))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # HS512, dev secret
@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
async def test_a_bad_token_is_refused_with_invalid_token(
    client: httpx.AsyncClient, case: str
) -> None:
    token = BAD_TOKENS[case]()
    invalid_token(await client.get("/bureaus", headers=bearer(token)))
    # A command is refused the same way, before its (missing) body is looked at.
    invalid_token(await client.post("/bureaus", headers=bearer(token)))


@pytest.mark.parametrize(
    "authorization",
    ["Basic xyz", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token abc", "bearer", "Digest x"],
)
async def test_an_authorization_that_is_no_bearer_token_is_refused(
    client: httpx.AsyncClient, authorization: str
) -> None:
    response = await client.get("/bureaus", headers={"Authorization": authorization})
    problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_malformed_bearer_token_is_refused_never_a_500(client: httpx.AsyncClient) -> None:
    for token in ("not-a-jwt", "x" * 5000, "..", "a.b", "é.é.é", "Bearer abc", "\x00.\x01.\x02"):
        authorization = f"Bearer {token}".encode("latin-1")  # as raw bytes, as a client may send
        invalid_token(await client.get("/bureaus", headers={b"Authorization": authorization}))


# --- RS256: a PEM public key, a JWKS URL --------------------------------------------------


def client_for(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def rs256(key: rsa.RSAPrivateKey, payload: dict[str, Any], kid: str | None = None) -> str:
    headers = {"kid": kid} if kid else None
    return jwt.encode(payload, key, algorithm="RS256", headers=headers)


async def test_rs256_tokens_are_verified_with_the_configured_public_key(
    engine: AsyncEngine,
) -> None:
    key = private_key()
    app = create_app(Settings(environment="test", jwt_public_key=public_pem(key)), engine=engine)
    async with client_for(app) as client:
        ok(await client.get("/bureaus", headers=bearer(rs256(key, claims()))))
        bureau = claims(role="bureau", bureau_id=BUREAU_ID)
        ok(await client.get("/audits", headers=bearer(rs256(key, bureau))))
        # Signed by another key, or expired: refused.
        invalid_token(await client.get("/bureaus", headers=bearer(rs256(private_key(), claims()))))
        expired = claims(exp=int(time.time()) - 3600)
        invalid_token(await client.get("/bureaus", headers=bearer(rs256(key, expired))))
        # With a public key configured, the development secret no longer signs anything.
        invalid_token(await client.get("/bureaus", headers=bearer(hs256(claims()))))
        invalid_token(await client.get("/bureaus", headers=AGENCY))


class JwksServer:
    """A JWKS document served over HTTP from a thread, on a free port of 127.0.0.1 (bytes are
    served as they are, anything else as JSON)."""

    def __init__(self, document: Any) -> None:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                if self.path != "/jwks.json":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"

    def __enter__(self) -> JwksServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


async def test_rs256_tokens_are_verified_with_the_keys_of_a_jwks_url(engine: AsyncEngine) -> None:
    key, stranger = private_key(), private_key()
    jwk: dict[str, Any] = dict(RSAAlgorithm.to_jwk(key.public_key(), as_dict=True))
    jwk.update(kid="kmop-2026", use="sig", alg="RS256")
    with JwksServer({"keys": [jwk]}) as jwks:
        app = create_app(Settings(environment="test", jwks_url=jwks.url), engine=engine)
        async with client_for(app) as client:
            accepted = await client.get(
                "/bureaus", headers=bearer(rs256(key, claims(), kid="kmop-2026"))
            )
            ok(accepted)
            assert jwks.requests >= 1  # the key did come from the JWKS URL
            # Another key claiming the same kid, or an unknown kid: refused.
            for token in (
                rs256(stranger, claims(), kid="kmop-2026"),
                rs256(stranger, claims(), kid="kmop-other"),
                hs256(claims()),  # and the development secret is not in force
            ):
                invalid_token(await client.get("/bureaus", headers=bearer(token)))
            provider = claims(role="provider", enterprise_number=PROVIDER_KBO)
            mine = rs256(key, provider, kid="kmop-2026")
            assert ok(await client.get("/applications", headers=bearer(mine)))["items"] == []
    assert not jwks.thread.is_alive()


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({"keys": []}, id="no keys"),
        pytest.param({"keys": [{"kty": "XX", "kid": "kmop-2026"}]}, id="no usable key"),
        pytest.param(b"<html>Service Unavailable</html>", id="not json"),
        pytest.param([], id="not an object"),
    ],
)
async def test_a_broken_jwks_endpoint_is_a_problem_never_a_500(
    engine: AsyncEngine, document: Any
) -> None:
    """Whatever the key server answers, the caller gets a problem it can act on: 503 with
    Retry-After (the fault is ours, the token may be fine), never an internal error."""
    key = private_key()
    with JwksServer(document) as jwks:
        app = create_app(Settings(environment="test", jwks_url=jwks.url), engine=engine)
        async with client_for(app) as client:
            token = rs256(key, claims(), kid="kmop-2026")
            response = await client.get("/bureaus", headers=bearer(token))
            assert jwks.requests >= 1
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "token-keys-unavailable"
    assert int(response.headers["Retry-After"]) > 0


async def test_an_unreachable_jwks_endpoint_is_a_problem_never_a_500(engine: AsyncEngine) -> None:
    with JwksServer({"keys": []}) as jwks:
        url = jwks.url  # a port that nothing listens on once the server is shut down
    app = create_app(Settings(environment="test", jwks_url=url), engine=engine)
    async with client_for(app) as client:
        token = rs256(private_key(), claims(), kid="kmop-2026")
        response = await client.get("/bureaus", headers=bearer(token))
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert "127.0.0.1" not in response.text  # no internal addresses in the answer


# --- production ---------------------------------------------------------------------------

PRODUCTION_DATABASE = "postgresql://kmop:secret@db.example:5432/kmop"


@pytest.fixture
def no_jwt_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KMOP_JWT_SECRET", "KMOP_JWT_PUBLIC_KEY", "KMOP_JWKS_URL", "KMOP_JWT_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)


def production(**fields: Any) -> Settings:
    return Settings(
        _env_file=None,  # the values given, not a developer's .env
        environment="production",
        database_url=PRODUCTION_DATABASE,
        **fields,
    )


@pytest.mark.usefixtures("no_jwt_environment")
def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValueError, match="development JWT secret"):
        TokenVerifier(production(jwt_secret=SecretStr(DEVELOPMENT_JWT_SECRET)))
    with pytest.raises(ValueError, match="development JWT secret"):
        create_app(production(jwt_secret=SecretStr(DEVELOPMENT_JWT_SECRET)))


@pytest.mark.usefixtures("no_jwt_environment")
def test_production_refuses_to_start_without_a_way_to_verify_tokens() -> None:
    settings = production()
    assert settings.signing_secret() is None  # no silent fallback to the development secret
    with pytest.raises(ValueError, match="no way to verify tokens"):
        TokenVerifier(settings)


@pytest.mark.usefixtures("no_jwt_environment")
async def test_production_verifies_with_its_own_secret_or_key() -> None:
    secret = "a-production-secret-that-nobody-else-knows"
    verifier = TokenVerifier(production(jwt_secret=SecretStr(secret)))
    principal = await verifier.verify(hs256(claims(), secret))
    assert principal.client_id == "vlaio-backoffice"
    with pytest.raises(Unauthenticated, match="not valid") as refused:
        await verifier.verify(hs256(claims()))  # the development secret signs nothing here
    assert refused.value.headers == {
        "WWW-Authenticate": 'Bearer realm="kmop-registry", error="invalid_token"'
    }
    key = private_key()
    keyed = TokenVerifier(production(jwt_public_key=public_pem(key)))
    assert (await keyed.verify(rs256(key, claims()))).role.value == "agency"
