"""Dependencies shared by the routers, as ``Annotated`` aliases.

Each alias depends on an ``async def`` beside the plain function (which other modules call
directly): FastAPI runs a plain ``def`` dependency in a worker thread, a hop through anyio's
thread pool on every request for what is an attribute read (py-spy: 3.7 % of the server's
samples under one client's public searches; BENCHMARKS.md, issue 12).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from app.runtime.pg import Pool

T = TypeVar("T")


def _awaited(read: Callable[[Request], T]) -> Callable[[Request], Awaitable[T]]:
    """``read`` as a coroutine function, which FastAPI awaits in the request's own task."""

    async def dependency(request: Request) -> T:
        return read(request)

    dependency.__qualname__ = f"_awaited({read.__qualname__})"
    return dependency


def get_engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


EngineDep = Annotated[AsyncEngine, Depends(_awaited(get_engine))]


def get_pg(request: Request) -> Pool:
    """The process's asyncpg pool (``app.runtime.pg``): the hot read paths' connections."""
    pool: Pool = request.app.state.pg
    return pool


PgDep = Annotated[Pool, Depends(_awaited(get_pg))]


def public_pool(request: Request) -> Pool:
    """The public reads' asyncpg pool: a replica's when KMOP_READ_DATABASE_URL is set
    (``app.runtime.readers``). Every public read takes it, and nothing else."""
    pool: Pool = request.app.state.public.pg
    return pool


def public_engine(request: Request) -> AsyncEngine:
    """The public reads' SQLAlchemy engine, beside ``public_pool`` (``app.runtime.readers``)."""
    engine: AsyncEngine = request.app.state.public.engine
    return engine


PublicPgDep = Annotated[Pool, Depends(_awaited(public_pool))]
PublicEngineDep = Annotated[AsyncEngine, Depends(_awaited(public_engine))]
