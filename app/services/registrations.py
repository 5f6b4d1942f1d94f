"""Running commands and answering queries about registration units, bureaus and ratings.

Every command goes the same way, whoever sends it (API, CLI, deadline job): in one transaction,
read the stream, fold it, decide, append at the version read, fold the new events and project
them. A conflict with a concurrent writer re-runs the whole command on the new state (the
rules decide again), unless the caller pinned the version it saw (``expected_version``, the
HTTP ``If-Match``): then it fails with ``StaleVersion``.

On the wire that is four round trips on one connection of the process's asyncpg pool
(``app.runtime.pg``): BEGIN; one read (the stream, and in the same statement what the rules need
from
elsewhere: whether a new id is in use, the bureaus' versions, the caller's lookup such as an
``Idempotency-Key``); one write (the append, the projections' rows and what the caller stores,
``app.services.transaction``); COMMIT. The bureaus' states are kept in the process, folded from
their streams, and read again only when a stream's head (version and hash) changed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache, partial
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

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
from app.domain.errors import ErrorKind, KmopError
from app.domain.event import DomainEvent
from app.domain.policies import HOURLY_RATES, HourlyRate, StarterCriteria, end_of_day
from app.domain.profiles import ProfileState, UpdateProfile, decide_profile, evolve_profile
from app.domain.projects import (
    Holder,
    ProjectCommand,
    ProjectState,
    RecordProject,
    decide_project,
    evolve_project,
)
from app.domain.ratings import (
    RatedProject,
    RatingState,
    RecordRating,
    decide_rating,
    evolve_rating,
)
from app.domain.registration import UnitState, evolve
from app.events import ConcurrencyConflict, EventMetadata, EventRegistry, EventStore
from app.events.catalog import (
    BUREAU_STREAM,
    PROJECT_STREAM,
    PROVIDER_STREAM,
    RATING_STREAM,
    REGISTRY,
    UNIT_STREAM,
    bureau_id_from_stream,
    bureau_stream_id,
    project_stream_id,
    provider_stream_id,
    rating_stream_id,
    unit_stream_id,
)
from app.events.projections import NUMBERING_LOCK, Change, Projected, Projector, changes
from app.events.store import prepare_append
from app.runtime.metrics import Metrics
from app.runtime.pg import Pool, Statement, together
from app.services.clock import Clock, SystemClock
from app.services.transaction import Transaction

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
    """What a command did: the stream's version and state after it, and the new events; what
    a reply is made of without reading again: the stream's events before them (``before``) and
    what the new ones changed in the projections other than ``registrations`` (``changes``,
    as ``app.events.projections.changes`` defines them)."""

    stream_id: str
    version: int
    state: S
    events: tuple[DomainEvent, ...]
    before: tuple[DomainEvent, ...] = ()
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True, slots=True)
class _Stream(Generic[S]):
    stream_id: str
    stream_type: str
    initial: S
    evolve: Callable[[S, DomainEvent], S]
    unit_key: str | None = None  # registration units are also projected row by row


Decide = Callable[[S, datetime, Context], Sequence[DomainEvent]]


class Finish(Protocol):
    """What the caller adds to a command's transaction (the HTTP layer: the reply, and the
    response an ``Idempotency-Key`` remembers, ``app.api.http.commands``)."""

    @property
    def lookup(self) -> Statement | None:
        """One value to read with the command's own read (e.g. a stored response), or None."""

    def recalled(self, value: Any) -> None:
        """The lookup's value, before the command decides; raising ends the command."""

    async def __call__(self, tx: Transaction, outcome: Any) -> None:
        """After the command's writes are deferred, before it commits: what it writes
        commits or rolls back with the events."""


@dataclass(slots=True)
class Located:
    """A unit's stream found by one of its resources (an audit), within the caller's scope, by
    the command's one read: ``row`` reads one JSON array whose first element is the unit's key
    (NULL: no such resource the caller may see, ``UnknownResource(missing)``). Once read,
    ``value`` is the array, as it was before the command (for its reply). A project's command
    finds its project's row the same way (``execute_project``)."""

    row: Statement
    missing: str
    value: list[Any] | None = None

    @property
    def stream_read(self) -> Statement:
        """The events of the stream ``row`` names, in the same statement."""
        n = len(self.row.args) + 1
        sql = f"{_STREAM_EVENTS_WHERE} stream_id = ${n} || (({self.row.sql}) ->> 0)"
        return Statement(sql, (*self.row.args, unit_stream_id("")))


