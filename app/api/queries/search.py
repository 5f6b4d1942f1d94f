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
the
wire (no pre-ping, no BEGIN/ROLLBACK).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum, StrEnum
from functools import lru_cache
from typing import Any

import asyncpg

from app.domain.identifiers import RegistrationNumber, ServiceType
from app.domain.regions import region_terms

IN_FORCE = ("registered", "registered_conditionally", "registered_starter")
PUBLIC_STATUS: dict[str, tuple[str, str]] = {
    "registered": ("registered", "geregistreerd"),
    "registered_conditionally": ("registered_conditionally", "voorwaardelijk geregistreerd"),
    "registered_starter": ("registered_starter", "geregistreerd als starter"),
}
COUNT_CAP = 1000  # a total beyond this is reported as "more than 1000"

_IN_FORCE_SQL = (
    "r.status IN ('registered', 'registered_conditionally', 'registered_starter')"
    " AND r.valid_from <= :today AND r.valid_until >= :today"
)

_LISTED_TODAY = "p.listed @> CAST(:today AS date)"

_DETAILS = f"""
    (SELECT coalesce(json_agg(json_build_object(
            'number', r.registration_number, 'service_type', r.service_type,
            'status', r.status, 'valid_from', r.valid_from, 'valid_until', r.valid_until)
            ORDER BY r.service_type, r.registration_number), '[]')
        FROM registrations r
        WHERE r.enterprise_number = p.enterprise_number AND {_IN_FORCE_SQL}
            AND r.registration_number IS NOT NULL) AS registrations,
    (SELECT json_build_object('count', pr.rating_count, 'sum', pr.rating_sum)
        FROM provider_ratings pr WHERE pr.enterprise_number = p.enterprise_number) AS rating
"""
_COLUMNS = "p.enterprise_number, p.name, p.description, p.website, p.themes, p.locations"


class Sort(StrEnum):
    """The order of the results: ``relevance`` (the best text match first; by name without
    text), ``name``, ``rating`` (the highest average first, unrated last) or ``validity`` (the
    registration that runs longest first)."""

    RELEVANCE = "relevance"
    NAME = "name"
    RATING = "rating"
    VALIDITY = "validity"


@dataclass(frozen=True, slots=True)
class Query:
    text: str | None = None
    # Any of these (the digits alone may be either service type's: ``schemas.registration_numbers``)
    numbers: tuple[RegistrationNumber, ...] = ()
    theme: str | None = None
    service_type: ServiceType | None = None
    region: str | None = None
    min_rating: int | None = None  # the average as shown (one decimal) at least this
    sort: Sort = Sort.RELEVANCE


# How free text is searched, by how many providers its words match exactly (full-text search
# over name and description, before the other filters that need a join):
#   * 1 to FOCUSED: those, ranked by relevance (the better of ts_rank and the name's trigram
#     word similarity), then by name;
#   * more than FOCUSED: those, by name: ranking thousands of rows costs more than it tells
#     (a word such as "opleidingen" is in half the descriptions);
#   * none: a typo, most likely: names whose trigram word similarity reaches pg_trgm's
#     threshold (0.6), ranked by it. At most FUZZY_CANDIDATES are ranked (the GIN index's first,
#     in the table's order), so a vague near-miss cannot make the database rank the whole table.
FOCUSED = 500
FUZZY_CANDIDATES = 1000


class TextMode(Enum):
    FOCUSED = "focused"
    BROAD = "broad"
    FUZZY = "fuzzy"


def _conditions(
    query: Query, params: dict[str, Any], mode: TextMode | None, *, pairs: bool = True
) -> tuple[list[str], str]:
    """WHERE conditions and the rank expression."""
    where = [_listed(query, params), *_row_filters(query, params, pairs=pairs)]
    if query.min_rating is not None:
        where.append(_MIN_RATING)
        params["min_rating"] = Decimal(query.min_rating)
    rank = "0"
    if query.text:
        if mode is TextMode.FUZZY:  # the candidates come from the FROM clause (_source)
            rank = "word_similarity(q.words, p.search_name)"
        else:
            where.append("p.document @@ q.tsquery")
            if mode is TextMode.FOCUSED:
                rank = (
                    "greatest(ts_rank(p.document, q.tsquery),"
                    " word_similarity(q.words, p.search_name))"
                )
    if query.sort is not Sort.RELEVANCE:
        rank = _SORT_KEYS[query.sort]
    return where, rank


