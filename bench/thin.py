"""The thinnest FastAPI + asyncpg append endpoint: the contender ``bench/lean.py`` serves.

    THIN_DSN=postgresql://postgres@127.0.0.1:5432/db .venv/bin/uvicorn bench.thin:app

One pool, one ``INSERT`` of the request's JSON body into a bare events table, 201. No
validation beyond PostgreSQL's own ``jsonb`` parsing, no logging, no transaction of its own.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request, Response

TABLE = (
    "CREATE TABLE IF NOT EXISTS thin_events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " data jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())"
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(os.environ["THIN_DSN"], min_size=10, max_size=10)
    await app.state.pool.execute(TABLE)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/events")
async def append(request: Request) -> Response:
    await request.app.state.pool.execute(
        "INSERT INTO thin_events (data) VALUES ($1)", (await request.body()).decode()
    )
    return Response(status_code=201)
