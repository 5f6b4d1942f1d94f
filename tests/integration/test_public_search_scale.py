"""The public search on a realistic load (``bench/search_data.py``: 2,000 providers, every
command decided by the real deciders, the projections rebuilt from the events), against a plain
reading of the rules: every page of a search is the slice of all the providers listed today
that match, in the documented order, whatever way the statement finds them.

Words that match more than ``FOCUSED`` providers are listed by name, their page sought below a
bound the capped count provides (``search._broad_page``): these tests pin that the bound never
loses a row, for a word of most names' (past the count's cap), of many (between ``FOCUSED`` and
the cap), and of names that cluster at the end of the alphabet, on first, later, deep and empty
pages, and when a provider drops out between the count and the page.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.queries import search
from app.domain.identifiers import ServiceType
from app.domain.policies import ELIGIBLE_THEMES, today
from app.domain.regions import region_terms
from app.runtime.pg import Pool
from bench.search import Loaded, load

PROVIDERS = 2000
DAY = today(datetime.now(UTC))


@pytest.fixture
async def loaded(engine: AsyncEngine, database_url: str) -> AsyncIterator[Pool]:
    await load(engine, Loaded(), PROVIDERS, DAY, copy_url=database_url)
    pool = Pool(database_url, max_size=1)
    try:
        yield pool
    finally:
        await pool.close()


async def everything(conn: Any, query: search.Query, day: date) -> list[str]:
    """All the providers listed on ``day`` that match the words and filters, by name: the
    documented order of a broad word or of no words, read without any bound, index or cap."""
    params: dict[str, Any] = {"today": day}
    where = ["true"]
    if query.text is not None:
        params["q"] = query.text
        where.append(
            "p.document @@ (websearch_to_tsquery('simple', unaccent(:q))"
            " || websearch_to_tsquery('dutch', unaccent(:q)))"
        )
    exists = ["r.enterprise_number = p.enterprise_number", search._IN_FORCE_SQL]
    if query.service_type is not None:
        exists.append("r.service_type = :service_type")
        params["service_type"] = query.service_type.value
    if query.theme is not None:
        where.append("p.themes @> ARRAY[CAST(:theme AS text)]")
        params["theme"] = query.theme
    if query.region is not None:
        # a place is any of the keys it covers (a municipality: each of its postal codes)
        where.append("p.regions && CAST(:region AS text[])")
        params["region"] = list(region_terms(query.region))
    where.append(f"EXISTS (SELECT 1 FROM registrations r WHERE {' AND '.join(exists)})")
    rows = await search.fetch(
        conn,
        f"SELECT p.enterprise_number FROM public_providers p WHERE {' AND '.join(where)}"
        " ORDER BY p.search_name, p.enterprise_number",
        params,
    )
    return [row[0] for row in rows]


def expected(matches: list[str], page: int, limit: int) -> tuple[list[str], int, bool, bool]:
    """The page, total, whether the total is exact and whether there is more, as the API
    promises them (``schemas.PublicSearchResult``) for these matches."""
    offset = (page - 1) * limit
    items = matches[offset : offset + limit]
    more = len(matches) > offset + limit
    if not more and (page == 1 or items):
        return items, offset + len(items), True, False
    return items, min(len(matches), search.COUNT_CAP), len(matches) <= search.COUNT_CAP, more


# words in the descriptions of most providers (past the count's cap), of many (between FOCUSED
# and the cap), and of many with a theme or a service type besides
BROAD = [
    search.Query(text="werken or elke"),
    search.Query(text="Trainers"),
    search.Query(text="werken or elke or wij or bv", theme="digitalisering"),
    search.Query(text="bv", service_type=ServiceType("advies")),
]
PAGES = [(1, 20), (2, 20), (1, 5), (3, 100), (9, 100), (40, 20), (11, 100), (1000, 100)]


async def test_a_broad_word_pages_through_every_match_in_name_order(loaded: Pool) -> None:
    """Each page as the plain reading has it, in two statements (the count with the bound,
    then the page below it): a bound that lost a row would show as a third (the page sought
    again) or as a wrong page."""
    statements: list[str] = []
    async with loaded.connection(custom_plans=True) as conn:
        conn.add_query_logger(lambda record: statements.append(record.query))
        counts = []
        for query in BROAD:
            matches = await everything(conn, query, DAY)
            counts.append(len(matches))
            terms = await search._terms(conn, query, {"today": DAY, "cap": 1001, "last": 20})
            assert terms.mode is search.TextMode.BROAD, query
            for page, limit in PAGES:
                await asyncio.sleep(0)  # asyncpg calls query loggers with call_soon
                statements.clear()
                found = await search.search(conn, query, today=DAY, page=page, limit=limit)
                await asyncio.sleep(0)
                assert len(statements) == 2, (query, page, limit)
                got = [item["enterprise_number"] for item in found.items]
                assert (got, found.total, found.exact, found.more) == expected(
                    matches, page, limit
                ), (query, page, limit)
    # the premises: past the cap, and between FOCUSED and the cap
    assert counts[0] > search.COUNT_CAP + 1
    assert search.FOCUSED < counts[1] <= search.COUNT_CAP


async def test_a_page_is_whole_when_a_provider_drops_out_after_the_count(loaded: Pool) -> None:
    """The bound comes from the first statement; should a match below it drop out before the
    second, the bound is too low for the page, which is then sought without it."""
    query = search.Query(text="werken or elke")
    async with loaded.connection(custom_plans=True) as conn:
        matches = await everything(conn, query, DAY)
        for page, limit in ((1, 20), (3, 100)):
            params = {
                "today": DAY,
                "fetch": limit + 1,
                "offset": (page - 1) * limit,
                "cap": search.COUNT_CAP + 1,
                "last": page * limit,
            }
            terms = await search._terms(conn, query, params)
            assert terms.bound is not None
            params.update(tsquery=terms.tsquery, words=terms.words)
            first = await conn.fetchval(
                "SELECT search_name FROM public_providers WHERE enterprise_number = $1",
                matches[0],
            )
            stale = search.Terms(terms.mode, terms.tsquery, terms.words, terms.counted, first)
            found = await search._broad_page(conn, query, stale, params, page=page, limit=limit)
            got = [item["enterprise_number"] for item in found.items]
            assert (got, found.total, found.exact, found.more) == expected(matches, page, limit)


async def test_a_theme_and_a_region_find_what_each_finds(loaded: Pool) -> None:
    """A theme and a region together are one key of an index of pairs (migration 0012): every
    theme with provinces, municipalities and postal codes, written as people write them, finds
    the providers with both, as the two conditions read apart do, on every page."""
    regions = ["antwerpen", "Oost-Vlaanderen", "brussel", "Luxemburg", "Gent", "Kortrijk"]
    regions += ["9000", "3500", "Nergensdorp"]
    async with loaded.connection(custom_plans=True) as conn:
        sizes = []
        for theme in sorted(ELIGIBLE_THEMES):
            for region in regions:
                for text in (None, "werken or elke"):
                    query = search.Query(text=text, theme=theme, region=region)
                    matches = await everything(conn, query, DAY)
                    sizes.append(len(matches))
                    for page, limit in ((1, 20), (2, 20), (1, 100), (4, 100)):
                        if text is not None and not matches:
                            continue  # no exact match: a typo, ranked by similarity
                        found = await search.search(conn, query, today=DAY, page=page, limit=limit)
                        if text is not None and 0 < len(matches) <= search.FOCUSED:
                            # ranked by relevance: the same providers, in an order of its own
                            assert found.total == expected(matches, page, limit)[1]
                            continue
                        got = [item["enterprise_number"] for item in found.items]
                        assert (got, found.total, found.exact, found.more) == expected(
                            matches, page, limit
                        ), (query, page, limit)
    assert max(sizes) > 100  # pages beyond the first
    assert 0 in sizes  # and nothing found


async def test_a_broad_word_sorted_by_validity_or_filtered_by_rating_is_not_paged_by_name(
    loaded: Pool,
) -> None:
    """The page bounded by name serves name order only: a broad word sorted by validity, or
    with a minimum rating, takes the one statement that sorts and filters every match."""
    async with loaded.connection(custom_plans=True) as conn:
        for broad in BROAD:
            matches = await everything(conn, broad, DAY)
            rows = await search.fetch(
                conn,
                "SELECT r.enterprise_number, max(r.valid_until) AS until FROM registrations r"
                f" WHERE r.enterprise_number = ANY(CAST(:matches AS text[])) AND"
                f" {search._IN_FORCE_SQL} GROUP BY r.enterprise_number",
                {"matches": matches, "today": DAY},
            )
            until = {row["enterprise_number"]: row["until"] for row in rows}
            by_validity = sorted(matches, key=lambda kbo: -until[kbo].toordinal())
            query = replace(broad, sort=search.Sort.VALIDITY)
            for page, limit in ((1, 20), (3, 100)):
                found = await search.search(conn, query, today=DAY, page=page, limit=limit)
                got = [item["enterprise_number"] for item in found.items]
                assert (got, found.total, found.exact, found.more) == expected(
                    by_validity, page, limit
                ), (query, page, limit)
            rated = {
                row["enterprise_number"]
                for row in await search.fetch(
                    conn,
                    "SELECT enterprise_number FROM provider_ratings WHERE rating_count > 0"
                    " AND round(rating_sum::numeric / rating_count, 1) >= 1",
                    {},
                )
            }
            query = replace(broad, min_rating=1)
            found = await search.search(conn, query, today=DAY, page=1, limit=20)
            got = [item["enterprise_number"] for item in found.items]
            assert got == [kbo for kbo in matches if kbo in rated][:20], query
