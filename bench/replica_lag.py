"""How late a streaming replica is: from a commit on the primary to its replay on the standby.

    .venv/bin/python -m bench.replica_lag [--commits 300]

The primary and the standby are the replica test's (``tests/integration/replication.py``): both
made from the embedded PostgreSQL's binaries on this machine, over Unix sockets, ``fsync=off``.
Each commit inserts a row of about an event's size; the lag is the time from sending it until
the standby's replay position reaches the primary's WAL insert position after it (polled every
0.5 ms). Between machines, add the network's round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import asyncpg

from tests.integration.replication import Replication, primary_and_standby


async def measure(servers: Replication, commits: int) -> list[float]:
    primary = await asyncpg.connect(servers.primary.dsn())
    standby = await asyncpg.connect(servers.standby.dsn())
    try:
        await primary.execute("CREATE TABLE lag (n int, payload text)")
        lags = []
        for n in range(commits):
            began = time.perf_counter()
            await primary.execute("INSERT INTO lag VALUES ($1, repeat('x', 600))", n)
            lsn = await primary.fetchval("SELECT pg_current_wal_insert_lsn()")
            while True:
                if await standby.fetchval("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", lsn):
                    break
                await asyncio.sleep(0.0005)
            lags.append((time.perf_counter() - began) * 1000)
        return sorted(lags)
    finally:
        await primary.close()
        await standby.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=300)
    args = parser.parse_args()
    with primary_and_standby() as servers:
        lags = asyncio.run(measure(servers, args.commits))
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
    print(
        f"{args.commits} commits, commit to replayed on the standby: "
        f"median {statistics.median(lags):.2f} ms, p99 {p99:.2f} ms, max {lags[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
