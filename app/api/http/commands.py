"""What every command route shares: who acts, under which correlation and idempotency key, at
which version (``If-Match``), and how its reply is made, remembered and sent.

A route resolves its resource through the caller's scope, then hands ``CommandContext.run`` two
functions: one that executes the command through ``RegistrationService`` (passing on the
``finish`` hook), and one that renders the reply from the outcome. The reply is rendered inside
the command's transaction, so that what an ``Idempotency-Key`` remembers is exactly what was
committed. The key is looked up in the command's own read, and its response stored with the
command's writes (``app.services.transaction``): no round trip of its own.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.http.auth import Principal, authenticate, bearer
from app.api.http.idempotency import (
    HEADER as IDEMPOTENCY_HEADER,
)
from app.api.http.idempotency import (
    KEY_PATTERN,
    PRIMARY_KEY,
    REPLAYED_HEADER,
    IdempotencyKeyReused,
    IdempotencyRace,
    IdempotentRequest,
    StoredResponse,
    fingerprint,
)
from app.domain.decider import Command
from app.domain.errors import ErrorKind, KmopError
from app.events import EventMetadata
from app.runtime.logs import current_request_id
from app.runtime.pg import Statement
from app.services.registrations import Finish, Located, Outcome, RegistrationService
from app.services.transaction import Transaction

_ETAG = re.compile(r'^\s*(?:W/)?"(\d{1,9})"\s*$')


class InvalidIfMatch(KmopError):
    code = "invalid-if-match"
    kind = ErrorKind.INVALID
    title = "If-Match must be one ETag this service handed out"


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    if value is None or value.strip() == "*":
        return None
    match = _ETAG.match(value)
    if match is None:
        raise InvalidIfMatch(
            f'If-Match {value!r} is not an ETag such as "3"',
            errors=[{"parameter": "If-Match", "in": "header", "detail": "not an ETag"}],
        )
    return int(match.group(1))


@dataclass(frozen=True, slots=True)
class Reply:
    status_code: int
    body: BaseModel
    location: str | None = None
    version: int | None = None  # sent as the ETag

    def stored(self) -> StoredResponse:
        headers = {}
        if self.location:
            headers["Location"] = self.location
        if self.version is not None:
            headers["ETag"] = etag(self.version)
        return StoredResponse(self.status_code, self.body.model_dump_json().encode(), headers)


# The reply from the outcome; it may read in the command's transaction (``tx.execute``), which
# costs a round trip: a reply made from the outcome alone costs none.
Render = Callable[[Transaction, Any], Awaitable[Reply]]
# The service's ``finish`` hook as the routes pass it on (also after work that is no Outcome).
Hook = Finish


def _response(stored: StoredResponse, *, replayed: bool = False) -> Response:
    headers = dict(stored.headers)
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    return Response(
        stored.body,
        status_code=stored.status_code,
        media_type="application/json",
        headers=headers,
    )


class _Replay(Exception):
    """The key's response is stored: the command ends and answers it (internal)."""

    def __init__(self, stored: StoredResponse) -> None:
        self.stored = stored


@dataclass(slots=True)
class _Finish:
    """``RegistrationService``'s finish hook: look the key up with the command's read, render
    the reply in its transaction and store it with its writes."""

    render: Render
    idempotency: IdempotentRequest | None
    replies: list[StoredResponse]

    @property
    def lookup(self) -> Statement | None:
        return self.idempotency.lookup if self.idempotency is not None else None

    def recalled(self, value: Any) -> None:
        stored = self.idempotency.recall(value) if self.idempotency is not None else None
        if stored is not None:
            raise _Replay(stored)

    async def __call__(self, tx: Transaction, outcome: Outcome[Any]) -> None:
        stored = (await self.render(tx, outcome)).stored()
        if self.idempotency is not None:
            self.idempotency.remember(tx, stored)
        self.replies.append(stored)

    async def recall_first(self, tx: Transaction) -> None:
        """For work that is not one command (the deadline job): the lookup before it."""
        if self.lookup is not None:
            self.recalled(await tx.conn.fetchval(self.lookup.sql, *self.lookup.args))


