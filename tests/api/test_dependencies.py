"""Every dependency of every route is a coroutine function: FastAPI runs a plain ``def``
dependency in a worker thread (anyio's thread pool), a hop on every request that py-spy showed
at 3.7 % of the server's samples under public searches (issue 12, BENCHMARKS.md)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from app.main import create_app
from app.runtime.settings import Settings


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _is_async(call: Any) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(
        getattr(call, "__call__", None)  # noqa: B004 (an instance with an async __call__)
    )


def test_no_route_runs_a_dependency_in_a_worker_thread() -> None:
    app = create_app(Settings(environment="test"))
    routes = [c.original_route for c in iter_route_contexts(app.routes)]
    api_routes = [r for r in routes if isinstance(r, APIRoute)]
    assert any(r.path == "/public/providers" for r in api_routes)
    sync = {
        f"{route.path}: {getattr(call, '__qualname__', call)}"
        for route in api_routes
        for call in _calls(route.dependant)
        if not _is_async(call)
    }
    assert not sync, sorted(sync)
