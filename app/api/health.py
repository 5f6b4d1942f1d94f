"""Liveness and readiness, for orchestrators and load balancers."""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from app.api.deps import EngineDep
from app.api.problems import problem_response, problem_responses
from app.db import current_revision, migration_head

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
    summary="The database answers and its schema is at the latest migration",
    response_model=Readiness,
    responses=problem_responses(503),
)
async def readiness(engine: EngineDep) -> Readiness | JSONResponse:
    head = migration_head()
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), engine.connect() as conn:
            revision = await current_revision(conn)
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        log.warning("readiness: database unreachable: %s", exc)
        return problem_response(503, "database-unavailable", "The database does not answer.")
    if revision != head:
        return problem_response(
            503,
            "migrations-pending",
            f"The database schema is at {revision or 'no revision'}, not at {head}; "
            "run `kmop migrate`.",
            current=revision,
            head=head,
        )
    return Readiness(status="ready", migration=head)
