"""RFC 9457 problem details for every error response, whatever raised it.

Every problem has ``type``, ``title``, ``status``, ``detail`` and a stable ``code``; validation
problems add ``errors``, each with a JSON pointer (``#/field/0``) into the body or the name of the
parameter at fault. Nothing about the server's internals reaches the client.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from http import HTTPStatus
from typing import Any

import asyncpg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

import app as app_package
from app.domain.errors import TYPE_BASE, ErrorKind, KmopError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

STATUS_BY_KIND = {
    ErrorKind.INVALID: 422,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.PRECONDITION_FAILED: 412,
    ErrorKind.UNAVAILABLE: 503,
}


# The codes of the problems the HTTP layer answers itself (the rest are KmopErrors' codes).
# A code is kebab-case: it is the last segment of the problem's ``type`` URI.
HTTP_ERROR_CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    411: "length-required",
    413: "body-too-large",
    415: "unsupported-media-type",
    429: "too-many-requests",
    431: "request-header-fields-too-large",
}
OTHER_HTTP_ERROR = "http-error"  # any other status Starlette raises
HTTP_LAYER_CODES = frozenset(
    {
        *HTTP_ERROR_CODES.values(),
        OTHER_HTTP_ERROR,
        "validation-failed",
        "database-unavailable",
        "migrations-pending",
        "internal-error",
        # answered by kmop serve before the app sees the request (app/runtime/serving.py)
        "headers-too-large",
        "request-timeout",
        "malformed-request",
    }
)


def _error_classes(base: type[KmopError]) -> list[type[KmopError]]:
    found = [base]
    for sub in base.__subclasses__():
        found += _error_classes(sub)
    return found


def problem_codes() -> list[str]:
    """Every problem ``code`` the service can answer: the one registry the OpenAPI enum is
    generated from. The error classes register themselves by subclassing ``KmopError`` in a
    module of ``app`` (every one is imported first, so the list never depends on what happened
    to be imported, and classes made elsewhere, in tests, do not count)."""
    for module in pkgutil.walk_packages(app_package.__path__, "app."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    ours = [cls for cls in _error_classes(KmopError) if cls.__module__.startswith("app.")]
    return sorted(HTTP_LAYER_CODES | {cls.code for cls in ours})


class FieldError(BaseModel):
    pointer: str | None = Field(None, examples=["#/enterprise_number"])
    parameter: str | None = Field(None, description="query, path or header parameter name")
    detail: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=[TYPE_BASE + "validation-failed"])
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable code; clients branch on it.")
    instance: str | None = None
    errors: list[FieldError] | None = None


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if request is not None:
        body["instance"] = request.url.path
    body.update({k: v for k, v in extensions.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problems a route can answer."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def _pointer(loc: tuple[int | str, ...]) -> dict[str, str]:
    if loc and loc[0] == "body":
        path = "".join(f"/{str(part).replace('~', '~0').replace('/', '~1')}" for part in loc[1:])
        return {"pointer": "#" + path}
    if len(loc) >= 2:
        return {"parameter": str(loc[1]), "in": str(loc[0])}
    return {"pointer": "#"}


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{**_pointer(tuple(err["loc"])), "detail": err["msg"]} for err in exc.errors()]
    return problem_response(
        422,
        "validation-failed",
        "The request is not valid; see errors for each field.",
        title="Invalid request",
        request=request,
        errors=errors,
    )


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_ERROR_CODES.get(exc.status_code, OTHER_HTTP_ERROR)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"There is no resource at {request.url.path}."
    return problem_response(
        exc.status_code, code, detail, request=request, headers=getattr(exc, "headers", None)
    )


async def _kmop_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KmopError)
    return problem_response(
        STATUS_BY_KIND[exc.kind],
        exc.code,
        exc.detail,
        title=exc.title,
        request=request,
        headers=exc.headers,
        **exc.extensions,
    )


DATABASE_RETRY_AFTER_SECONDS = 5
# SQLSTATE classes of a server that is not there to answer: connection exceptions (08) and
# operator intervention (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now).
_UNAVAILABLE_SQLSTATES = ("08", "57P")


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached now (rather than a bug of ours)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlalchemy.exc.TimeoutError):  # no pooled connection came free
            return True
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (ConnectionError, TimeoutError, OSError)):
            return True
        if isinstance(current, asyncpg.exceptions.InterfaceError) and "connection" in str(current):
            return True  # "connection was closed in the middle of operation" and the like
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if database_unavailable(exc):
        log.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
        return problem_response(
            503,
            "database-unavailable",
            "The database cannot be reached right now. Retry later with the same "
            "Idempotency-Key: a command is applied at most once, and a retry of one that did "
            "commit gets its first response.",
            title="Service temporarily unavailable",
            request=request,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        500,
        "internal-error",
        "An unexpected error occurred on our side; it has been logged.",
        request=request,
    )


# What any request body can meet before its route reads it: the body limits of
# app/api/http/limits.py (a middleware, so no route declares them) on every POST, and, where a
# JSON body is read, bytes that are not JSON text at all (not UTF-8: 400, where malformed
# JSON is a 422 with a pointer).
BODY_PROBLEMS = {
    400: "The body is not JSON text (it is not UTF-8)",
    413: "The body is larger than KMOP_MAX_BODY_BYTES (`body-too-large`)",
    415: "The body is not JSON (`unsupported-media-type`)",
}


def _body_problems(schema: dict[str, Any]) -> dict[str, Any]:
    for path in schema.get("paths", {}).values():
        for method, operation in path.items():
            if method not in ("post", "put", "patch"):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in BODY_PROBLEMS.items():
                if status == 400 and "requestBody" not in operation:
                    continue  # the route reads no body: only the middleware's limits apply
                responses.setdefault(str(status), {"description": description})
            operation["responses"] = dict(sorted(responses.items()))
    return schema


def _event_streams_by_item(schema: dict[str, Any]) -> dict[str, Any]:
    """A stream documented by its ``itemSchema`` (each event) loses the ``schema: string`` that
    FastAPI gives any response class's media type: read as the schema of each event (as
    OpenAPI 3.1 tools do), it would say that an event is a string."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for response in operation.get("responses", {}).values():
                for media in response.get("content", {}).values():
                    if "itemSchema" in media:
                        media.pop("schema", None)
    return schema


def _problems_only(schema: dict[str, Any]) -> dict[str, Any]:
    """Error responses are documented as problem+json only, FastAPI's 422 model included."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                if not str(status).startswith(("4", "5")):
                    continue
                response["content"] = {
                    PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}
                }
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components.setdefault("Problem", problem)
    components["Problem"]["properties"]["code"]["enum"] = problem_codes()
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def install(app: FastAPI) -> None:
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            documented = _body_problems(_event_streams_by_item(default_openapi()))
            app.openapi_schema = _problems_only(documented)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(KmopError, _kmop_error)
    app.add_exception_handler(Exception, _unexpected)
