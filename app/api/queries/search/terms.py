"""Running a statement (named parameters as asyncpg's, prepared and cached by it), the first
statement of a text search (the text's terms, and how many providers its words match), and the
providers a statement reads with the terms it was given."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import asyncpg

from app.api.queries.search.conditions import (
    FOCUSED,
    FUZZY_CANDIDATES,
    Query,
    TextMode,
    _conditions,
    _row_filters,
)

_NAMED = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


@lru_cache(maxsize=256)
def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """``:name`` parameters as asyncpg's ``$n``, and the names in their order."""
    names: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        return f"${names.setdefault(match.group(1), len(names) + 1)}"

    return _NAMED.sub(number, sql), tuple(names)


async def fetch(
    conn: asyncpg.Connection, sql: str, params: Mapping[str, Any]
) -> list[asyncpg.Record]:
    """One statement with named parameters: prepared (and cached) by asyncpg, autocommit."""
    statement, names = _positional(sql)
    return list(await conn.fetch(statement, *(params[name] for name in names)))


@dataclass(frozen=True, slots=True)
class Terms:
    """Free text as PostgreSQL searches it, computed by the first statement: the ``tsquery``
    (``simple`` or ``dutch``, over ``unaccent``) in its text form, the lowered, unaccented
    words (for trigram similarity), and how its words match (``TextMode``). When they match
    broadly, also the listed matches counted up to the cap (``counted``) and the ``bound``: the
    name the page's last row (its extra one) has at most (see ``_broad_page``)."""

    mode: TextMode
    tsquery: str
    words: str
    counted: int
    bound: str | None


async def _terms(conn: asyncpg.Connection, query: Query, params: dict[str, Any]) -> Terms:
    """The first statement of a text search: the terms, and how many providers the words match
    (up to ``FOCUSED + 1``, before the checks that need a join); when more than ``FOCUSED``
    (the page is by name), the listed matches up to ``COUNT_CAP + 1`` as well, each with its
    name (a one-time filter on the first count skips them for the other modes)."""
    params = {**params, "q": query.text, "exact_cap": FOCUSED + 1, "focused": FOCUSED}
    exact_where = " AND ".join(["p.document @@ q.tsquery", *_row_filters(query, params)])
    where, _ = _conditions(query, params, TextMode.BROAD)
    rows = await fetch(
        conn,
        f"WITH q AS MATERIALIZED ({_TERMS_SQL}),"
        " exact AS MATERIALIZED (SELECT count(*) AS n FROM (SELECT 1 FROM q, public_providers p"
        f" WHERE {exact_where} LIMIT :exact_cap) c),"
        " hits AS MATERIALIZED (SELECT p.enterprise_number, p.search_name"
        f" FROM q, public_providers p WHERE (SELECT n FROM exact) > :focused"
        f" AND {' AND '.join(where)} LIMIT :cap)"
        " SELECT q.tsquery::text AS tsquery, q.words, (SELECT n FROM exact) AS exact,"
        " (SELECT count(*) FROM hits) AS counted,"
        " (SELECT h.search_name FROM hits h ORDER BY h.search_name, h.enterprise_number"
        " LIMIT 1 OFFSET :last) AS bound FROM q",
        params,
    )
    row = rows[0]
    exact = row["exact"]
    mode = TextMode.FUZZY if not exact else TextMode.FOCUSED if exact <= FOCUSED else TextMode.BROAD
    return Terms(mode, row["tsquery"], row["words"], row["counted"], row["bound"])


# The query's terms, computed once per statement: ``unaccent`` is only STABLE, so written inline
# ``websearch_to_tsquery(..., unaccent(:q))`` and ``lower(unaccent(:q))`` are computed again for
# every candidate row, in the recheck and in the rank (about 15 us a row, half the cost of a
# common word; BENCHMARKS.md, "Public search"). As a one-row derived table (OFFSET 0 keeps the
# planner from inlining it back; here a MATERIALIZED CTE) they are computed once and the scans
# read them.
_TERMS_SQL = (
    "SELECT websearch_to_tsquery('simple', unaccent(:q))"
    " || websearch_to_tsquery('dutch', unaccent(:q)) AS tsquery,"
    " lower(unaccent(:q)) AS words"
)
# The search itself takes the terms the first statement computed as constants: with the
# connection's custom plans the planner then sees the very tsquery and estimates how many
# providers its words match (from the statistics of ``document``), which a derived table hides
# from it (it assumed about 500 for every word, and chose its plans for 500).
_GIVEN_TERMS = "(SELECT CAST(:tsquery AS tsquery) AS tsquery, CAST(:words AS text) AS words) q"
# Except for typos: which near-misses are ranked, when more than FUZZY_CANDIDATES are near, is
# the first of the trigram index's in the table's order, and a plan made for the very words
# reads them in another order; hidden (OFFSET 0), the words keep the plan and the candidates.
_OPAQUE_TERMS = (
    "(SELECT CAST(:tsquery AS tsquery) AS tsquery, CAST(:words AS text) AS words OFFSET 0) q"
)


def _source(query: Query, params: dict[str, Any], mode: TextMode | None) -> str:
    if mode is None:
        return "public_providers p"
    if mode is not TextMode.FUZZY:
        return f"{_GIVEN_TERMS}, public_providers p"
    params["fuzzy"] = FUZZY_CANDIDATES
    filters = _row_filters(query, params, "f", pairs=False)
    near = " AND ".join(["q.words <% f.search_name", *filters])
    # the candidates' own rows, not each looked up again by its key (a thousand index probes)
    return (
        f"{_OPAQUE_TERMS} CROSS JOIN LATERAL (SELECT f.* FROM public_providers f"
        f" WHERE {near} LIMIT :fuzzy) p"
    )
