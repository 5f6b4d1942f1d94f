"""`kmop serve` as a child process, for the tests that need a real server: a free port, the
process started with a clean environment, its output collected, and waiting until it is
ready."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx


def free_port() -> int:
    """A free port below the ephemeral range (32768+), so that no outgoing connection of this
    busy machine takes it between this check and the server binding it."""
    for port in random.Random().sample(range(20000, 32000), 200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port in 20000-32000")


async def spawn_serve(port: int, *args: str, **settings: str) -> asyncio.subprocess.Process:
    """`python -m app serve [args]` on ``port`` with only the given KMOP_ settings of ours (e.g.
    ``KMOP_DATABASE_URL``): none of the environment's leaks into the server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KMOP_")}
    env |= {"KMOP_PORT": str(port), **settings}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "serve",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


class Server:
    """`kmop serve` as a child process whose output is collected line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.lines.append(line.decode().rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def wait_for(self, text: str) -> None:
        async with asyncio.timeout(60):
            while not any(text in line for line in self.lines):
                assert self.process.returncode is None, f"exited early:\n{self.output}"
                await asyncio.sleep(0.05)  # polling with a deadline

    async def exited(self) -> None:
        """Waits (60 s at most) until the process has exited and all its output is read."""
        await asyncio.wait_for(self.process.wait(), timeout=60)
        await self.reader


@asynccontextmanager
async def serving(process: asyncio.subprocess.Process) -> AsyncIterator[Server]:
    """The process as a ``Server``, killed at the end if it still runs (a test that failed)."""
    server = Server(process)
    try:
        yield server
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def wait_ready(url: str, server: Server) -> None:
    async with httpx.AsyncClient() as client, asyncio.timeout(90):
        while True:
            assert server.process.returncode is None, f"exited early:\n{server.output}"
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)  # polling with a deadline
