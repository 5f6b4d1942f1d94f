"""Liveness and readiness, for orchestrators and load balancers."""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.http.deps import EngineDep, PublicEngineDep
from app.api.http.problems import problem_response, problem_responses
from app.runtime.db import current_revision, migration_head

log = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])

READY_TIMEOUT_SECONDS = 2.0


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    migration: str


@router.get("/healthz", operation_id="health", summary="The process is alive")
async def health() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="readiness",
    summary="The databases answer and their schema is at the latest migration",
    description="The primary (KMOP_DATABASE_URL) and, when one is configured, the public reads' "
    "replica (KMOP_READ_DATABASE_URL). A 503 names the one that is not ready: `unavailable` "
    "lists the databases that do not answer (`primary`, `replica`); `database` says which one "
    "is behind the migrations.",
    response_model=Readiness,
    responses=problem_responses(503),
)
async def readiness(
    engine: EngineDep, public: PublicEngineDep, request: Request
) -> Readiness | JSONResponse:
    head = migration_head()
    databases = {"primary": engine}
    if request.app.state.public.replica:
        databases["replica"] = public
    revisions = await asyncio.gather(*(_revision(name, e) for name, e in databases.items()))
    answers = dict(zip(databases, revisions, strict=True))
    unavailable = [name for name, revision in answers.items() if revision is _DOWN]
    if unavailable:
        which = " and the ".join(WHICH[name] for name in unavailable)
        return problem_response(
            503, "database-unavailable", f"The {which} does not answer.", unavailable=unavailable
        )
    for name, revision in answers.items():
        if revision != head:
            return problem_response(
                503,
                "migrations-pending",
                f"The {WHICH[name]}'s schema is at {revision or 'no revision'}, not at {head}; "
                + ("run `kmop migrate`." if name == "primary" else "it has not replayed it yet."),
                current=revision,
                head=head,
                database=name,
            )
    return Readiness(status="ready", migration=head)


WHICH = {"primary": "database", "replica": "read replica (KMOP_READ_DATABASE_URL)"}
_DOWN = object()


async def _revision(name: str, engine: AsyncEngine) -> object:
    """The database's migration revision (None: none), or ``_DOWN`` when it does not answer in
    time."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), engine.connect() as conn:
            return await current_revision(conn)
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        log.warning("readiness: the %s is unreachable: %s", WHICH[name], exc)
        return _DOWN
