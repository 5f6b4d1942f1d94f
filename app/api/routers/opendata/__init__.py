"""The public register as open data: every registration in force today as one CSV or JSON file
(``/public/providers.csv``, ``/public/providers.json``), described in DCAT-AP
(``/public/dataset.jsonld``) under the Flemish Modellicentie Gratis Hergebruik.

One row per registration in force today (a provider registered for training and advice has two
rows), with the fields the public search shows (``search.PUBLIC_STATUS``, ``search.IN_FORCE``):
nothing else. The column names are stable (``COLUMNS``; README, "Open data"): a new column is
added at the end, none is renamed or removed.

**Streaming.** A file is written while it is read: one connection of the public search's pool
(``PublicPgDep``: the replica when KMOP_READ_DATABASE_URL is set;
``connection(custom_plans=True)``), one read-only REPEATABLE READ transaction, a
server-side cursor read ``FETCH`` rows at a time and sent in chunks of about ``CHUNK_BYTES``, so
the server's memory does not grow with the register (tests/api/test_opendata_100k.py measures
it). The validator is read in the same transaction as the rows, so the ETag names exactly the
rows sent.

**Validator.** ``ETag`` = a hash of the format version, the day (a registration leaves the file
at midnight when its validity ends: "in force today" changes with the date even when no event
is recorded) and where the event log stands in this transaction's snapshot. Event positions
are not given in commit order, so "the highest position" alone could stay the same while an
earlier position commits late. The feed's order, (transaction_id, position), is safe below the
snapshot's ``xmin``: every transaction below it has ended, so the events below it are a prefix
of that order that no later commit can enter, named by its last event ("settled"). Above
``xmin``, the events this snapshot sees are counted (that set only grows while the settled
prefix stays; usually it is empty). All are short index reads (``events_read_all_idx``, the
primary key). Any recorded event changes the ETag, and nothing else does except, briefly,
an event passing from the counted set into the settled prefix (a cache then fetches a file
that did not change, never keeps one that did). ``xmin`` itself, which any write in the
cluster moves, is not part of it.

``Last-Modified`` is the later of the last event's ``recorded_at`` and the day's start in
Belgium; it is informational: ``recorded_at`` is when the writing transaction began, not when
it committed, so ``If-Modified-Since`` is not evaluated (RFC 9110 lets a server ignore it; a
cache that stored an ETag sends ``If-None-Match``).

``content``: what the files hold (licence, columns, rows, the DCAT-AP description);
``files``: the validator, the streaming writers and the response; ``routes``: the endpoints.
This package re-exports what the app factory and the tests use.

May import: as every router, everything below HTTP (``app.domain``, ``app.runtime``,
``app.events``, ``app.services``, ``app.documents``) and the rest of ``app.api``.
"""

from app.api.routers.opendata.content import FIELDS, LICENCE_URL
from app.api.routers.opendata.routes import router

__all__ = ["FIELDS", "LICENCE_URL", "router"]
