"""The event feed: every event its reader may see, in commit order, as pages (``GET /events``)
or as a live Server-Sent Events stream (``GET /events/stream``). The agency reads every event;
a bureau and a provider the events of their own scope (``app.events.audience``, applied in the
feed's SQL: an event another may not see never leaves the database).

Both rest on ``EventStore.read_feed``: the global order is the one every reader sees, and a
follower that resumes after the last position it received never misses nor repeats an event,
however writers interleave. With filters, the cursor still moves past the events they leave out,
so a follower never scans them twice. The event types and their fields: ``docs/events.md``.

The stream wakes by **polling** (``KMOP_SSE_POLL_SECONDS``), not LISTEN/NOTIFY, on purpose:
an event becomes readable only once every older transaction has finished (the horizon), which
a commit's NOTIFY cannot tell: a commit held back behind a slow or rolled-back transaction would
wait for the next notification, which may never come, so a listener would need polling anyway.
An idle stream costs one indexed query per interval and holds no connection between them;
the feed has few clients (the integrators' systems), so that is cheap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import StringConstraints
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.http.auth import AnyPrincipal
from app.api.http.deps import EngineDep
from app.api.http.problems import problem_responses
from app.api.queries.feed import EventFeedPage, audience, feed_event
from app.domain.errors import ErrorKind, KmopError
from app.events import EventStore, UnknownPosition
from app.events.audience import Audience
from app.events.catalog import REGISTRY, StreamType
from app.events.store import FeedPage
from app.runtime.settings import Settings

router = APIRouter(tags=["agency", "bureau", "provider"])

MAX_POSITION = 2**63 - 1  # positions are PostgreSQL bigints
RETRY_MILLISECONDS = 3000  # how long an EventSource waits before it reconnects
FILTER_VALUES = 20  # at most this many values per filter


# --- documents ---------------------------------------------------------------------------


# --- parameters --------------------------------------------------------------------------


class InvalidFeedParameter(KmopError):
    """A parameter that is well-formed but names nothing: the same problem as a malformed one."""

    code = "validation-failed"
    kind = ErrorKind.INVALID
    title = "Invalid request"

    def __init__(self, parameter: str, detail: str, where: str = "query") -> None:
        super().__init__(
            "The request is not valid; see errors for each field.",
            errors=[{"parameter": parameter, "in": where, "detail": detail}],
        )


Name = Annotated[
    str, StringConstraints(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]+$")
]
After = Annotated[
    int,
    Query(
        ge=0,
        le=MAX_POSITION,
        description="The position of the last event you received; 0: from the beginning",
    ),
]


@dataclass(frozen=True, slots=True)
class FeedFilter:
    event_types: tuple[str, ...]
    stream_ids: tuple[str, ...]
    stream_types: tuple[str, ...]


async def feed_filter(
    event_type: Annotated[
        list[Name] | None,
        Query(
            alias="type",
            max_length=FILTER_VALUES,
            description="Only these event types (repeat for several)",
            examples=[["RatingRecorded"]],
        ),
    ] = None,
    stream: Annotated[
        list[Name] | None,
        Query(
            max_length=FILTER_VALUES,
            description="Only the events of these streams (repeat for several)",
            examples=[["unit:0403170701:opleiding"]],
        ),
    ] = None,
    stream_type: Annotated[
        list[Name] | None,
        Query(
            max_length=FILTER_VALUES,
            description="Only the events of streams of these types (repeat for several); "
            "registration-unit, the spelling before snake_case, is still understood",
            examples=[["registration_unit"]],
        ),
    ] = None,
) -> FeedFilter:
    known = REGISTRY.classes  # at request time: the registry is the one list of event types
    for name in event_type or ():
        if name not in known:
            raise InvalidFeedParameter(
                "type", f"{name!r} is not an event type; see docs/events.md for the list"
            )
    stored = []
    for name in stream_type or ():
        try:
            stored.append(StreamType.of(name).stored)
        except ValueError:
            kinds = ", ".join(StreamType)
            raise InvalidFeedParameter("stream_type", f"{name!r} is not one of {kinds}") from None
    return FeedFilter(tuple(event_type or ()), tuple(stream or ()), tuple(stored))


FeedFilterDep = Annotated[FeedFilter, Depends(feed_filter)]


async def read_page(
    engine: AsyncEngine,
    after: int,
    limit: int,
    filters: FeedFilter,
    reader: Audience,
    *,
    parameter: str = "after",
) -> FeedPage:
    async with engine.connect() as conn:
        try:
            return await EventStore(conn, REGISTRY).read_feed(
                after=after,
                limit=limit,
                event_types=filters.event_types,
                stream_ids=filters.stream_ids,
                stream_types=filters.stream_types,
                audience=reader,
            )
        except UnknownPosition:
            where = "header" if parameter == "Last-Event-ID" else "query"
            raise InvalidFeedParameter(parameter, f"no event has position {after}", where) from None


# --- routes ------------------------------------------------------------------------------


class EventStreamResponse(StreamingResponse):
    """``text/event-stream`` from an iterator we build (FastAPI's ``EventStreamResponse`` wants
    the route itself to be the generator, which would start streaming before the parameters
    are checked against the database)."""

    media_type = "text/event-stream"


@router.get(
    "/events",
    response_model=EventFeedPage,
    responses=problem_responses(401, 403, 422),
    summary="The events the caller may see in commit order, after a position, optionally filtered",
    description="The agency reads every event; a bureau and a provider the events of their "
    "scope (docs/events.md says who sees each type). The cursor is the global one: it moves "
    "past the events the caller does not see as past those its filters leave out.",
)
async def read_event_feed(
    principal: AnyPrincipal,
    engine: EngineDep,
    filters: FeedFilterDep,
    after: After = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="Events per page")] = 100,
) -> EventFeedPage:
    reader = audience(principal)
    page = await read_page(engine, after, limit, filters, reader)
    return EventFeedPage(
        events=[feed_event(event, reader) for event in page.events],
        next_after=page.next_after,
        caught_up=page.caught_up,
    )


# One Server-Sent Event, as FastAPI documents its own streams (``itemSchema``, OpenAPI 3.2's
# word for each item of a sequential media type; ``schema`` there would be the whole stream).
SSE_EVENT = {
    "type": "object",
    "properties": {
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": "#/components/schemas/FeedEvent"},
        },
        "event": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer", "minimum": 0},
    },
}
STREAM_EXAMPLE = (
    f"retry: {RETRY_MILLISECONDS}\n\n"
    'id: 42\ndata: {"position": 42, "event_type": "RatingRecorded", ...}\n\n'
    ": heartbeat\n\n"
)


@router.get(
    "/events/stream",
    response_class=EventStreamResponse,
    responses={
        200: {
            "description": "Server-Sent Events: each event's `data` is a FeedEvent (JSON) and "
            "its `id` the position; `id`-only blocks move the resume point past events the "
            "filters left out; `: heartbeat` comments while idle. Ends when the service stops.",
            "content": {"text/event-stream": {"itemSchema": SSE_EVENT, "example": STREAM_EXAMPLE}},
        },
        **problem_responses(401, 403, 422),
    },
    summary="The events the caller may see, live, as Server-Sent Events; resumable with "
    "Last-Event-ID",
)
async def stream_events(
    request: Request,
    principal: AnyPrincipal,
    engine: EngineDep,
    filters: FeedFilterDep,
    after: After = 0,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=40,
            description="Sent by an EventSource when it reconnects; wins over ?after=",
        ),
    ] = None,
) -> EventStreamResponse:
    parameter = "after"
    if last_event_id is not None and last_event_id.strip():
        after, parameter = _position(last_event_id), "Last-Event-ID"
    reader = audience(principal)
    first = await read_page(engine, after, PAGE, filters, reader, parameter=parameter)
    settings: Settings = request.app.state.settings
    stream = _follow(
        engine,
        request.app.state.stopping,
        filters,
        reader,
        first,
        after=after,
        heartbeat=settings.sse_heartbeat_seconds,
        poll=settings.sse_poll_seconds,
    )
    return EventStreamResponse(
        stream, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


PAGE = 200  # events per read while the stream catches up


def _position(value: str) -> int:
    text = value.strip()
    if not text.isascii() or not text.isdigit() or int(text) > MAX_POSITION:
        raise InvalidFeedParameter(
            "Last-Event-ID", "must be the position (id) of an event received", "header"
        )
    return int(text)


async def _follow(
    engine: AsyncEngine,
    stopping: asyncio.Event,
    filters: FeedFilter,
    reader: Audience,
    page: FeedPage,
    *,
    after: int,
    heartbeat: float,
    poll: float,
) -> AsyncIterator[str]:
    """The stream: pages as they become readable, a heartbeat when idle, until shutdown."""
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    announced, quiet_since = after, time.monotonic()
    while not stopping.is_set():
        wrote = False
        for event in page.events:
            data = feed_event(event, reader).model_dump_json()
            yield f"id: {event.position}\ndata: {data}\n\n"
            announced, wrote = event.position, True
        if page.next_after != announced:  # the filters left events out: resume after them
            yield f"id: {page.next_after}\n\n"
            announced, wrote = page.next_after, True
        if wrote:
            quiet_since = time.monotonic()
        if page.caught_up:
            idle = time.monotonic() - quiet_since
            with suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), min(poll, max(heartbeat - idle, 0)))
            if stopping.is_set():
                return
            if time.monotonic() - quiet_since >= heartbeat:
                yield ": heartbeat\n\n"
                quiet_since = time.monotonic()
        page = await read_page(engine, announced, PAGE, filters, reader)
