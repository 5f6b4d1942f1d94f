"""Round trips to PostgreSQL, counted by a TCP proxy that reads the frontend protocol.

    .venv/bin/python bench/pgproxy.py --selftest        # what raw asyncpg calls count as

``RoundTripProxy`` listens on a free loopback port and forwards every connection to the real
server. It reads the messages the client sends (the PostgreSQL v3 frontend protocol: after the
startup packet, a type byte and a length each) and counts, per message type, those sent while
it is counting (``reset()`` starts a window, ``snapshot()`` reads it).

**What counts as one round trip**: a message after which the client cannot go on until the
server answers, i.e. each ``Sync`` (``S``: ends an extended-protocol batch of Parse / Bind /
Describe / Execute, answered by ReadyForQuery), each simple ``Query`` (``Q``: BEGIN, COMMIT,
ROLLBACK as SQLAlchemy sends them, or any statement without parameters sent with asyncpg's
``execute``), each ``Flush`` (``H``: asyncpg prepares a statement with Parse, Describe, Flush
and waits for the description before it binds) and a Function call (``F``, unused here). As a
cross-check the proxy also counts *turns*: how often a client sends again after the server has
answered it. Pipelining (many messages, one wait) would make the turns fewer than the count.

Connection start-up (the startup packet, authentication, and whatever a driver queries on a
new connection) is left out by opening the connections before the window: ``new_connections``
says how many were opened inside it (0 in a clean measurement). An ``SSLRequest`` is answered
``N`` by the proxy itself, so clients speak plaintext to it (and through it).

The self-test connects raw asyncpg through the proxy and checks the counts the benchmark's
reading relies on: a prepared statement's first use costs 2 (Parse/Describe/Sync, then
Bind/Execute/Sync), every later use 1; ``execute`` without arguments is one simple Query;
a transaction adds BEGIN and COMMIT, 1 each.
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import sys
from collections import Counter
from dataclasses import dataclass, field

SSL_REQUEST, GSS_REQUEST, CANCEL_REQUEST = 80877103, 80877104, 80877102
# Sync, Query, FunctionCall (answered by ReadyForQuery) and Flush (the server sends what it
# has, and asyncpg waits for it: its prepare is Parse, Describe, Flush)
WAITS = frozenset(b"SQFH")


@dataclass
class Window:
    messages: Counter[str] = field(default_factory=Counter)
    turns: int = 0
    new_connections: int = 0
    statements: Counter[str] = field(default_factory=Counter)  # SQL executed (Query or Bind)

    @property
    def round_trips(self) -> int:
        return sum(n for kind, n in self.messages.items() if ord(kind) in WAITS)


class RoundTripProxy:
    def __init__(
        self,
        upstream_host: str = "127.0.0.1",
        upstream_port: int = 5432,
        *,
        upstream_socket: str | None = None,  # a Unix socket's path instead (embedded server)
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.upstream_socket = upstream_socket
        self.window = Window()
        self.counting = False
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def reset(self) -> None:
        self.window = Window()
        self.counting = True

    def snapshot(self) -> Window:
        self.counting = False
        return self.window

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.counting:
            self.window.new_connections += 1
        upstream: asyncio.StreamWriter | None = None
        answered = [False]  # the server spoke since the client last sent
        try:
            while True:  # the startup packet, after any SSL / GSS encryption requests
                head = await reader.readexactly(8)
                length, code = struct.unpack("!ii", head)
                rest = await reader.readexactly(length - 8)
                if code in (SSL_REQUEST, GSS_REQUEST):
                    writer.write(b"N")
                    await writer.drain()
                    continue
                break
            if self.upstream_socket is not None:
                up_reader, upstream = await asyncio.open_unix_connection(self.upstream_socket)
            else:
                up_reader, upstream = await asyncio.open_connection(*self.upstream)
            upstream.write(head + rest)
            if code == CANCEL_REQUEST:
                await upstream.drain()
                return
            back = asyncio.create_task(self._pipe(up_reader, writer, answered))
            try:
                await self._client_messages(reader, upstream, answered)
            finally:
                back.cancel()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            for w in (writer, upstream):
                if w is not None:
                    w.close()

    async def _client_messages(
        self, reader: asyncio.StreamReader, upstream: asyncio.StreamWriter, answered: list[bool]
    ) -> None:
        prepared: dict[bytes, str] = {}  # statement name -> its SQL, on this connection
        while True:
            head = await reader.readexactly(5)
            kind, length = head[:1], struct.unpack("!i", head[1:])[0]
            body = await reader.readexactly(length - 4)
            if kind == b"P":
                name, sql = body.split(b"\0", 2)[:2]
                prepared[name] = sql.decode(errors="replace")
            if self.counting:
                self.window.messages[kind.decode()] += 1
                if answered[0]:
                    self.window.turns += 1
                if kind == b"Q":
                    self.window.statements[body.rstrip(b"\0").decode(errors="replace")] += 1
                elif kind == b"B":
                    name = body.split(b"\0", 2)[1]
                    self.window.statements[prepared.get(name, f"<statement {name!r}>")] += 1
            answered[0] = False
            upstream.write(head + body)
            await upstream.drain()
            if kind == b"X":  # Terminate
                return

    @staticmethod
    async def _pipe(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answered: list[bool]
    ) -> None:
        try:
            while data := await reader.read(65536):
                answered[0] = True
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


# --- the self-test ---------------------------------------------------------------------------


def proxy_to(database_url: str) -> RoundTripProxy:
    """A proxy to the server of a SQLAlchemy URL: its TCP address, or the Unix socket of an
    embedded server (``?host=/socket/dir&port=N``)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    socket_dir = url.query.get("host")
    if socket_dir:
        return RoundTripProxy(
            upstream_socket=f"{socket_dir}/.s.PGSQL.{url.query.get('port') or 5432}"
        )
    return RoundTripProxy(url.host or "127.0.0.1", url.port or 5432)


