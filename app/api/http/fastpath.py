"""A shorter way through FastAPI for the command routes (issue 12: server CPU per command).

A command route takes a JSON body (one Pydantic model), perhaps path parameters, the caller
(``app.api.http.auth.require``) and the command's context
(``app.api.http.commands.command_context``).
FastAPI's generic handler solves that tree of dependencies for every request (about a tenth of
an application's CPU): it parses the body into Python objects and validates them, resolves each
dependency's own parameters, builds a sub-response and a cache of solved dependencies.

``CommandRoute`` answers the common case itself: the body validated straight from its bytes
(``model_validate_json``), the bearer scheme, ``authenticate``, the role check and the command's
context called directly, in the order FastAPI calls them. Anything else (a body, path parameter
or header that does not validate, an empty or non-JSON body, dependency overrides, a route of
another shape) goes to FastAPI's own handler with the same request, so every error is FastAPI's
error, word for word. The route's schema (what ``openapi/openapi.json`` shows) is FastAPI's:
only the handler differs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import routing
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from app.api.http.auth import ROLE_CHECK, authenticate, bearer
from app.api.http.commands import command_context
from app.api.http.idempotency import HEADER as IDEMPOTENCY_HEADER
from app.api.http.idempotency import KEY_PATTERN

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


@dataclass(frozen=True, slots=True)
class _Plan:
    """What a command route's endpoint takes, by parameter name."""

    endpoint: Callable[..., Coroutine[Any, Any, Any]]
    body_name: str
    body_model: type[BaseModel]
    path: Dependant | None  # the route's path parameters, validated by FastAPI's own function
    principal_name: str
    role_check: Callable[..., Coroutine[Any, Any, Any]]
    command_name: str | None
    command_headers: Dependant | None


def _plan(route: Any) -> _Plan | None:
    """The plan of a route of the command shape; None for any other route."""
    dependant = route.dependant
    body = route.body_field
    if (
        route._embed_body_fields
        or body is None
        or len(dependant.body_params) != 1
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.request_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.call is None
    ):
        return None
    model = body.field_info.annotation
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    principal: tuple[str, Any] | None = None
    command: tuple[str, Dependant] | None = None
    for dep in dependant.dependencies:
        if dep.name is None:
            return None
        if (
            getattr(dep.call, ROLE_CHECK, False)
            and principal is None
            and [sub.call for sub in dep.dependencies] == [authenticate]
        ):
            principal = (dep.name, dep.call)
        elif dep.call is command_context and command is None:
            command = (dep.name, dep)
        else:
            return None
    if principal is None:
        return None
    path = Dependant(path_params=dependant.path_params) if dependant.path_params else None
    return _Plan(
        endpoint=dependant.call,
        body_name=dependant.body_params[0].name,
        body_model=model,
        path=path,
        principal_name=principal[0],
        role_check=principal[1],
        command_name=command[0] if command else None,
        command_headers=command[1] if command else None,
    )


def command_headers(headers: Headers) -> dict[str, str | None] | None:
    """``command_context``'s two headers, as FastAPI's validation of them gives them (its
    generic function costs ~45 µs a request for these two); None when one does not validate,
    for FastAPI's handler to answer. ``If-Match`` is any string; the key must match
    ``KEY_PATTERN`` whole, as pydantic's regex matches it (``$`` is the end of the text)."""
    key = headers.get(IDEMPOTENCY_HEADER)
    if key is not None and _KEY.fullmatch(key) is None:
        return None
    return {"idempotency_key": key, "if_match": headers.get("If-Match")}


_KEY = re.compile(KEY_PATTERN)


def _overridden(route: Any) -> bool:
    provider = route.dependency_overrides_provider
    return bool(getattr(provider, "dependency_overrides", None))


class CommandRoute(APIRoute):
    """An ``APIRoute`` whose command-shaped routes take the short way (see the module)."""

    def get_route_handler(self) -> Handler:
        generic = super().get_route_handler()
        # Included in a router, the route is built again for that inclusion (with its
        # dependencies, overrides): FastAPI says which in a context variable, as
        # ``APIRoute.get_route_handler`` reads it.
        route: Any = self
        context = getattr(routing, "_effective_route_context_var", None)
        effective = context.get() if context is not None else None
        if effective is not None and getattr(effective, "original_route", None) is self:
            route = effective
        plan = _plan(route)
        if plan is None:
            return generic

        async def handler(request: Request) -> Response:
            if _overridden(route):
                return await generic(request)
            content_type = request.headers.get("content-type", "")
            raw = await request.body()  # kept by the request: the generic handler reads it again
            if not raw or not content_type.startswith("application/json"):
                return await generic(request)
            try:
                body = plan.body_model.model_validate_json(raw)
            except ValidationError:
                return await generic(request)
            values: dict[str, Any] = {plan.body_name: body}
            if plan.path is not None:
                path_values, errors = request_params_to_args(
                    plan.path.path_params, request.path_params
                )
                if errors:
                    return await generic(request)
                values.update(path_values)
            headers = None
            if plan.command_headers is not None and (
                "idempotency-key" in request.headers or "if-match" in request.headers
            ):
                headers = command_headers(request.headers)
                if headers is None:
                    return await generic(request)
            # The dependencies in FastAPI's order: the caller, then the command's context.
            principal = await authenticate(request, await bearer(request))
            values[plan.principal_name] = await plan.role_check(principal=principal)
            if plan.command_name is not None:
                values[plan.command_name] = await command_context(request, **(headers or {}))
            response: Response = await plan.endpoint(**values)
            return response

        return handler
