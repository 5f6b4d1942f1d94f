"""Running commands and answering queries about registration units, bureaus and ratings.

Every command goes the same way, whoever sends it (API, CLI, deadline job): in one transaction,
read the stream, fold it, decide, append at the version read, fold the new events and project
them. A conflict with a concurrent writer re-runs the whole command on the new state (the
rules decide again), unless the caller pinned the version it saw (``expected_version``, the
HTTP ``If-Match``): then it fails with ``StaleVersion``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.domain import errors
from app.domain.bureaus import BureauCommand, BureauState, decide_bureau, evolve_bureau
from app.domain.decider import (
    ChooseAuditBureau,
    Command,
    Context,
    RecordDecision,
    SubmitApplication,
    decide,
)
from app.domain.event import DomainEvent
from app.domain.policies import HOURLY_RATES, HourlyRate, StarterCriteria
from app.domain.profiles import ProfileState, UpdateProfile, decide_profile, evolve_profile
from app.domain.ratings import RatingState, RecordRating, decide_rating, evolve_rating
from app.domain.registration import UnitState, evolve
from app.errors import ErrorKind, KmopError
from app.events import ConcurrencyConflict, EventMetadata, EventRegistry, EventStore
from app.events.catalog import (
    BUREAU_STREAM,
    PROVIDER_STREAM,
    RATING_STREAM,
    REGISTRY,
    UNIT_STREAM,
    bureau_id_from_stream,
    bureau_stream_id,
    provider_stream_id,
    rating_stream_id,
    unit_stream_id,
)
from app.events.projections import NUMBERING_LOCK, Projected, Projector
from app.metrics import Metrics
from app.services.clock import Clock, SystemClock

log = logging.getLogger(__name__)

S = TypeVar("S")


class StaleVersion(KmopError):
    code = "version-mismatch"
    kind = ErrorKind.PRECONDITION_FAILED
    title = "The resource changed since you read it"

    def __init__(self, expected: int, actual: int | None) -> None:
        at = "another version" if actual is None else f"version {actual}"
        super().__init__(
            f"you sent version {expected}, the resource is at {at}; read it again",
            expected_version=expected,
            actual_version=actual,
        )


class UnknownResource(KmopError):
    code = "not-found"
    kind = ErrorKind.NOT_FOUND
    title = "Not found"


@dataclass(frozen=True, slots=True)
class Outcome(Generic[S]):
    """What a command did: the stream's version and state after it, and the new events."""

    stream_id: str
    version: int
    state: S
    events: tuple[DomainEvent, ...]


@dataclass(frozen=True, slots=True)
class _Stream(Generic[S]):
    stream_id: str
    stream_type: str
    initial: S
    evolve: Callable[[S, DomainEvent], S]
    unit_key: str | None = None  # registration units are also projected row by row


Decide = Callable[[AsyncConnection, S, datetime], Awaitable[Sequence[DomainEvent]]]
# Runs in the command's transaction after its events are projected, before it commits: what it
# writes (the HTTP layer stores the idempotent response) commits or rolls back with the events.
Finish = Callable[[AsyncConnection, "Outcome[Any]"], Awaitable[None]]


def _without_context(decide_: Callable[[S, datetime], Sequence[DomainEvent]]) -> Decide[S]:
    async def run(conn: AsyncConnection, state: S, at: datetime) -> Sequence[DomainEvent]:
        return decide_(state, at)

    return run


# The provider's first registration, over all its units (a granted registration stays first
# registered once it stops or expires): the rating rules ask whether it precedes the rating.
_PROVIDER_FIRST_REGISTERED = (
    "SELECT min(first_registered_on) FROM registrations WHERE enterprise_number = :kbo"
)

_IDENTIFIER_IN_USE = {
    SubmitApplication: ("application_id", "SELECT 1 FROM applications WHERE application_id = :id"),
    ChooseAuditBureau: ("audit_id", "SELECT 1 FROM audits WHERE audit_id = :id"),
}


async def _refuse_identifiers_in_use(conn: AsyncConnection, command: Command) -> None:
    """Ids that clients choose name one application or audit across all units."""
    found = _IDENTIFIER_IN_USE.get(type(command))
    if found is None:
        return
    field, sql = found
    identifier = getattr(command, field)
    if await conn.scalar(text(sql), {"id": identifier}):
        raise errors.IdentifierInUse(f"{field} {identifier!r} is already in use")


