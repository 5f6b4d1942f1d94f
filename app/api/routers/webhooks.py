"""Webhooks over HTTP: a client registers an address for the events its role may see, lists its
webhooks and reads each one's delivery log. A webhook is its registering client's alone (its
identity: client id, role, and the bureau or enterprise it is bound to): another's is not found.
How deliveries work: ``app.api.delivery``."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.api.delivery import MAX_URL, check_address, new_secret
from app.api.http.auth import AnyPrincipal, Principal
from app.api.http.deps import EngineDep
from app.api.http.problems import problem_responses
from app.api.routers.feed import MAX_POSITION
from app.api.schemas import Body, View
from app.domain.errors import ErrorKind, KmopError
from app.runtime.settings import Settings
from app.services.registrations import UnknownResource

ALL: list[str | Enum] = ["agency", "provider", "bureau"]
router = APIRouter(tags=ALL)
MAX_WEBHOOKS = 10  # per client


class WebhookRequest(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"url": "https://integrator.example.com/kmop/events"}]}
    )

    url: str = Field(
        max_length=MAX_URL,
        description="Where to POST each event: https:// (http:// only to a loopback address, "
        "for tests and local development); private addresses only where the service allows "
        "them (KMOP_WEBHOOK_PRIVATE_ADDRESSES)",
    )
    after: int | None = Field(
        None,
        ge=0,
        le=MAX_POSITION,
        description="Deliver the events after this position (0: from the first event); "
        "omitted: from now on",
    )


class Webhook(View):
    webhook_id: uuid.UUID
    url: str
    created_at: datetime
    after: int = Field(description="The position of the last event delivered (the cursor)")
    delivered: int = Field(description="Events delivered so far")
    failures: int = Field(description="Failed attempts since the last delivery")
    next_attempt_at: datetime = Field(description="When the dispatcher looks at it next")


class WebhookCreated(Webhook):
    secret: str = Field(
        description="Signs every delivery (Kmop-Signature, HMAC-SHA256); shown this once"
    )


class WebhookList(View):
    items: list[Webhook]


class WebhookDelivery(View):
    delivery_id: int
    position: int
    event_id: uuid.UUID
    event_type: str
    attempt: int = Field(description="1 for the first attempt at this event, then 2, 3, ...")
    attempted_at: datetime
    status_code: int | None = Field(description="The receiver's status; null: no answer")
    error: str | None = Field(description="Why it failed; null when it succeeded")
    succeeded: bool
    duration_ms: int


class DeliveryLog(View):
    items: list[WebhookDelivery] = Field(description="Newest first")
    next_before: int | None = Field(
        None, description="Pass as ?before= for older attempts; null on the last page"
    )


class TooManyWebhooks(KmopError):
    code = "webhook-limit-reached"
    kind = ErrorKind.CONFLICT
    title = "Too many webhooks"


class UnknownAfter(KmopError):
    code = "validation-failed"
    kind = ErrorKind.INVALID
    title = "Invalid request"

    def __init__(self, after: int) -> None:
        super().__init__(
            "The request is not valid; see errors for each field.",
            errors=[{"pointer": "#/after", "detail": f"no event has position {after}"}],
        )


_OWNER = "client_id = :client_id AND role = :role AND bound_to = :bound_to"
_WEBHOOK_COLUMNS = (
    "webhook_id, url, created_at, after_position AS after, delivered, failures, next_attempt_at"
)
# "From now on": the last event in the global order that every reader can already see; any
# event not yet readable comes after it (the feed's horizon), so none is skipped.
_NOW = text(
    "SELECT coalesce((SELECT position FROM events"
    " WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())"
    " ORDER BY transaction_id DESC, position DESC LIMIT 1), 0)"
)


def _owner(principal: Principal) -> dict[str, str]:
    client_id, role, bound_to = principal.identity
    return {"client_id": client_id, "role": role, "bound_to": bound_to}


async def _start(conn: AsyncConnection, after: int | None) -> int:
    if after is None:
        return int(await conn.scalar(_NOW) or 0)
    exists = await conn.scalar(text("SELECT 1 FROM events WHERE position = :p"), {"p": after})
    if after != 0 and not exists:
        raise UnknownAfter(after)
    return after


@router.post(
    "/webhooks",
    status_code=201,
    response_model=WebhookCreated,
    responses=problem_responses(401, 403, 409, 422),
    summary="Register an address to receive the events the caller may see (the secret that "
    "signs them is in this answer only)",
)
async def register_webhook(
    body: WebhookRequest, principal: AnyPrincipal, engine: EngineDep, request: Request
) -> WebhookCreated:
    settings: Settings = request.app.state.settings
    check_address(body.url, private=settings.webhook_private_addresses_allowed())
    owner = _owner(principal)
    async with engine.begin() as conn:
        # One registration at a time per client, so the limit holds under concurrent requests.
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": "webhooks:" + "\x1f".join(owner.values())},
        )
        count = await conn.scalar(text(f"SELECT count(*) FROM webhooks WHERE {_OWNER}"), owner)
        if int(count or 0) >= MAX_WEBHOOKS:
            raise TooManyWebhooks(f"a client may have {MAX_WEBHOOKS} webhooks at most")
        after = await _start(conn, body.after)
        secret = new_secret()
        row = (
            await conn.execute(
                text(
                    "INSERT INTO webhooks (webhook_id, client_id, role, bound_to, url, secret,"
                    " after_position) VALUES (:webhook_id, :client_id, :role, :bound_to, :url,"
                    f" :secret, :after) RETURNING {_WEBHOOK_COLUMNS}"
                ),
                {**owner, "webhook_id": uuid.uuid4(), "url": body.url, "secret": secret}
                | {"after": after},
            )
        ).one()
    return WebhookCreated(**row._mapping, secret=secret)


@router.get(
    "/webhooks",
    response_model=WebhookList,
    responses=problem_responses(401, 403, 422),
    summary="The caller's webhooks (without their secrets)",
)
async def list_webhooks(principal: AnyPrincipal, engine: EngineDep) -> WebhookList:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks WHERE {_OWNER} ORDER BY created_at"),
            _owner(principal),
        )
        return WebhookList(items=[Webhook(**row._mapping) for row in rows])


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=DeliveryLog,
    responses=problem_responses(401, 403, 404, 422),
    summary="A webhook's delivery log: every attempt, newest first, in pages",
)
async def list_webhook_deliveries(
    webhook_id: uuid.UUID,
    principal: AnyPrincipal,
    engine: EngineDep,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_POSITION, description="next_before of the last page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryLog:
    params = {**_owner(principal), "webhook_id": webhook_id}
    async with engine.connect() as conn:
        if not await conn.scalar(
            text(f"SELECT 1 FROM webhooks WHERE webhook_id = :webhook_id AND {_OWNER}"), params
        ):
            raise UnknownResource(f"no webhook {webhook_id}")
        rows = (
            await conn.execute(
                text(
                    "SELECT delivery_id, position, event_id, event_type, attempt, attempted_at,"
                    " status_code, error, succeeded, duration_ms FROM webhook_deliveries"
                    " WHERE webhook_id = :webhook_id"
                    " AND delivery_id < coalesce(CAST(:before AS bigint), 9223372036854775807)"
                    " ORDER BY delivery_id DESC LIMIT :limit"
                ),
                {"webhook_id": webhook_id, "before": before, "limit": limit},
            )
        ).all()
    items = [WebhookDelivery(**row._mapping) for row in rows]
    more = len(items) == limit
    return DeliveryLog(items=items, next_before=items[-1].delivery_id if more else None)


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    responses=problem_responses(401, 403, 404, 422),
    summary="Remove a webhook and its delivery log: no more deliveries (one under way may "
    "still arrive)",
)
async def remove_webhook(webhook_id: uuid.UUID, principal: AnyPrincipal, engine: EngineDep) -> None:
    params = {**_owner(principal), "webhook_id": webhook_id}
    async with engine.begin() as conn:
        removed = await conn.execute(
            text(f"DELETE FROM webhooks WHERE webhook_id = :webhook_id AND {_OWNER}"), params
        )
    if removed.rowcount == 0:
        raise UnknownResource(f"no webhook {webhook_id}")