# The average as the page shows it (rounded to one decimal), so "4 or more" keeps a 3,96 shown
# as "4,0". A semi-join on the (smaller) ratings table, not a subquery per provider.
_MIN_RATING = (
    "p.enterprise_number IN (SELECT pr.enterprise_number FROM provider_ratings pr"
    " WHERE pr.rating_count > 0"
    " AND round(pr.rating_sum::numeric / pr.rating_count, 1) >= :min_rating)"
)
# A sort other than relevance is the statement's rank (sorted descending, ties by name). The
# rating is read from a join. The validity is a subquery per row among the first thousand hits
# (cheap for a narrow filter), and a join on the registrations in force, aggregated once, when
# more match (a common filter sorts all its matches: 1.5 s as a subquery per row at 100,000
# providers, 0.46 s as the join; BENCHMARKS.md, issue 14).
_SORT_KEYS = {
    Sort.NAME: "0",
    Sort.RATING: "coalesce(round(sr.rating_sum::numeric / nullif(sr.rating_count, 0), 1), 0)",
    Sort.VALIDITY: (
        "(SELECT max(r.valid_until) - DATE '2000-01-01' FROM registrations r"
        f" WHERE r.enterprise_number = p.enterprise_number AND {_IN_FORCE_SQL})"
    ),
}
_BROAD_SORT_KEYS = {Sort.VALIDITY: "coalesce(sv.until - DATE '2000-01-01', 0)"}
_SORT_JOINS = {
    Sort.RATING: " LEFT JOIN provider_ratings sr ON sr.enterprise_number = p.enterprise_number",
    Sort.VALIDITY: (
        " LEFT JOIN (SELECT r.enterprise_number, max(r.valid_until) AS until FROM registrations r"
        f" WHERE {_IN_FORCE_SQL} GROUP BY r.enterprise_number) sv"
        " ON sv.enterprise_number = p.enterprise_number"
    ),
}


def _listed(query: Query, params: dict[str, Any]) -> str:
    """The condition that ``p`` is listed today (with the service type or number asked for):
    today among the days its registrations are in force (``listed``, migration 0015: on the row
    already read, and in the name index for a walk), else one with that type or number in force
    (a lookup in ``registrations``)."""
    if query.service_type is None and not query.numbers:
        return _LISTED_TODAY
    exists = [f"r.enterprise_number = p.enterprise_number AND {_IN_FORCE_SQL}"]
    if query.service_type is not None:
        exists.append("r.service_type = :service_type")
        params["service_type"] = query.service_type.value
    if query.numbers:
        exists.append("r.registration_number = ANY(CAST(:numbers AS text[]))")
        params["numbers"] = [str(number) for number in query.numbers]
    return f"EXISTS (SELECT 1 FROM registrations r WHERE {' AND '.join(exists)})"


def _row_filters(
    query: Query, params: dict[str, Any], alias: str = "p", *, pairs: bool = True
) -> list[str]:
    """The conditions on the provider's own row (GIN indexes, no join). A theme and a region
    together are one key of ``public_providers_theme_regions_idx`` (migration 0012): one posting
    list rather than two bitmaps of common keys and their intersection. Not where the rows are
    tested one by one rather than found by that index (``pairs=False``): the walk along the name
    index and the typo candidates, where the pairs would be made for every row read."""
    where = []
    if pairs and query.theme is not None and query.region is not None:
        pairs_asked = [f"{query.theme}|{term}" for term in region_terms(query.region)]
        params["theme_regions"] = pairs_asked
        return [
            f"public_providers_theme_regions({alias}.themes, {alias}.regions)"
            " && CAST(:theme_regions AS text[])"
        ]
    if query.theme is not None:
        where.append(f"{alias}.themes @> ARRAY[CAST(:theme AS text)]")
        params["theme"] = query.theme
    if query.region is not None:
        where.append(f"{alias}.regions && CAST(:region AS text[])")
        params["region"] = list(region_terms(query.region))
    return where


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