class RegistrationService:
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
    ) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.projector = projector or Projector()
        self.registry = registry
        self.starter_criteria = starter_criteria or StarterCriteria()
        self.hourly_rates = hourly_rates
        self.attempts = attempts
        self.metrics: Metrics | None = None  # the app's: counts the events each command commits

    # --- commands -------------------------------------------------------------------------

    async def execute(
        self,
        unit_key: str,
        command: Command,
        metadata: EventMetadata | None = None,
        *,
        expected_version: int | None = None,
        now: datetime | None = None,
        finish: Finish | None = None,
    ) -> Outcome[UnitState]:
        if isinstance(command, SubmitApplication) and command.unit.key != unit_key:
            raise ValueError("the command's unit is not the stream's unit")
        stream = _Stream(unit_stream_id(unit_key), UNIT_STREAM, UnitState(), evolve, unit_key)

        async def decide_unit(
            conn: AsyncConnection, state: UnitState, at: datetime
        ) -> Sequence[DomainEvent]:
            await _refuse_identifiers_in_use(conn, command)
            return decide(command, state, at, await self._context(conn))

        return await self._run(
            stream,
            decide_unit,
            metadata,
            expected_version=expected_version,
            now=now,
            numbering=isinstance(command, RecordDecision),
            finish=finish,
        )

    async def execute_bureau(
        self,
        command: BureauCommand,
        metadata: EventMetadata | None = None,
        *,
        expected_version: int | None = None,
        finish: Finish | None = None,
    ) -> Outcome[BureauState]:
        stream = _Stream(
            bureau_stream_id(command.bureau_id), BUREAU_STREAM, BureauState(), evolve_bureau
        )
        return await self._run(
            stream,
            _without_context(partial(decide_bureau, command)),
            metadata,
            expected_version=expected_version,
            finish=finish,
        )

    async def record_rating(
        self,
        command: RecordRating,
        metadata: EventMetadata | None = None,
        *,
        finish: Finish | None = None,
    ) -> Outcome[RatingState]:
        stream = _Stream(
            rating_stream_id(command.reference), RATING_STREAM, RatingState(), evolve_rating
        )

        async def decide_with_registration(
            conn: AsyncConnection, state: RatingState, at: datetime
        ) -> Sequence[DomainEvent]:
            first_registered_on = await conn.scalar(
                text(_PROVIDER_FIRST_REGISTERED), {"kbo": str(command.provider)}
            )
            return decide_rating(command, state, at, first_registered_on)

        return await self._run(stream, decide_with_registration, metadata, finish=finish)

    async def update_profile(
        self,
        command: UpdateProfile,
        metadata: EventMetadata | None = None,
        *,
        expected_version: int | None = None,
        finish: Finish | None = None,
    ) -> Outcome[ProfileState]:
        stream = _Stream(
            provider_stream_id(str(command.enterprise)),
            PROVIDER_STREAM,
            ProfileState(),
            evolve_profile,
        )
        return await self._run(
            stream,
            _without_context(partial(decide_profile, command)),
            metadata,
            expected_version=expected_version,
            finish=finish,
        )

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
    ) -> Outcome[S]:
        for attempt in range(1, self.attempts + 1):
            try:
                outcome = await self._attempt(
                    stream, decide_, metadata, expected_version, now, numbering, finish
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
    ) -> Outcome[S]:
        # Events are recorded at the clock's time; ``now`` (the deadline job's --now) only
        # sets the instant the rules judge at, so nothing is ever recorded in the future.
        recorded_at = self.clock.now()
        at = now or recorded_at
        async with self.engine.connect() as conn, conn.begin():
            if numbering:  # before any write: see app/events/projections.py
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": NUMBERING_LOCK})
            store = EventStore(conn, self.registry)
            recorded = await store.read_stream(stream.stream_id)
            state = stream.initial
            for item in recorded:
                state = stream.evolve(state, item.event)
            version = len(recorded)
            if expected_version is not None and expected_version != version:
                raise StaleVersion(expected_version, version)
            events: Sequence[DomainEvent] = await decide_(conn, state, at)
            if events:
                await store.append(
                    stream.stream_id,
                    stream.stream_type,
                    version,
                    events,
                    metadata,
                    recorded_at=recorded_at,
                )
                for offset, event in enumerate(events, start=1):
                    state = stream.evolve(state, event)
                    unit = (stream.unit_key, state) if stream.unit_key else None
                    projected = Projected(stream.stream_id, version + offset, event, recorded_at)
                    await self.projector.apply(conn, projected, unit)  # type: ignore[arg-type]
            outcome = Outcome(stream.stream_id, version + len(events), state, tuple(events))
            if finish is not None:
                await finish(conn, outcome)
        return outcome

    async def _context(self, conn: AsyncConnection) -> Context:
        """What the decider needs from elsewhere: the bureaus, folded from their own streams
        (every appointment period counts), and the settings."""
        ids = (await conn.execute(text("SELECT bureau_id FROM bureaus"))).scalars().all()
        recorded = await EventStore(conn, self.registry).read_streams(
            [bureau_stream_id(bureau_id) for bureau_id in ids]
        )
        bureaus: dict[str, BureauState] = {}
        for item in recorded:
            bureau_id = bureau_id_from_stream(item.stream_id)
            bureaus[bureau_id] = evolve_bureau(bureaus.get(bureau_id, BureauState()), item.event)
        return Context(
            bureaus=bureaus,
            starter_criteria=self.starter_criteria,
            hourly_rates=self.hourly_rates,
        )

    # --- queries --------------------------------------------------------------------------

    async def unit_state(
        self, unit_key: str, *, as_of: datetime | None = None
    ) -> tuple[UnitState, int]:
        """The unit's state, now or as of a past instant: the fold of the events recorded
        up to then. Returns the state and the stream version it reflects."""
        async with self.engine.connect() as conn:
            recorded = await EventStore(conn, self.registry).read_stream(
                unit_stream_id(unit_key), as_of=as_of
            )
        state = UnitState()
        for item in recorded:
            state = evolve(state, item.event)
        return state, len(recorded)

    async def unit_key_of_application(self, application_id: str) -> str:
        return await self._lookup(
            "SELECT unit_key FROM applications WHERE application_id = :id", application_id
        )

    async def unit_key_of_audit(self, audit_id: str) -> str:
        return await self._lookup("SELECT unit_key FROM audits WHERE audit_id = :id", audit_id)

    async def _lookup(self, sql: str, key: str) -> str:
        async with self.engine.connect() as conn:
            found = await conn.scalar(text(sql), {"id": key})
        if found is None:
            raise UnknownResource(f"{key!r} does not exist")
        return str(found)
