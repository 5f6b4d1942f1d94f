"""The public search's sorts, minimum rating, place names and short numbers (issue 14) on a
loaded database, in-process (``search.search`` on one asyncpg connection, no HTTP): the
median and worst of five runs of each query.

    .venv/bin/python bench/search_sorts.py postgresql://postgres@127.0.0.1:5432/<database>

The database is one that ``bench/search.py --keep`` loaded (100,000 providers); it is only read.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

import asyncpg

from app.api.queries import search
from app.domain.identifiers import written_registration_numbers as w


async def main(url: str) -> None:
    conn = await asyncpg.connect(url)
    day = await conn.fetchval("select max(valid_from) from registrations where status='registered'")
    cases = {
        "all, by name": search.Query(),
        "all, sort=rating": search.Query(sort=search.Sort.RATING),
        "all, sort=validity": search.Query(sort=search.Sort.VALIDITY),
        "min_rating=4": search.Query(min_rating=4),
        "region=Provincie Limburg": search.Query(region="Provincie Limburg"),
        "region=Antwerpen (province)": search.Query(region="Antwerpen"),
        "region=Borgerhout": search.Query(region="Borgerhout"),
        "region=Gent (city, 10 codes)": search.Query(region="Gent"),
        "region=Gent, sort=rating": search.Query(region="Gent", sort=search.Sort.RATING),
        "region=Borgerhout, sort=validity": search.Query(
            region="Borgerhout", sort=search.Sort.VALIDITY
        ),
        "number=17": search.Query(numbers=w("17")),
        "text=opleidingen, sort=rating": search.Query(text="opleidingen", sort=search.Sort.RATING),
        "theme+region=Hasselt, min_rating=3": search.Query(
            theme="digitalisering", region="Hasselt", min_rating=3
        ),
    }
    for name, q in cases.items():
        times = []
        for _ in range(5):
            t = time.perf_counter()
            found = await search.search(conn, q, today=day, page=1, limit=10)
            times.append((time.perf_counter() - t) * 1000)
        total = f"{found.total}{'' if found.exact else '+'}"
        median = statistics.median(times)
        print(f"{name:40s} total={total:>6} median={median:7.1f} ms max={max(times):7.1f} ms")
    await conn.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
