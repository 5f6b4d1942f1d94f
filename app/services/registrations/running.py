"""One command in one transaction: read, fold, decide, append, project; decided again on a
conflict with a concurrent writer (``CommandRunner``, the base of ``RegistrationService``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain import errors
from app.domain.bureaus import BureauState, evolve_bureau
from app.domain.decider import Context
from app.domain.event import DomainEvent
from app.domain.policies import HOURLY_RATES, HourlyRate, StarterCriteria
from app.events import ConcurrencyConflict, EventMetadata, EventRegistry
from app.events.catalog import REGISTRY, bureau_id_from_stream, bureau_stream_id, unit_stream_id
from app.events.projections import NUMBERING_LOCK, Change, Projected, Projector, changes
from app.events.store import prepare_append
from app.runtime.metrics import Metrics
from app.runtime.pg import Pool, Statement
from app.services.clock import Clock, SystemClock
from app.services.registrations.outcomes import (
    Decide,
    Finish,
    Located,
    Outcome,
    S,
    StaleVersion,
    UnknownResource,
    _Fact,
    _Stream,
)
from app.services.registrations.reads import (
    _BUREAU_HEADS,
    _BUREAU_STREAMS,
    _STREAM_EVENTS,
    _args,
    _one_read,
)
from app.services.transaction import Transaction

log = logging.getLogger(__name__)


class CommandRunner:
    """The service's settings and how each of its commands runs: in one transaction, decided
    again on a conflict (``_run``), the bureaus' folds kept between commands."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Clock | None = None,
        projector: Projector | None = None,
        registry: EventRegistry = REGISTRY,
        starter_criteria: StarterCriteria | None = None,
        hourly_rates: tuple[HourlyRate, ...] = HOURLY_RATES,
        attempts: int = 5,
        pg: Pool | None = None,
    ) -> None:
        self.engine = engine
        # the commands' connections: the app's pool, or one closed with the engine
        self.pg = pg or Pool.for_engine(engine)
        self.clock = clock or SystemClock()
        self.projector = projector or Projector()
        self.registry = registry
        self.starter_criteria = starter_criteria or StarterCriteria()
        self.hourly_rates = hourly_rates
        self.attempts = attempts
        self.metrics: Metrics | None = None  # the app's: counts the events each command commits
        # bureau id -> (stream version, head hash, state folded up to it)
        self._bureaus: dict[str, tuple[int, str | None, BureauState]] = {}

    async def _run(
        self,
        stream: _Stream[S],
        decide_: Decide[S],
        metadata: EventMetadata | None,
        *,
        expected_version: int | None = None,
        now: datetime | None = None,
        numbering: bool = False,
        finish: Finish | None = None,
        context: bool = False,
        identifier: tuple[str, str, Statement] | None = None,
        fact: _Fact | None = None,
        lock: int | None = None,
        located: Located | None = None,
    ) -> Outcome[S]:
        for attempt in range(1, self.attempts + 1):
            try:
                outcome = await self._attempt(
                    stream,
                    decide_,
                    metadata,
                    expected_version,
                    now,
                    numbering,
                    finish,
                    context,
                    identifier,
                    fact,
                    lock,
                    located,
                )
            except ConcurrencyConflict as conflict:
                if expected_version is not None:
                    raise StaleVersion(expected_version, conflict.actual_version) from None
                if attempt == self.attempts:
                    raise
                log.info("conflict on %s, deciding again (%d)", stream.stream_id, attempt)
                continue
            if self.metrics is not None:  # committed by now
                self.metrics.committed(outcome.events)
            return outcome
        raise AssertionError("unreachable")

    async def _attempt(
        self,
        stream: _Stream[S],
        decide_: Decide[S],
        metadata: EventMetadata | None,
        expected_version: int | None,
        now: datetime | None,
        numbering: bool,
        finish: Finish | None,
        context: bool,
        identifier: tuple[str, str, Statement] | None,
        fact: _Fact | None,
        lock: int | None,
        located: Located | None = None,
    ) -> Outcome[S]:
        # Events are recorded at the clock's time; ``now`` (the deadline job's --now) only
        # sets the instant the rules judge at, so nothing is ever recorded in the future.
        recorded_at = self.clock.now()
        at = now or recorded_at
        lookup = finish.lookup if finish is not None else None
        reads = [located.stream_read, located.row] if located else []
        reads = reads or [Statement(_STREAM_EVENTS, (stream.stream_id,))]
        reads += [_BUREAU_HEADS] if context else []
        reads += [identifier[2]] if identifier else []
        reads += [fact.statement] if fact else []
        reads += [lookup] if lookup else []
        # a decision takes the numbering lock before any write: see app.events.projections
        lock = NUMBERING_LOCK if numbering else lock
        async with self.pg.connection() as conn, Transaction.begin(conn, lock=lock) as tx:
            values = list(await conn.fetchrow(*_args(_one_read(reads))))
            recorded, values = values[0] or [], values[1:]
            if located is not None:
                located.value = values.pop(0)
                if located.value is None:
                    raise UnknownResource(located.missing)
                unit_key = str(located.value[0])
                stream = replace(stream, stream_id=unit_stream_id(unit_key), unit_key=unit_key)
            heads = values.pop(0) if context else None
            in_use = values.pop(0) if identifier else False
            if fact is not None:
                fact.value = values.pop(0)
                if fact.value is None and fact.missing is not None:
                    raise UnknownResource(fact.missing)
            if finish is not None and lookup is not None:
                finish.recalled(values.pop(0))
            state = stream.initial
            before = []
            for event_type, schema_version, data in recorded:
                event = self.registry.deserialize(event_type, schema_version, data)
                before.append(event)
                state = stream.evolve(state, event)
            version = len(recorded)
            if expected_version is not None and expected_version != version:
                raise StaleVersion(expected_version, version)
            if identifier and in_use:
                raise errors.IdentifierInUse(f"{identifier[0]} {identifier[1]!r} is already in use")
            rules = await self._context(conn, heads or {}) if context else Context()
            events: Sequence[DomainEvent] = decide_(state, at, rules)
            made: list[Change] = []
            if events:
                tx.append(
                    prepare_append(
                        self.registry,
                        stream.stream_id,
                        stream.stream_type,
                        version,
                        events,
                        metadata,
                        recorded_at=recorded_at,
                    )
                )
                state = await self._project(tx, stream, state, version, events, recorded_at, made)
            outcome = Outcome(
                stream.stream_id,
                version + len(events),
                state,
                tuple(events),
                tuple(before),
                tuple(made),
            )
            if finish is not None:
                await finish(tx, outcome)
        return outcome

    async def _project(
        self,
        tx: Transaction,
        stream: _Stream[S],
        state: S,
        version: int,
        events: Sequence[DomainEvent],
        recorded_at: datetime,
        made: list[Change],
    ) -> S:
        """Fold the new events and project them; their writes wait in ``tx`` (deferred). What
        they change in the tables other than ``registrations`` is added to ``made``."""
        for offset, event in enumerate(events, start=1):
            state = stream.evolve(state, event)
            unit = (stream.unit_key, state) if stream.unit_key else None
            superseded = offset < len(events)
            projected = Projected(
                stream.stream_id, version + offset, event, recorded_at, superseded
            )
            await self.projector.apply(tx, projected, unit)  # type: ignore[arg-type]
            made.extend(changes(projected, unit))  # type: ignore[arg-type]
        return state

    async def _context(self, conn: Any, heads: dict[str, list[Any]]) -> Context:
        """What the decider needs from elsewhere: the bureaus, folded from their own streams
        (every appointment period counts), and the settings. The folds are kept; a bureau's
        stream is read again (one more round trip) only when its head changed."""
        stale = [
            bureau_id
            for bureau_id, (version, hash_) in heads.items()
            if self._bureaus.get(bureau_id, (None, None))[:2] != (version, hash_)
        ]
        if stale:
            rows = await conn.fetch(_BUREAU_STREAMS, [bureau_stream_id(b) for b in stale])
            for row in rows:
                bureau = BureauState()
                for event_type, schema_version, data in row["events"]:
                    event = self.registry.deserialize(event_type, schema_version, data)
                    bureau = evolve_bureau(bureau, event)
                bureau_id = bureau_id_from_stream(row["stream_id"])
                self._bureaus[bureau_id] = (row["version"], row["hash"], bureau)
        return Context(
            bureaus={bureau_id: self._bureaus[bureau_id][2] for bureau_id in heads},
            starter_criteria=self.starter_criteria,
            hourly_rates=self.hourly_rates,
        )
