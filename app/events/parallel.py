"""The rebuild's fold and write in several processes, each over a part of the events.

A rebuild spends most of its time in Python folding events one by one (decoding, ``evolve``,
``changes``): one process uses one core. Here ``workers`` processes each read, fold and write a
part of the events, all from one snapshot: the parent exports its REPEATABLE READ snapshot
(``pg_export_snapshot``) and each worker's transaction imports it (``SET TRANSACTION
SNAPSHOT``), so together they see exactly the events the parent's snapshot sees.

The parts are cut so that no row of a projection table takes events of two parts: every event
that changes a row is in the part of that row's key. Units, their applications and audits, and
the public row and profile of an enterprise all belong to the enterprise: a unit's stream
(``unit:<enterprise>:…``), a provider's (``provider:<enterprise>``), a rating (whose row is
its provider's, ``provider_enterprise_number``) and a project (the provider its first event
names: a rating of the project changes the project's row too) go to the part of that
enterprise number; any other stream (a bureau's) to the part of its stream id. Within a part
the events are folded in the global order, as in one process. Should a change ever cross
parts, the primary keys built after the load refuse the duplicate rows (an upsert's) rather
than keep them.

Registration numbers follow the global order across parts: each worker sends the place
(transaction id, position) of every first registration it folded; the parent numbers them all
(``bulk.numbers``, the same rule as one process) and sends each worker its units' numbers, then
the workers COPY their rows into the new tables, side by side.

Workers are forked (no second import of the service, no pickling of the registry); the parent
waits on their pipes without blocking its event loop.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import ForkProcess
from typing import Any

import asyncpg

from app.events.bulk import Fold, Order, fold_events, numbers, write_tables
from app.events.catalog import PROJECT_STREAM, PROVIDER_STREAM, RATING_STREAM, UNIT_STREAM
from app.events.registry import EventRegistry


# The part an event belongs to: a hash of the key of the rows it changes (above), modulo $1. A
# project's events go with the provider its first event names (a rating of the project changes
# the project's row too, and a rating goes with its provider); a project naming no provider, by
# its stream id.
def _part(events: str) -> str:
    return f"""
    WHERE (hashtext(COALESCE(CASE e.stream_type
        WHEN '{UNIT_STREAM}' THEN split_part(e.stream_id, ':', 2)
        WHEN '{PROVIDER_STREAM}' THEN split_part(e.stream_id, ':', 2)
        WHEN '{RATING_STREAM}' THEN e.data->>'provider_enterprise_number'
        WHEN '{PROJECT_STREAM}' THEN (SELECT f.data->>'provider_enterprise_number' FROM {events} f
            WHERE f.stream_id = e.stream_id AND f.version = 1)
        END, e.stream_id)) & 2147483647) % $1 = $2
"""


async def connect(dsn: str) -> asyncpg.Connection:
    """A worker's session. No JIT: the read's estimated cost (a subquery per event, never run
    for most) is far above ``jit_above_cost``, and compiling it with inlining and optimization
    took 0.39 s of the server's CPU per worker and rebuild, whatever the size (EXPLAIN ANALYZE
    at 1,000,001 events), for an index scan and a filter that compiled code does not speed up."""
    return await asyncpg.connect(dsn, server_settings={"jit": "off"})


_EVENTS_TABLE = (
    "SELECT format('%I.%I', relnamespace::regnamespace::text, relname) FROM pg_class"
    " WHERE oid = 'events'::regclass"
)


class WorkerFailed(RuntimeError):
    """A worker process of the rebuild failed: its traceback, or how it ended."""


async def fold_and_write(
    pg: asyncpg.Connection,
    dsn: str,
    schema: str,
    fold: Fold,
    workers: int,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Fold every event a snapshot taken now sees, in ``workers`` processes, and COPY the rows
    into the (empty) tables of ``schema``; note the snapshot and the events in ``fold``; the
    number of units written. ``pg``'s transaction holds the snapshot only until every worker
    has read its part (so no transaction of the rebuild holds back the server's horizon while
    the rows are written)."""
    context = multiprocessing.get_context("fork")
    pipes: list[Connection] = []
    processes: list[ForkProcess] = []
    try:
        async with pg.transaction(isolation="repeatable_read", readonly=True):
            exported = await pg.fetchval("SELECT pg_export_snapshot()")  # first: the snapshot
            fold.snapshot = await pg.fetchval("SELECT pg_current_snapshot()::text")
            events_table = await pg.fetchval(_EVENTS_TABLE)
            for part in range(workers):
                parent_end, child_end = context.Pipe()
                job = _Job(dsn, exported, events_table, schema, part, workers, fold)
                process = context.Process(target=_work, args=(child_end, job), daemon=True)
                process.start()
                child_end.close()  # so that a worker that dies is an EOF here, not a hang
                pipes.append(parent_end)
                processes.append(process)
            folded = await _from_all(pipes, "folded", progress)
        serials = numbers((unit for part in folded for unit in part), fold.number_base)
        for pipe, part in zip(pipes, folded, strict=True):
            pipe.send({key: serials[key] for key, _ in part})
        done = await _from_all(pipes, "written", progress)
        fold.events += sum(events for events, _ in done)
        return sum(units for _, units in done)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
            process.join()
        for pipe in pipes:
            pipe.close()