def url_through(database_url: str, port: int) -> str:
    """The same database's URL, reached through a started proxy listening on ``port``."""
    from sqlalchemy.engine import make_url

    through = make_url(database_url).set(host="127.0.0.1", port=port, query={})
    return through.render_as_string(hide_password=False)


async def selftest(host: str, port: int, user: str, database: str) -> list[tuple[str, int, int]]:
    """(what, round trips counted, expected) for raw asyncpg calls through the proxy."""
    import asyncpg

    proxy = RoundTripProxy(host, port)
    await proxy.start()
    conn = await asyncpg.connect(
        host="127.0.0.1", port=proxy.port, user=user, database=database, ssl=False
    )
    await conn.execute("CREATE TEMP TABLE rt (id serial PRIMARY KEY, data jsonb)")
    insert = "INSERT INTO rt (data) VALUES ($1)"
    results = []

    async def count(what: str, expected: int, call: object) -> None:
        proxy.reset()
        await call  # type: ignore[misc]
        window = proxy.snapshot()
        results.append((what, window.round_trips, expected))
        print(f"    {what}: messages {dict(window.messages)}, turns {window.turns}")
        if window.turns != window.round_trips:
            results.append((f"  turns of {what}", window.turns, window.round_trips))

    await count("fetchval('SELECT $1::int', 1), first use (prepare + execute)", 2,
                conn.fetchval("SELECT $1::int", 1))  # fmt: skip
    await count("the same fetchval again (statement cached)", 1, conn.fetchval("SELECT $1::int", 2))
    await count("execute('SELECT 1'): no arguments, simple Query", 1, conn.execute("SELECT 1"))
    await conn.execute(insert, "{}")  # prepare it

    async def in_transaction() -> None:
        async with conn.transaction():
            await conn.execute(insert, "{}")

    await count("INSERT in a transaction (BEGIN, INSERT, COMMIT)", 3, in_transaction())
    await count("INSERT in autocommit (cached)", 1, conn.execute(insert, "{}"))
    await count("executemany of 10 rows (one pipelined batch)", 1,
                conn.executemany(insert, [("{}",)] * 10))  # fmt: skip
    await conn.close()
    await proxy.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--selftest", action="store_true", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--database", default="postgres")
    args = parser.parse_args()
    results = asyncio.run(selftest(args.host, args.port, args.user, args.database))
    failed = False
    for what, counted, expected in results:
        mark = "ok" if counted == expected else "UNEXPECTED"
        failed |= counted != expected
        print(f"{counted:>3} round trip(s), expected {expected}: {what} [{mark}]")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
