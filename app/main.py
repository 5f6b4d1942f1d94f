"""The app factory: one FastAPI app per call, no global app object."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from sqlalchemy.ext.asyncio import AsyncEngine

from app import __doc__ as summary
from app.api import health, problems
from app.db import make_engine
from app.services.clock import Clock
from app.services.deadlines import run_periodically
from app.services.factory import make_service
from app.settings import Settings, get_settings

API_VERSION = "0.1.0"


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
        job = None
        if settings.deadline_interval_seconds > 0 and settings.environment != "test":
            job = asyncio.create_task(
                run_periodically(app.state.service, settings.deadline_interval_seconds)
            )
        try:
            yield
        finally:
            if job is not None:
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
    )
    if engine is not None:
        app.state.engine = engine
        app.state.service = make_service(engine, settings, clock)
    problems.install(app)
    app.include_router(health.router)
    return app
