"""Projections in bulk: every event folded in memory, each table written at once by COPY.

The rows are those the live path writes, from the same definitions: ``evolve`` folds each unit,
``registration_row`` makes its row from the last state and ``next_serial`` numbers the units
in the global order (transaction id, position) of the events that first registered them, once
every event is folded (``Fold.numbers``: the events may have been folded in several processes,
``app.events.parallel``); ``changes`` gives what every event changes
in the other tables, applied here to rows in memory (``MemoryTable``) instead of by one SQL
statement each. What the database adds itself (column defaults, the generated ``themes``, the
search columns its trigger fills, the order of a merged array) it adds here too: rows are
COPYed with the columns they were given, into tables that carry the live tables' defaults and
triggers, and merged arrays are sorted by the database.

Also here: making empty copies of the live projection tables in another schema
(``create_tables``, then ``index_and_analyze`` after the load), for a rebuild, and the tables
alone for ``projections verify``.

``memory``: a table's rows in memory, to which the changes apply (``MemoryTable``); ``fold``:
reading and folding every event (``Fold``, ``fold_events``), numbering the units and writing
each table by COPY (``write_tables``); ``copies``: the empty copies of the live tables.

May import: ``app.domain``, ``app.runtime`` (as ``app.events``).
"""

from app.events.bulk.copies import (
    create_tables,
    index_and_analyze,
    live_schema,
)
from app.events.bulk.fold import (
    _READ,
    PAGE,
    PRIMARY_KEYS,
    Fold,
    Order,
    fold_events,
    numbers,
    write_tables,
)
from app.events.bulk.memory import MemoryTable

__all__ = [
    "PAGE",
    "PRIMARY_KEYS",
    "_READ",
    "Fold",
    "MemoryTable",
    "Order",
    "create_tables",
    "fold_events",
    "index_and_analyze",
    "live_schema",
    "numbers",
    "write_tables",
]
