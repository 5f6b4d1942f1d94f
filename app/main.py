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
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import __doc__ as house
from app.api.delivery import run_dispatcher
from app.api.http import problems
from app.api.http.access import AccessMiddleware
from app.api.http.auth import TokenVerifier
from app.api.http.compression import Compression
from app.api.http.correlation import CorrelationMiddleware
from app.api.http.cors import PublicCorsMiddleware
from app.api.http.idempotency import forget_expired
from app.api.http.limits import BodyLimitMiddleware
from app.api.http.methods import MethodsMiddleware
from app.api.routers import (
    agency,
    attest,
    bureau,
    feed,
    health,
    metrics,
    norm,
    opendata,
    projects,
    provider,
    public,
    reads,
    registered_on,
    webhooks,
)
from app.events.checkpoints import record_checkpoints_periodically
from app.runtime.db import make_engine
from app.runtime.metrics import Metrics
from app.runtime.pg import Pool
from app.runtime.readers import PublicReads
from app.runtime.settings import Settings, get_settings
from app.services.clock import Clock
from app.services.deadlines import run_periodically
from app.services.factory import make_service
from app.web import check, pages

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
    {
        "name": "public",
        "description": "The public search module (no login): providers registered today, "
        "found by name, number, theme, service type and region; only what is public.",
    },
    {"name": "operations", "description": "Liveness, readiness and metrics; no login."},
]


def _operation_id(route: APIRoute) -> str:
    """Stable operation ids: the route function's name, never derived from the path."""
    return route.name


def _pool(url: str, settings: Settings) -> Pool:
    """The hot paths' asyncpg pool, as large as the engine's pool may grow."""
    return Pool(url, max_size=settings.db_pool_size + settings.db_max_overflow)


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    clock: Clock | None = None,
    worker: int = 0,
) -> FastAPI:
    """The app. ``worker``: which of `kmop serve --workers`'s processes serves it; only the
    first (0) runs the background jobs (deadlines, checkpoints, forgetting idempotency keys,
    delivering webhooks)."""
    settings = settings or get_settings()
    background = worker == 0 and settings.environment != "test"

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
            app.state.pg = _pool(settings.database_url, settings)
            app.state.public = PublicReads.of(settings, pg=app.state.pg, engine=app.state.engine)
            app.state.service = make_service(app.state.engine, settings, clock, pg=app.state.pg)
            app.state.service.metrics = app.state.metrics
        jobs = []
        if settings.deadline_interval_seconds > 0 and background:
            jobs.append(
                asyncio.create_task(
                    run_periodically(app.state.service, settings.deadline_interval_seconds)
                )
            )
        if background:
            jobs.append(asyncio.create_task(_forget_idempotency_keys(app.state.engine, settings)))
            for _ in range(settings.webhook_dispatchers):  # safe with several: leases
                jobs.append(asyncio.create_task(run_dispatcher(app.state.engine, settings)))
        checkpoint_key = settings.checkpoint_secret()
        if settings.checkpoint_interval_seconds > 0 and background:
            if checkpoint_key is None:
                log.warning("no KMOP_CHECKPOINT_KEY: the event log is not checkpointed")
            else:
                jobs.append(
                    asyncio.create_task(
                        record_checkpoints_periodically(
                            app.state.engine, checkpoint_key, settings.checkpoint_interval_seconds
                        )
                    )
                )
        app.state.stopping.clear()
        try:
            yield
        finally:
            app.state.stopping.set()  # event streams end (app.runtime.serving sets it earlier)
            for job in jobs:
                job.cancel()
                with suppress(asyncio.CancelledError):
                    await job
            await app.state.pg.close()
            await app.state.public.close()
            if owned:
                await app.state.engine.dispose()

    app = FastAPIOffline(  # FastAPI, with the docs' assets served by us rather than a CDN
        title="kmop-registry",
        version=API_VERSION,
        summary=(house or "").split("\n\n")[0],
        description=(
            "Registration of service providers for the Flemish kmo-portefeuille. "
            "Every error is an RFC 9457 `application/problem+json` document with a stable `code`."
        ),
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        openapi_tags=TAGS,
    )
    app.state.metrics = Metrics(lambda: getattr(app.state, "engine", None), worker=worker)
    if engine is not None:
        app.state.engine = engine
        app.state.pg = _pool(engine.url.render_as_string(hide_password=False), settings)
        app.state.public = PublicReads.of(settings, pg=app.state.pg, engine=engine)
        app.state.service = make_service(engine, settings, clock, pg=app.state.pg)
        app.state.service.metrics = app.state.metrics
    app.state.verifier = TokenVerifier(settings)
    app.state.settings = settings
    app.state.stopping = asyncio.Event()  # set when the app shuts down
    problems.install(app)
    # An unknown address answers a browser with a page, a program with problem+json.
    app.add_exception_handler(StarletteHTTPException, pages.http_error)
    app.add_middleware(Compression, minimum_size=settings.gzip_minimum_bytes)  # innermost
    app.add_middleware(MethodsMiddleware, routes=lambda: app.routes)  # HEAD, OPTIONS
    app.add_middleware(PublicCorsMiddleware, origins=settings.cors_origins_allowed())
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(AccessMiddleware, metrics=app.state.metrics)  # inside: sees the id
    app.add_middleware(CorrelationMiddleware)
    app.include_router(health.router)
    app.include_router(metrics.router)
    routers = (
        provider.router,
        bureau.router,
        agency.router,
        projects.router,
        feed.router,
        webhooks.router,
        reads.router,
    )
    for router in (*routers, opendata.router, public.router, norm.router):
        app.include_router(router)
    app.include_router(attest.router)  # the attest of registration (PDF)
    app.include_router(registered_on.router)  # was it registered on that day? (public)
    app.include_router(pages.router)  # the public web page (HTML, not in the API's schema)
    app.include_router(check.router)  # its check: in force on that day? (/controle)
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
