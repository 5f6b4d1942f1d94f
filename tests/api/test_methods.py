"""HTTP methods over every route of the app: HEAD answers like GET without a body, OPTIONS
answers 204 with every method of the path, and every 405 has a complete Allow."""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict

import httpx
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from tests.api.support import AGENCY, PROVIDER_KBO

VOLATILE = {"date", "x-request-id"}
PROBED = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE")
# Path parameters that name something real enough for the route to answer (not a 422).
SAMPLES = {"enterprise_number": PROVIDER_KBO, "ref": "DV.O000001"}


def path_methods(app: FastAPI) -> dict[str, set[str]]:
    """Every route's concrete path (parameters filled in) and the methods declared for it."""
    paths: dict[str, set[str]] = defaultdict(set)
    for context in iter_route_contexts(app.routes):
        assert context.path is not None
        path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLES.get(m.group(1), "x-1"), context.path)
        if isinstance(context.original_route, Mount):
            paths[f"{path}/site.css" if path == "/static" else f"{path}/x.css"] |= {"GET", "HEAD"}
        else:
            paths[path] |= set(context.methods or ())
    return paths


def expected_allow(methods: set[str]) -> set[str]:
    return methods | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())


def allowed(response: httpx.Response) -> set[str]:
    return {m.strip() for m in response.headers["Allow"].split(",")}


async def test_options_answers_every_method_of_every_path(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    paths = path_methods(app)
    assert len(paths) > 30
    for path, methods in paths.items():
        response = await client.options(path)
        assert response.status_code == 204, (path, response.status_code, response.text)
        assert response.content == b""
        assert allowed(response) == expected_allow(methods), path
    problem = await client.options("/no-such-path")
    assert problem.status_code == 404


async def test_every_405_lists_every_method_of_its_path(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    refused = 0
    for path, methods in path_methods(app).items():
        for method in set(PROBED) - expected_allow(methods):
            response = await client.request(method, path, headers=AGENCY)
            assert response.status_code == 405, (method, path, response.status_code)
            assert allowed(response) == expected_allow(methods), (method, path)
            if method != "HEAD" and not path.startswith("/static"):
                assert response.headers["content-type"] == "application/problem+json"
                assert response.json()["code"] == "method-not-allowed"
            refused += 1
    assert refused > 100


async def test_head_answers_every_get_route_like_get_without_a_body(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    heads = 0
    for path, methods in path_methods(app).items():
        if "GET" not in methods or path == "/events/stream":
            continue
        for headers in ({}, AGENCY):
            got = await client.get(path, headers=headers)
            head = await client.head(path, headers=headers)
            assert head.status_code == got.status_code, (path, head.status_code, got.status_code)
            assert head.content == b"", path
            # The metrics count the requests themselves: their length changes between two reads.
            volatile = VOLATILE | ({"content-length"} if path == "/metrics" else set())
            same = {k: v for k, v in got.headers.items() if k not in volatile}
            assert {k: v for k, v in head.headers.items() if k not in volatile} == same, path
            heads += 1
    assert heads > 40


async def test_head_of_the_event_stream_ends_with_its_headers(client: httpx.AsyncClient) -> None:
    """A GET of the stream never ends by itself; its HEAD must not wait for events."""
    async with asyncio.timeout(10):
        head = await client.head("/events/stream", headers=AGENCY)
    assert head.status_code == 200
    assert head.headers["content-type"].startswith("text/event-stream")
    assert head.content == b""
