"""What the service counts for Prometheus: requests, committed events, deadline runs, the pool.

One ``Metrics`` per app, each with its own ``CollectorRegistry`` (the factory builds many apps in
one process; the global default registry would refuse the second one's series). Counters are
bumped by the code that knows (the request middleware, the service after a commit, the deadline
job); the pool is read when Prometheus scrapes.

No projection-lag gauge: projections are written in the command's own transaction (inline), so
they are never behind the events table, and there is no checkpoint to compare with.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.event import DomainEvent

# Seconds; the API answers in milliseconds, a slow command under contention in a second or two.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(
        self, engine: Callable[[], AsyncEngine | None] = lambda: None, *, worker: int = 0
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # Which process answered the scrape: with `kmop serve --workers N` each worker counts
        # its own requests, and a scrape of the shared port reaches one of them.
        Gauge(
            "kmop_worker_info",
            "The `kmop serve` worker that answered: its index (0 runs the background jobs) "
            "and process id.",
            ["worker", "pid"],
            registry=self.registry,
        ).labels(str(worker), str(os.getpid())).set(1)
        self.requests = Counter(
            "kmop_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kmop_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.events = Counter(
            "kmop_events_appended",
            "Events committed to the event store, by event type.",
            ["type"],
            registry=self.registry,
        )
        self.deadline_runs = Counter(
            "kmop_deadline_runs",
            "Completed runs of the deadline job (scheduled or POST /deadlines/run).",
            registry=self.registry,
        )
        self.deadline_events = Counter(
            "kmop_deadline_events",
            "Events the deadline job wrote, by event type.",
            ["type"],
            registry=self.registry,
        )
        self.deadline_failures = Counter(
            "kmop_deadline_unit_failures",
            "Units the deadline job could not handle (logged; retried on the next run).",
            registry=self.registry,
        )
        self.deadline_last_run = Gauge(
            "kmop_deadline_last_run_timestamp_seconds",
            "When the deadline job last completed (Unix time); alert when it grows old.",
            registry=self.registry,
        )
        self.registry.register(PoolCollector(engine))

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def committed(self, events: Iterable[DomainEvent]) -> None:
        for event in events:
            self.events.labels(type(event).__name__).inc()

    def deadline_run(self, events: dict[str, int], failed: int) -> None:
        self.deadline_runs.inc()
        for event_type, count in events.items():
            self.deadline_events.labels(event_type).inc(count)
        self.deadline_failures.inc(failed)
        self.deadline_last_run.set_to_current_time()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class PoolCollector(Collector):
    """The SQLAlchemy pool as it is at scrape time: connections in use and the pool's size."""

    def __init__(self, engine: Callable[[], AsyncEngine | None]) -> None:
        self.engine = engine

    def describe(self) -> Iterable[Metric]:
        return []  # the series exist only once the engine does (after the app's startup)

    def collect(self) -> Iterator[Metric]:
        engine = self.engine()
        pool = engine.pool if engine is not None else None
        checked_out = getattr(pool, "checkedout", None)
        size = getattr(pool, "size", None)
        if pool is None or checked_out is None or size is None:
            return  # a pool without these (NullPool, StaticPool): nothing to report
        yield GaugeMetricFamily(
            "kmop_db_pool_checked_out",
            "Database connections in use by the service right now.",
            value=checked_out(),
        )
        yield GaugeMetricFamily(
            "kmop_db_pool_size",
            "Connections the pool keeps open (more may be opened up to its max_overflow).",
            value=size(),
        )