async def _from_all(
    pipes: list[Connection], kind: str, progress: Callable[[int], None] | None
) -> list[Any]:
    """Each worker's next message of ``kind``; the first failure stops the waiting for the
    others (the caller then ends them)."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_expect(pipe, kind, progress)) for pipe in pipes]
    except ExceptionGroup as failures:
        raise failures.exceptions[0] from None
    return [task.result() for task in tasks]


async def _expect(pipe: Connection, kind: str, progress: Callable[[int], None] | None) -> Any:
    """The next message of ``kind`` from a worker, passing its progress on."""
    while True:
        try:
            message, value = await asyncio.to_thread(pipe.recv)
        except EOFError:
            raise WorkerFailed("a rebuild worker ended without a word") from None
        if message == "progress":
            if progress is not None:
                progress(value)
        elif message == "failed":
            raise WorkerFailed(value)
        else:
            assert message == kind, (message, kind)
            return value


class _Job:
    """What a worker is to do (handed over by the fork, not pickled)."""

    def __init__(
        self,
        dsn: str,
        snapshot: str,
        events: str,
        schema: str,
        part: int,
        parts: int,
        fold: Fold,
    ) -> None:
        self.dsn, self.snapshot, self.events, self.schema = dsn, snapshot, events, schema
        self.part, self.parts = part, parts
        self.registry: EventRegistry = fold.registry
        self.number_base = fold.number_base


def _work(pipe: Connection, job: _Job) -> None:
    """A worker process: its part of the events folded, numbered by the parent, written."""
    # A forked child inherits the parent's running event loop as the running one: forget it.
    asyncio.events._set_running_loop(None)
    # Everything a worker makes stays alive until it has written its rows and ends: the
    # collector's passes over that heap (each a pass over every row) would find nothing to free.
    gc.disable()
    try:
        asyncio.run(_work_async(pipe, job))
    except BaseException:
        pipe.send(("failed", traceback.format_exc()))
    finally:
        pipe.close()


async def _work_async(pipe: Connection, job: _Job) -> None:
    fold = Fold(job.registry, job.number_base)
    pg = await connect(job.dsn)
    try:
        async with pg.transaction(isolation="repeatable_read", readonly=True):
            await pg.execute(f"SET TRANSACTION SNAPSHOT '{job.snapshot}'")
            await fold_events(
                pg,
                fold,
                lambda n: pipe.send(("progress", n)),
                events=job.events,
                where=_part(job.events),
                args=(job.parts, job.part),
            )
        registered: list[tuple[str, Order]] = list(fold.registered.items())
        pipe.send(("folded", registered))
        serials: dict[str, int] = await asyncio.to_thread(pipe.recv)
        async with pg.transaction():
            await write_tables(pg, job.schema, fold, serials)
        pipe.send(("written", (fold.events, len(fold.units))))
    finally:
        await pg.close()
