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

``outcomes``: what a command gives back and what it may ask for (``Outcome``, ``Located``,
``Finish``) and the errors it fails with (``StaleVersion``, ``UnknownResource``); ``reads``: the
SQL of a command's one read statement; ``running``: one command in one transaction, retried on a
conflict (``CommandRunner``); ``service``: ``RegistrationService``, its commands and queries.

May import: ``app.domain``, ``app.runtime``, ``app.events`` (as ``app.services``).
"""

from app.services.registrations.outcomes import (
    Finish,
    Located,
    Outcome,
    StaleVersion,
    UnknownResource,
)
from app.services.registrations.service import RegistrationService

__all__ = [
    "Finish",
    "Located",
    "Outcome",
    "RegistrationService",
    "StaleVersion",
    "UnknownResource",
]
