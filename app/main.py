"""The app factory: one FastAPI app per call, no global app object."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from sqlalchemy.ext.asyncio import AsyncEngine

from app import __doc__ as summary
from app.api import agency, bureau, health, problems, provider, reads
from app.api.auth import TokenVerifier
from app.api.correlation import CorrelationMiddleware
from app.api.idempotency import forget_expired
from app.db import make_engine
from app.services.clock import Clock
from app.services.deadlines import run_periodically
from app.services.factory import make_service
from app.settings import Settings, get_settings

API_VERSION = "0.2.0"
log = logging.getLogger(__name__)


TAGS = [
    {
        "name": "provider",
        "description": "Providers (role `provider`, bound to one enterprise): apply, choose an "
        "audit bureau, react to a failed audit, follow their applications, registrations and "
        "reports.",
    },
    {
        "name": "bureau",
        "description": "Audit-bureau software (role `bureau`, bound to one bureau): the audits "
        "assigned to its bureau, planning, reports.",
    },
    {
        "name": "agency",
        "description": "The agency's systems (role `agency`): sworn declarations, decisions, "
        "stops, bureaus, ratings, the deadline job, histories; reads everything.",
    },
    {"name": "operations", "description": "Liveness and readiness; no login."},
]


def _operation_id(route: APIRoute) -> str:
    """Stable operation ids: the route function's name, never derived from the path."""
    return route.name


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = engine is None
        if owned:
            if not settings.database_url:
                raise RuntimeError("KMOP_DATABASE_URL is not set (use `kmop serve` to embed one)")
            app.state.engine = make_engine(
                settings.database_url,
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_max_overflow,
            )
            app.state.service = make_service(app.state.engine, settings, clock)
        jobs = []
        if settings.deadline_interval_seconds > 0 and settings.environment != "test":
            jobs.append(
                asyncio.create_task(
                    run_periodically(app.state.service, settings.deadline_interval_seconds)
                )
            )
        if settings.environment != "test":
            jobs.append(asyncio.create_task(_forget_idempotency_keys(app.state.engine, settings)))
        try:
            yield
        finally:
            for job in jobs:
                job.cancel()
                with suppress(asyncio.CancelledError):
                    await job
            if owned:
                await app.state.engine.dispose()

    app = FastAPIOffline(  # FastAPI, with the docs' assets served by us rather than a CDN
        title="kmop-registry",
        version=API_VERSION,
        summary=summary,
        description=(
            "Registration of service providers for the Flemish kmo-portefeuille. "
            "Every error is an RFC 9457 `application/problem+json` document with a stable `code`."
        ),
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        openapi_tags=TAGS,
    )
    if engine is not None:
        app.state.engine = engine
        app.state.service = make_service(engine, settings, clock)
    app.state.verifier = TokenVerifier(settings)
    problems.install(app)
    app.add_middleware(CorrelationMiddleware)
    app.include_router(health.router)
    for router in (provider.router, bureau.router, agency.router, reads.router):
        app.include_router(router)
    return app


async def _forget_idempotency_keys(engine: AsyncEngine, settings: Settings) -> None:
    """Hourly: drop Idempotency-Keys older than the retention (at least 24 hours)."""
    retention = timedelta(hours=settings.idempotency_retention_hours)
    while True:
        try:
            await forget_expired(engine, retention)
        except Exception:
            log.exception("could not forget expired idempotency keys; trying again later")
        await asyncio.sleep(3600)
