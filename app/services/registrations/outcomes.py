"""What a command gives back (``Outcome``) and what it may ask for besides its stream (``Located``,
``Finish``, a fact), and the errors a command fails with."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from app.domain.decider import Context
from app.domain.errors import ErrorKind, KmopError
from app.domain.event import DomainEvent
from app.events.catalog import unit_stream_id
from app.events.projections import Change
from app.runtime.pg import Statement
from app.services.registrations.reads import _STREAM_EVENTS_WHERE
from app.services.transaction import Transaction

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
