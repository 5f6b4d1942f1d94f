"""The public search, in SQL: who is registered today, found by text, number, theme, service type
and region, with what the public may see of them.

Everything is PostgreSQL's work, on indexes (migration 0004):

* free text is full-text search over the name (``simple``) and the description (``dutch``),
  both over ``unaccent``, ranked when few providers match; when none does, the name's trigram
  word similarity (``<%``, ``pg_trgm``) forgives small typos ("kiwa belgum"): see ``TextMode``;
* a registration number in any written form is parsed and matched exactly;
* theme is array containment and region array overlap on GIN indexes (``regions`` holds the
  provinces, municipalities and postal codes of the provider's locations; a place's name
  matches its own key or any postal code it is served by: ``regions.region_terms``);
* a provider is listed only while one of its registrations is in force on the day of the
  query (status registered, conditionally or as starter, and today within its validity):
  stopped, expired and refused ones drop out with the event that ends them, and one whose
  validity ran out drops out that day even before the deadline job records the expiry. The
  days it is in force are on its row (``listed``, kept by the projection), compared with the
  day of the query: a condition on the row, not a lookup per candidate.

The page's registrations and rating, and the capped total when the page does not tell it, come
in the same statement (lateral subqueries, and a count that runs only when the page is full), so
a search is one statement, plus a first one when there is free text: it computes the text's
terms (passed to the second as constants, so that the planner sees them), counts the exact text
matches, and, when they are many (the page is by name), counts the listed ones up to the cap and
finds the name that bounds the page (``_broad_page``). Statements go through the process's
asyncpg pool (``app.runtime.pg``): prepared once per connection, run in autocommit, nothing else on
the wire (no pre-ping, no BEGIN/ROLLBACK).

``conditions``: the query and the conditions, ranks and sort keys it makes; ``terms``: running a
statement, and the first statement of a text search; ``pages``: the search's page and a
provider's page. This package re-exports what the routers, the public page, the tests and the
benchmarks use.

May import: ``app.domain``.
"""

from app.api.queries.search.conditions import (
    _IN_FORCE_SQL,
    COUNT_CAP,
    FOCUSED,
    PUBLIC_STATUS,
    Query,
    Sort,
    TextMode,
)
from app.api.queries.search.pages import Found, _broad_page, provider, search
from app.api.queries.search.terms import Terms, _terms, fetch

__all__ = [
    "COUNT_CAP",
    "FOCUSED",
    "PUBLIC_STATUS",
    "_IN_FORCE_SQL",
    "Found",
    "Query",
    "Sort",
    "Terms",
    "TextMode",
    "_broad_page",
    "_terms",
    "fetch",
    "provider",
    "search",
]
