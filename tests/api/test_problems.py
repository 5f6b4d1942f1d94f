"""Every error is application/problem+json, whoever raised it."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Query
from pydantic import BaseModel, Field

from app.domain.errors import ErrorKind, KmopError

PROBLEM = "application/problem+json"


class Body(BaseModel):
    name: str = Field(min_length=1)
    hours: list[int]


class RuleBroken(KmopError):
    code = "rule-broken"
    kind = ErrorKind.CONFLICT
    title = "A rule forbids it"


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    @app.post("/echo/{item_id}")
    async def echo(item_id: int, body: Body, limit: int = Query(10, le=100)) -> Body:
        return body

    @app.get("/rule")
    async def rule() -> None:
        raise RuleBroken("the application is already open", application_id="a-1")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    return app


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith("/" + code)
    assert body["title"]
    assert body["detail"]
    return body  # type: ignore[no-any-return]


async def test_unknown_route_is_a_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/no/such/thing"), 404, "not-found")
    assert body["instance"] == "/no/such/thing"


async def test_wrong_method_is_a_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.delete("/healthz"), 405, "method-not-allowed")


async def test_validation_errors_point_at_each_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo/abc?limit=1000", json={"name": "", "hours": [1, "x"]})
    body = assert_problem(response, 422, "validation-failed")
    errors = body["errors"]
    assert isinstance(errors, list)
    pointers = {e.get("pointer") or e.get("parameter") for e in errors}
    assert pointers == {"#/name", "#/hours/1", "item_id", "limit"}
    assert all(e["detail"] for e in errors)


async def test_malformed_json_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/echo/1", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, "validation-failed")


async def test_domain_errors_carry_their_code_and_extensions(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/rule"), 409, "rule-broken")
    assert body["detail"] == "the application is already open"
    assert body["application_id"] == "a-1"


async def test_unexpected_errors_are_a_problem_without_internals(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/boom")
    body = assert_problem(response, 500, "internal-error")
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert body["instance"] == "/boom"
