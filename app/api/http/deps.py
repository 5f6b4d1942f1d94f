"""Dependencies shared by the routers, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from app.runtime.pg import Pool


def get_engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


EngineDep = Annotated[AsyncEngine, Depends(get_engine)]


def get_pg(request: Request) -> Pool:
    """The process's asyncpg pool (``app.runtime.pg``): the hot read paths' connections."""
    pool: Pool = request.app.state.pg
    return pool


PgDep = Annotated[Pool, Depends(get_pg)]


def public_pool(request: Request) -> Pool:
    """The public reads' asyncpg pool: a replica's when KMOP_READ_DATABASE_URL is set
    (``app.runtime.readers``). Every public read takes it, and nothing else."""
    pool: Pool = request.app.state.public.pg
    return pool


def public_engine(request: Request) -> AsyncEngine:
    """The public reads' SQLAlchemy engine, beside ``public_pool`` (``app.runtime.readers``)."""
    engine: AsyncEngine = request.app.state.public.engine
    return engine


PublicPgDep = Annotated[Pool, Depends(public_pool)]
PublicEngineDep = Annotated[AsyncEngine, Depends(public_engine)]
