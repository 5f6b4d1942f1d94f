"""The search itself: the page of providers found and the capped total (a broad word's page in
name order bounded by the first statement's name), and a provider's own page, in the public's
words."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import asyncpg

from app.api.queries.search.conditions import (
    _BROAD_SORT_KEYS,
    _COLUMNS,
    _DETAILS,
    _SORT_JOINS,
    COUNT_CAP,
    PUBLIC_STATUS,
    Query,
    Sort,
    TextMode,
    _conditions,
    _listed,
    _row_filters,
)
from app.api.queries.search.terms import _GIVEN_TERMS, Terms, _source, _terms, fetch


@dataclass(frozen=True, slots=True)
class Found:
    items: list[dict[str, Any]]
    total: int
    exact: bool
    more: bool


async def search(
    conn: asyncpg.Connection, query: Query, *, today: date, page: int, limit: int
) -> Found:
    params: dict[str, Any] = {
        "today": today,
        "fetch": limit + 1,
        "offset": (page - 1) * limit,
        "cap": COUNT_CAP + 1,
        "last": (page - 1) * limit + limit,  # the index of the page's extra row, from 0
    }
    mode = None
    if query.text:
        terms = await _terms(conn, query, params)
        mode = terms.mode
        params.update(tsquery=terms.tsquery, words=terms.words)
        # a broad word's page in name order (its rank): not for another sort or a rating filter
        if (
            mode is TextMode.BROAD
            and query.sort in (Sort.RELEVANCE, Sort.NAME)
            and query.min_rating is None
        ):
            return await _broad_page(conn, query, terms, params, page=page, limit=limit)
    # the typo candidates come by the trigram index, each then tested: no pairs for them
    where, rank = _conditions(query, params, mode, pairs=mode is not TextMode.FUZZY)
    walked, _ = _conditions(query, params, mode, pairs=False)
    source = _source(query, params, mode)
    if query.sort is Sort.VALIDITY:
        broad = (source + _SORT_JOINS[Sort.VALIDITY], _BROAD_SORT_KEYS[Sort.VALIDITY])
    else:
        source += _SORT_JOINS.get(query.sort, "")
        broad = (source, rank)
    statement = _search_statement(source, " AND ".join(where), " AND ".join(walked), rank, *broad)
    rows = await fetch(conn, statement, params)
    items = [_public(row) for row in rows if row["enterprise_number"] is not None]
    return _found(items, rows[0]["counted"], page=page, limit=limit)


def _found(items: list[dict[str, Any]], counted: int, *, page: int, limit: int) -> Found:
    """The page (with its extra row, if any) and the capped count, as the API tells them."""
    more = len(items) > limit
    items = items[:limit]
    if not more and (page == 1 or items):
        return Found(items, (page - 1) * limit + len(items), True, False)
    return Found(items, min(counted, COUNT_CAP), counted <= COUNT_CAP, more)


async def _broad_page(
    conn: asyncpg.Connection,
    query: Query,
    terms: Terms,
    params: dict[str, Any],
    *,
    page: int,
    limit: int,
) -> Found:
    """A page of words that match more than ``FOCUSED`` providers, in name order, its count
    made by the first statement (``_terms``).

    The first statement's matches (up to the cap) bound the page: when ``offset + fetch`` of
    them sort up to the name ``bound``, so do the first ``offset + fetch`` of all the matches,
    and the page is sought among the matches named up to ``bound`` only. Should a provider drop
    out between the two statements, the page can come short of what the count promised: then
    it is sought again without the bound."""
    listed = _listed(query, params)
    filters = " AND ".join(["p.document @@ q.tsquery", *_row_filters(query, params)])
    offset, fetched = params["offset"], params["fetch"]
    bounded = terms.bound is not None
    if bounded:
        params = {**params, "bound": terms.bound}
    rows = await fetch(conn, _broad_statement(filters, listed, bounded), params)
    if bounded and len(rows) < min(fetched, terms.counted - offset):
        rows = await fetch(conn, _broad_statement(filters, listed, False), params)
    return _found([_public(row) for row in rows], terms.counted, page=page, limit=limit)


@lru_cache(maxsize=256)
def _broad_statement(filters: str, listed: str, bounded: bool) -> str:
    """The matches named up to the bound (``candidates``: the words, themes and regions, on
    the GIN indexes, and the bound on the name index when few names are below it; the
    tsquery and the bound are constants, so the planner knows how many rows each reads), then
    sorted by name and checked in that order for being listed today until the page is full
    (the outer ORDER BY costs nothing then: a nested loop keeps its outer order; it is there
    for a plan that would not).

    Never a walk along the name index: the planner would take one, costed as if the matches
    were spread evenly over the names, and they cluster (a word of a name): "trainingscentrum"
    walked 85,000 names to find 21 (426 ms)."""
    bound = " AND p.search_name <= :bound" if bounded else ""
    return (
        "WITH candidates AS MATERIALIZED ("
        f" SELECT p.enterprise_number, p.search_name, p.listed"
        f" FROM {_GIVEN_TERMS}, public_providers p WHERE {filters}{bound}),"
        " page AS MATERIALIZED ("
        " SELECT p.enterprise_number, p.search_name FROM (SELECT * FROM candidates c"
        " ORDER BY c.search_name, c.enterprise_number OFFSET 0) p"
        f" WHERE {listed} ORDER BY p.search_name, p.enterprise_number"
        " LIMIT :fetch OFFSET :offset)"
        f" SELECT {_COLUMNS}, {_DETAILS}"
        " FROM page o JOIN public_providers p ON p.enterprise_number = o.enterprise_number"
        " ORDER BY o.search_name, o.enterprise_number"
    )


@lru_cache(maxsize=256)
def _search_statement(
    source: str,
    condition: str,
    walked: str,
    rank: str,
    broad_source: str | None = None,
    broad_rank: str | None = None,
) -> str:
    """One statement: the matches, up to one more than ``COUNT_CAP`` (``hits``: the capped
    total); the page (one row more than asked: is there a next page?) sorted from those when
    they are all the matches, or else (more than the cap match: a common filter) walked in the
    order of ``public_providers_sort_idx``, which carries the themes and regions so that the
    walk reads the index alone (testing them on each row read: ``walked``, the conditions
    without the theme-region pairs); then one row per provider on the page with its registrations
    and rating, or a single row of NULLs when the page is empty, each with the capped total.
    The branch not taken costs nothing: its condition is a one-time filter on ``counted``.
    ``broad_source`` and ``broad_rank`` (default: ``source`` and ``rank``) are what the second
    branch sorts by: a sort key that is cheap per row for a thousand hits may be cheaper as a
    join for all matches (``_SORT_JOINS``)."""
    broad_source = broad_source or source
    broad_rank = broad_rank or rank
    return (
        f"WITH hits AS MATERIALIZED ("
        f" SELECT p.enterprise_number, p.search_name, {rank} AS rank FROM {source}"
        f" WHERE {condition} LIMIT :cap),"
        " counted AS (SELECT count(*) AS n FROM hits),"
        " page AS MATERIALIZED ("
        " (SELECT h.enterprise_number, h.search_name, h.rank FROM hits h"
        " WHERE (SELECT n FROM counted) < :cap"
        " ORDER BY h.rank DESC, h.search_name, h.enterprise_number"
        " LIMIT :fetch OFFSET :offset)"
        " UNION ALL"
        f" (SELECT p.enterprise_number, p.search_name, {broad_rank} AS rank FROM {broad_source}"
        f" WHERE (SELECT n FROM counted) >= :cap AND {walked}"
        " ORDER BY rank DESC, p.search_name, p.enterprise_number"
        " LIMIT :fetch OFFSET :offset))"
        " SELECT (SELECT n FROM counted) AS counted, found.*"
        " FROM (SELECT 1) one LEFT JOIN LATERAL ("
        f" SELECT {_COLUMNS}, {_DETAILS}, o.rank, o.search_name"
        " FROM page o JOIN public_providers p ON p.enterprise_number = o.enterprise_number"
        " ) found ON true"
        " ORDER BY found.rank DESC, found.search_name, found.enterprise_number"
    )


async def provider(
    conn: asyncpg.Connection, enterprise_number: str, *, today: date
) -> dict[str, Any] | None:
    """A listed provider's public page, or None when it is not registered today."""
    rows = await fetch(
        conn,
        f"SELECT {_COLUMNS}, {_DETAILS} FROM public_providers p WHERE p.enterprise_number = :kbo",
        {"kbo": enterprise_number, "today": today},
    )
    if not rows:
        return None
    found = _public(rows[0])
    return found if found["registrations"] else None


def _public(row: Any) -> dict[str, Any]:
    """The row in the public's words: the view ``schemas.PublicProvider``, and nothing more."""
    registrations = row["registrations"]
    if isinstance(registrations, str):
        registrations = json.loads(registrations)
    rating = row["rating"]
    if isinstance(rating, str):
        rating = json.loads(rating)
    return {
        "enterprise_number": row["enterprise_number"],
        "name": row["name"],
        "description": row["description"],
        "website": row["website"],
        "themes": list(row["themes"] or ()),
        "locations": row["locations"],
        "registrations": [
            {
                "number": r["number"],
                "service_type": r["service_type"],
                "status": PUBLIC_STATUS[r["status"]][0],
                "status_label": PUBLIC_STATUS[r["status"]][1],
                "valid_from": r["valid_from"],
                "valid_until": r["valid_until"],
            }
            for r in registrations
        ],
        "rating": {
            "average": round(rating["sum"] / rating["count"], 1),
            "count": rating["count"],
        }
        if rating and rating["count"]
        else None,
    }