def _lost_race(exc: BaseException) -> bool:
    """Another request with the same key committed first (its insert won the primary key)."""
    return isinstance(exc, asyncpg.UniqueViolationError) and exc.constraint_name == PRIMARY_KEY


@dataclass(frozen=True, slots=True)
class CommandContext:
    principal: Principal
    service: RegistrationService
    metadata: EventMetadata
    expected_version: int | None
    idempotency: IdempotentRequest | None

    @property
    def engine(self) -> AsyncEngine:
        return self.service.engine

    async def run(self, execute: Callable[[Hook], Awaitable[object]], render: Render) -> Response:
        finish = _Finish(render, self.idempotency, [])
        try:
            await execute(finish)
        except _Replay as replay:
            return _response(replay.stored, replayed=True)
        except (KmopError, asyncpg.UniqueViolationError) as exc:
            if isinstance(exc, IdempotencyKeyReused) or not (
                isinstance(exc, KmopError) or _lost_race(exc)
            ):
                raise
            # A request with the same key may have committed meanwhile: that is the answer.
            if self.idempotency is not None:
                stored = await self.idempotency.stored(self.service.pg)
                if stored is not None:
                    return _response(stored, replayed=True)
            if _lost_race(exc):
                raise IdempotencyRace(self.idempotency.key if self.idempotency else "") from exc
            raise
        return _response(finish.replies[-1])

    async def on_unit(self, unit_key: str, command: Command, render: Render) -> Response:
        """Run a command of the registration process on one unit's stream."""

        async def execute(finish: Finish) -> object:
            return await self.service.execute(
                unit_key,
                command,
                self.metadata,
                expected_version=self.expected_version,
                finish=finish,
            )

        return await self.run(execute, render)

    async def on_located(self, located: Located, command: Command, render: Render) -> Response:
        """Run a command of the registration process on the unit ``located`` finds in the
        command's own read (``RegistrationService.execute_located``)."""

        async def execute(finish: Finish) -> object:
            return await self.service.execute_located(
                located,
                command,
                self.metadata,
                expected_version=self.expected_version,
                finish=finish,
            )

        return await self.run(execute, render)


async def command_context(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_HEADER,
            pattern=KEY_PATTERN,
            description="Any unique string per request (e.g. a UUID). A retry with the same key "
            "and body gets the first response again and changes nothing; the same key with "
            "another body is refused (409 idempotency-key-reused). Kept at least 24 hours.",
        ),
    ] = None,
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='The ETag read (e.g. "3"): the command applies only if the resource '
            "is still at that version, else 412 version-mismatch.",
        ),
    ] = None,
) -> CommandContext:
    # The route's role dependency (``app.api.http.auth.require``) authenticated the caller before
    # this one runs, FastAPI solving a route's dependencies in order: depending on
    # ``authenticate`` again would cost a second solve of it and of the bearer scheme.
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        principal = await authenticate(request, await bearer(request))
    idempotency = None
    if idempotency_key is not None:
        body = await request.body()
        idempotency = IdempotentRequest(
            principal.identity,
            idempotency_key,
            fingerprint(request.method, request.url.path, body),
        )
    return CommandContext(
        principal=principal,
        service=request.app.state.service,
        metadata=EventMetadata(
            actor=principal.actor,
            correlation_id=current_request_id(),
            idempotency_key=idempotency_key,
        ),
        expected_version=parse_if_match(if_match),
        idempotency=idempotency,
    )


CommandDep = Annotated[CommandContext, Depends(command_context)]


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


__all__ = ["CommandContext", "CommandDep", "IdempotencyKeyReused", "Reply", "etag", "new_id"]
