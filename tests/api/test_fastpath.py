"""The command routes' short way through FastAPI (app/api/http/fastpath.py): it serves the command
routes, and leaves to FastAPI's own handler what it does not do itself."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request
from fastapi.dependencies.utils import request_params_to_args
from fastapi.routing import APIRoute
from starlette.datastructures import Headers

from app.api.http.auth import Principal, Role, authenticate
from app.api.http.fastpath import CommandRoute, _plan, command_headers
from app.api.routers import bureau, provider
from tests.api.support import PROVIDER, PROVIDER_KBO, application_body, ok, problem


def _route(method: str, path: str) -> APIRoute:
    for route in [*provider.router.routes, *bureau.router.routes]:
        if isinstance(route, APIRoute) and route.path == path and method in (route.methods or ()):
            return route
    raise AssertionError(f"no route {method} {path}")


def test_the_command_routes_take_the_short_way_and_the_reads_do_not() -> None:
    for path in (
        "/applications",
        "/audits/{audit_id}/reports",
        "/applications/{application_id}/audits",
    ):
        route = _route("POST", path)
        assert isinstance(route, CommandRoute)
        plan = _plan(route)
        assert plan is not None, path
        assert plan.principal_name == "principal"
        assert plan.command_name == "command"
    assert _plan(_route("GET", "/providers/{enterprise_number}/profile")) is None


async def test_dependency_overrides_are_honoured(app: FastAPI, client: httpx.AsyncClient) -> None:
    """With an override the short way steps aside: FastAPI's handler applies it (here a caller
    without a token is the provider the override says)."""
    body = application_body()
    problem(await client.post("/applications", json=body), 401, "unauthenticated")

    async def as_provider(request: Request) -> Principal:
        principal = Principal("override-app", Role.PROVIDER, enterprise_number=PROVIDER_KBO)
        request.state.principal = principal  # as authenticate keeps it
        return principal

    app.dependency_overrides[authenticate] = as_provider
    try:
        created = ok(await client.post("/applications", json=body), 201)
    finally:
        app.dependency_overrides.clear()
    assert created["enterprise_number"] == PROVIDER_KBO
    problem(await client.post("/applications", json=body), 401, "unauthenticated")


async def test_a_body_the_short_way_refuses_gets_fastapis_answer(client: httpx.AsyncClient) -> None:
    """Not JSON, or JSON that does not validate: FastAPI's 422, pointing at the place."""
    headers = {**PROVIDER, "Content-Type": "application/json"}
    broken = problem(
        await client.post("/applications", content=b'{"service_type": ', headers=headers),
        422,
        "validation-failed",
    )
    assert broken["errors"] == [{"pointer": "#/17", "detail": "JSON decode error"}]
    wrong = problem(
        await client.post(
            "/applications", json={**application_body(), "themes": "x"}, headers=PROVIDER
        ),
        422,
        "validation-failed",
    )
    assert [e["pointer"] for e in wrong["errors"]] == ["#/themes"]


def test_the_short_way_reads_the_command_headers_as_fastapi_validates_them() -> None:
    """``command_headers`` gives what FastAPI's validation of ``command_context``'s headers
    gives, and refuses (None: FastAPI answers) exactly what it refuses."""
    route = _route("POST", "/applications")
    plan = _plan(route)
    assert plan is not None
    assert plan.command_headers is not None
    fields = plan.command_headers.header_params
    keys = ["k-1", "a" * 255, "a" * 256, "", "with space", "caf\u00e9", "tab\tkey", "ok\n", "~!"]
    cases: list[list[tuple[bytes, bytes]]] = [
        [(b"if-match", b'"3"')],
        [(b"if-match", b"anything at all")],
        [(b"idempotency-key", b"first"), (b"idempotency-key", b"second bad")],
        [(b"idempotency-key", b"bad key"), (b"idempotency-key", b"good")],
        *([(b"idempotency-key", key.encode("latin-1")), (b"if-match", b"7")] for key in keys),
    ]
    for raw in cases:
        headers = Headers(raw=raw)  # as an ASGI server passes them: names in lower case
        values, errors = request_params_to_args(fields, headers)
        assert command_headers(headers) == (None if errors else values), raw
