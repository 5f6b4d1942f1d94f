"""Where a command's time goes in the app's process: N commands sent straight into the ASGI app
(no HTTP server, no client library), timed and profiled (cProfile).

    .venv/bin/python bench/profile_commands.py                      # 1,000 applications
    .venv/bin/python bench/profile_commands.py --command reports --count 300
    .venv/bin/python bench/profile_commands.py --no-profile         # the time only
    .venv/bin/python bench/profile_commands.py --no-profile --log --idempotency

A fresh database on the server (``--database-url``, default the local one) is migrated, used
and dropped. Printed: wall and CPU time per command (this process only: PostgreSQL's time is
not in the CPU figure), the profile's time per command by where it is spent (FastAPI and
Starlette, pydantic, PyJWT, asyncpg, SQLAlchemy, this app, the rest) and the functions with
the most time of their own. cProfile slows Python code down, so read the profile's shares,
not its absolute figures; ``--no-profile`` gives the time per command without it.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from app.api.http.auth import Role, mint_token
from app.domain.identifiers import EnterpriseNumber
from app.domain.norm import CURRENT_NORM
from app.main import create_app
from app.runtime import db
from app.runtime.logs import configure_logging
from app.runtime.settings import DEVELOPMENT_JWT_SECRET, Settings, normalize_database_url
from app.services.clock import FixedClock

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
BUREAU_ID = "bureau-profile"
VISIT = date(2026, 1, 15)

Send = Callable[[str, str, dict[str, str], Any], Awaitable[tuple[int, Any]]]


def asgi_client(app: FastAPI) -> Send:
    async def send(method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        raw = json.dumps(body).encode() if body is not None else b""
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                *((k.lower().encode(), v.encode()) for k, v in headers.items()),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("profile", 80),
        }
        messages = [{"type": "http.request", "body": raw, "more_body": False}]
        status, chunks = 0, []

        async def receive() -> MutableMapping[str, Any]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def reply(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, receive, reply)
        data = b"".join(chunks)
        return status, json.loads(data) if data else None

    return send


def token(role: Role, **claims: Any) -> dict[str, str]:
    minted = mint_token(DEVELOPMENT_JWT_SECRET, role=role, ttl_seconds=6 * 3600, **claims)
    return {"Authorization": f"Bearer {minted}"}


AGENCY = token(Role.AGENCY, subject="agency-profile")
BUREAU = token(Role.BUREAU, subject="bureau-profile-software", bureau_id=BUREAU_ID)


def provider(n: int) -> dict[str, str]:
    kbo = str(EnterpriseNumber.with_check_digits(7_100_000 + n))
    return token(Role.PROVIDER, subject=f"provider-{n}", enterprise_number=kbo)


def application(n: int) -> dict[str, Any]:
    return {
        "service_type": "opleiding",
        "provider_name": f"Vormingscentrum Profiel {n}",
        "bank_account": "BE68 5390 0754 7034",
        "activities": "Opleidingen digitale vaardigheden voor kmo's",
        "themes": ["digitalisering", "innovatie"],
    }


REPORT = {
    "audit_type": "basic",
    "visit_date": VISIT.isoformat(),
    "result": "passed",
    "scores": [
        {"indicator": i.code, "conformity": "T", "demonstrability": "V"}
        for i in CURRENT_NORM.indicators
        if i.requirement in range(1, 6)
    ],
    "verdicts": [{"requirement": r, "met": True} for r in range(1, 6)],
}


async def expect(sent: Awaitable[tuple[int, Any]], status: int) -> Any:
    got, body = await sent
    if got != status:
        raise SystemExit(f"expected {status}, got {got}: {body}")
    return body


async def planned_audits(send: Send, clock: FixedClock, count: int) -> list[str]:
    clock.set(datetime(2026, 1, 5, 10, tzinfo=UTC))
    audits = []
    for n in range(count):
        headers = provider(100_000 + n)
        applied = await expect(send("POST", "/applications", headers, application(n)), 201)
        application_id = applied["application_id"]
        url = f"/applications/{application_id}"
        await expect(send("POST", f"{url}/sworn-declaration", AGENCY, {}), 200)
        chosen = await expect(send("POST", f"{url}/audits", headers, {"bureau_id": BUREAU_ID}), 201)
        plan = {"visit_date": VISIT.isoformat(), "planned_hours": "6"}
        await expect(send("POST", f"/audits/{chosen['audit_id']}/plan", BUREAU, plan), 200)
        audits.append(chosen["audit_id"])
    clock.set(datetime(2026, 1, 16, 10, tzinfo=UTC))
    return audits


_GROUPS = (
    ("fastapi", "FastAPI, Starlette"),
    ("starlette", "FastAPI, Starlette"),
    ("pydantic", "pydantic"),
    ("/jwt/", "PyJWT"),
    ("asyncpg", "asyncpg"),
    ("sqlalchemy", "SQLAlchemy"),
    ("/app/", "this app"),
    ("asyncio", "asyncio"),
)


def by_group(stats: pstats.Stats, commands: int) -> list[tuple[str, float]]:
    """Time of their own (ms per command) of the functions in each group."""
    totals: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), row in stats.stats.items():  # type: ignore[attr-defined]
        group = next((label for part, label in _GROUPS if part in filename), "the rest")
        totals[group] += row[2]
    return sorted(((g, t * 1000 / commands) for g, t in totals.items()), key=lambda x: -x[1])


async def main(args: argparse.Namespace) -> None:
    admin = normalize_database_url(args.database_url)
    name = f"kmop_profile_{uuid.uuid4().hex[:8]}"
    dsn = make_url(admin).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        await db.upgrade_async(url)
        engine = db.make_engine(url)
        clock = FixedClock(datetime(2026, 1, 5, 10, tzinfo=UTC))
        app = create_app(Settings(environment="test"), engine=engine, clock=clock)
        send = asgi_client(app)
        bureau = {
            "bureau_id": BUREAU_ID,
            "name": "Profiel Audits",
            "enterprise_number": str(EnterpriseNumber.with_check_digits(4_174_971)),
            "appointed_from": "2025-01-01",
        }
        await expect(send("POST", "/bureaus", AGENCY, bureau), 201)
        if args.command == "applications":
            warm = [("POST", "/applications", provider(n), application(n), 201) for n in range(50)]
            requests = [
                ("POST", "/applications", provider(1_000 + n), application(n), 201)
                for n in range(args.count)
            ]
        else:
            audits = await planned_audits(send, clock, 50 + args.count)
            warm = [("POST", f"/audits/{a}/reports", BUREAU, REPORT, 201) for a in audits[:50]]
            requests = [("POST", f"/audits/{a}/reports", BUREAU, REPORT, 201) for a in audits[50:]]
        if args.idempotency:  # a new key per request, as a client that retries safely sends
            requests = [
                (method, path, {**headers, "Idempotency-Key": f"profile-{n}"}, body, status)
                for n, (method, path, headers, body, status) in enumerate(requests)
            ]
        for method, path, headers, body, status in warm:
            await expect(send(method, path, headers, body), status)
        profiler = cProfile.Profile() if args.profile else None
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        for method, path, headers, body, status in requests:
            await expect(send(method, path, headers, body), status)
        if profiler is not None:
            profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        n = len(requests)
        per = f"{wall * 1000 / n:.3f} ms wall, {cpu * 1000 / n:.3f} ms CPU per command"
        print(f"{n} x POST {args.command}: {per}{' (profiled)' if profiler else ''}")
        if profiler is not None:
            stats = pstats.Stats(profiler)
            print("time of their own, ms per command:")
            for group, ms in by_group(stats, n):
                print(f"  {group:<20} {ms:.3f}")
            stats.sort_stats("tottime").print_stats(args.top)
        await app.state.pg.close()
        await engine.dispose()
    finally:
        conn = await asyncpg.connect(dsn)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="a server to use")
    parser.add_argument("--command", choices=("applications", "reports"), default="applications")
    parser.add_argument("--count", type=int, default=1000, help="commands measured")
    parser.add_argument("--top", type=int, default=25, help="functions listed")
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument("--idempotency", action="store_true", help="an Idempotency-Key each")
    parser.add_argument("--log", action="store_true", help="the JSON access log, to /dev/null")
    arguments = parser.parse_args()
    if arguments.log:  # the access log as `kmop serve` writes it (JSON lines), to /dev/null
        configure_logging(json=True, stream=open(os.devnull, "w"))  # noqa: SIM115
    asyncio.run(main(arguments))