@dataclass(slots=True)
class _Fact:
    """One more value a decider needs, read with the command's one read statement. With
    ``missing``, a NULL value is ``UnknownResource(missing)``, before the command goes on."""

    statement: Statement
    value: Any = None
    missing: str | None = None


def _without_context(decide_: Callable[[S, datetime], Sequence[DomainEvent]]) -> Decide[S]:
    def run(state: S, at: datetime, context: Context) -> Sequence[DomainEvent]:
        return decide_(state, at)

    return run


# The project a rating names and its provider's first registration, over all its units (a
# granted registration stays first registered once it stops or expires): the rating rules ask
# whether it precedes the rating.
_RATED_PROJECT = (
    "SELECT json_build_array(p.client_enterprise_number, p.provider_enterprise_number,"
    " p.registration_number, p.end_date, p.status, p.rating_reference,"
    " (SELECT min(r.first_registered_on) FROM registrations r"
    " WHERE r.enterprise_number = p.provider_enterprise_number))"
    " FROM projects p WHERE p.project_id = $1"
)


def rating_lock(project_id: str) -> int:
    """The advisory lock key the ratings of one project take (a signed 64-bit integer)."""
    digest = hashlib.sha256(f"rating of project {project_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# The unit that holds a registration number, for a project's findings: its enterprise and its
# events recorded up to an instant (the end of the start date; as ``EventStore.read_stream``'s
# as-of: the stream's prefix before its first event recorded later).
_HOLDER_AS_OF = (
    "SELECT json_build_array(r.enterprise_number, (SELECT json_agg(json_build_array("
    "e.event_type, e.schema_version, e.data) ORDER BY e.version) FROM events e"
    " WHERE e.stream_id = 'unit:' || r.unit_key AND e.version < coalesce((SELECT min(x.version)"
    " FROM events x WHERE x.stream_id = 'unit:' || r.unit_key AND x.recorded_at > $2),"
    " 2147483647))) FROM registrations r WHERE r.registration_number = $1"
)

# The reads of a command, each one value in the command's one read statement.
_STREAM_EVENTS_WHERE = (
    "SELECT json_agg(json_build_array(event_type, schema_version, data) ORDER BY version)"
    " FROM events WHERE"
)
_STREAM_EVENTS = f"{_STREAM_EVENTS_WHERE} stream_id = $1"
# Every bureau's stream head: its state kept in the process is current while they agree.
_BUREAU_HEADS = Statement(
    "SELECT json_object_agg(b.bureau_id, json_build_array(h.version, encode(h.hash, 'hex')))"
    " FROM bureaus b CROSS JOIN LATERAL (SELECT version, hash FROM events"
    " WHERE stream_id = $1 || b.bureau_id ORDER BY version DESC LIMIT 1) h",
    (bureau_stream_id(""),),
)
_BUREAU_STREAMS = (
    "SELECT stream_id, json_agg(json_build_array(event_type, schema_version, data)"
    " ORDER BY version) AS events, max(version) AS version,"
    " (array_agg(encode(hash, 'hex') ORDER BY version DESC))[1] AS hash"
    " FROM events WHERE stream_id = ANY($1::text[]) GROUP BY stream_id"
)
_IDENTIFIER_IN_USE = {
    SubmitApplication: (
        "application_id",
        "SELECT EXISTS (SELECT 1 FROM applications WHERE application_id = $1)",
    ),
    ChooseAuditBureau: ("audit_id", "SELECT EXISTS (SELECT 1 FROM audits WHERE audit_id = $1)"),
}


def _identifier_check(command: Command) -> tuple[str, str, Statement] | None:
    """Ids that clients choose name one application or audit across all units."""
    found = _IDENTIFIER_IN_USE.get(type(command))
    if found is None:
        return None
    field, sql = found
    identifier = getattr(command, field)
    return field, identifier, Statement(sql, (identifier,))


def _one_read(reads: Sequence[Statement]) -> Statement:
    sqls, args = together(reads)
    return Statement(_select_each(tuple(sqls)), tuple(args))


@lru_cache(maxsize=64)
def _select_each(sqls: tuple[str, ...]) -> str:
    return "SELECT " + ", ".join(f"({sql})" for sql in sqls)


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
        return await self._run(
            stream,
            partial(decide, command),
            metadata,
            expected_version=expected_version,
            now=now,
            numbering=isinstance(command, RecordDecision),
            finish=finish,
            context=True,
            identifier=_identifier_check(command),
        )

    async def execute_located(
        self,
        located: Located,
        command: Command,
        metadata: EventMetadata | None = None,
        *,
        expected_version: int | None = None,
        finish: Finish | None = None,
    ) -> Outcome[UnitState]:
        """``execute`` on the unit ``located`` finds in the command's one read (no lookup of
        its own before the command)."""
        if isinstance(command, SubmitApplication):
            raise ValueError("a new application names its unit: execute it on the unit")
        stream = _Stream("", UNIT_STREAM, UnitState(), evolve, "")
        return await self._run(
            stream,
            partial(decide, command),
            metadata,
            expected_version=expected_version,
            numbering=isinstance(command, RecordDecision),
            finish=finish,
            context=True,
            identifier=_identifier_check(command),
            located=located,
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
        """A client's rating of the provider of one of its projects. The project (as the
        projections hold it) and its provider's first registration are read with the rating's
        stream; ratings of one project take a lock on it first, so that of two at once the
        second sees the first and is refused (once per project)."""
        stream = _Stream(
            rating_stream_id(command.reference), RATING_STREAM, RatingState(), evolve_rating
        )
        project = _Fact(Statement(_RATED_PROJECT, (command.project_id,)))

        def decide_with_project(
            state: RatingState, at: datetime, context: Context
        ) -> Sequence[DomainEvent]:
            found = None
            if project.value is not None:
                client, provider, number, end, status, rated_by, first = project.value
                found = RatedProject(
                    client_enterprise_number=client,
                    provider_enterprise_number=provider,
                    registration_number=number,
                    end_date=date.fromisoformat(end),
                    status=status,
                    rated_by=rated_by,
                    first_registered_on=date.fromisoformat(first) if first else None,
                )
            return decide_rating(command, state, at, found)

        return await self._run(
            stream,
            decide_with_project,
            metadata,
            finish=finish,
            fact=project,
            lock=rating_lock(command.project_id),
        )

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

    async def execute_project(
        self,
        project_id: str,
        command: ProjectCommand,
        metadata: EventMetadata | None = None,
        *,
        expected_version: int | None = None,
        finish: Finish | None = None,
        located: Located | None = None,
    ) -> Outcome[ProjectState]:
        """A command on a subsidy project. Recording one reads, with the project's stream, the
        unit that holds its registration number as of the end of the start date: the findings
        judge the registration as it stood then (``app/domain/projects.py``). The others may
        name the project's row as the caller may see it (``located``, any JSON array): read
        with the stream, none is ``UnknownResource(located.missing)`` before anything else;
        ``located.value`` is then the row as it was before the command (for its reply)."""
        if isinstance(command, RecordProject) and command.project_id != project_id:
            raise ValueError("the command's project is not the stream's project")
        if isinstance(command, RecordProject) and located is not None:
            raise ValueError("a project being recorded has no row to find yet")
        stream = _Stream(
            project_stream_id(project_id), PROJECT_STREAM, ProjectState(), evolve_project
        )
        fact: _Fact | None = None
        if isinstance(command, RecordProject):
            as_of = end_of_day(command.start_date)
            fact = _Fact(Statement(_HOLDER_AS_OF, (str(command.registration_number), as_of)))
        elif located is not None:
            fact = _Fact(located.row, missing=located.missing)

        def decide_with_holder(
            state: ProjectState, at: datetime, context: Context
        ) -> Sequence[DomainEvent]:
            if located is not None:
                located.value = fact.value if fact is not None else None
                return decide_project(command, state, at)
            return decide_project(command, state, at, self._holder(fact))

        return await self._run(
            stream,
            decide_with_holder,
            metadata,
            expected_version=expected_version,
            finish=finish,
            fact=fact,
        )

    def _holder(self, fact: _Fact | None) -> Holder | None:
        if fact is None or fact.value is None:
            return None
        enterprise_number, recorded = fact.value
        state = UnitState()
        for event_type, schema_version, data in recorded or []:
            state = evolve(state, self.registry.deserialize(event_type, schema_version, data))
        return Holder(enterprise_number, state)

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
        # a decision takes the numbering lock before any write: see app/events/projections.py
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


def _args(read: Statement) -> tuple[Any, ...]:
    return (read.sql, *read.args)
