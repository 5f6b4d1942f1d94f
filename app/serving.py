"""Serving the app with uvicorn so that open event streams end when the service stops.

uvicorn's graceful shutdown stops accepting connections, then waits for every open response to
finish, and only then runs the app's lifespan shutdown. An event stream (``GET /events/stream``)
never finishes by itself, so it would wait for the stream, and the stream for the lifespan:
a stop would hang until a second Ctrl-C. This server sets ``app.state.stopping`` (the event the
streams watch; the lifespan sets it too) *before* it waits, so streams end and the stop is clean.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from fastapi import FastAPI


class Server(uvicorn.Server):
    def __init__(self, app: FastAPI, **config: Any) -> None:
        super().__init__(uvicorn.Config(app, **config))
        self.app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        stopping: asyncio.Event | None = getattr(self.app.state, "stopping", None)
        if stopping is not None:
            stopping.set()
        await super().shutdown(sockets)


def run(app: FastAPI, *, host: str, port: int, log_level: str = "info") -> None:
    """``uvicorn.run`` for our app: re-raises Ctrl-C after the graceful shutdown, as it does."""
    Server(app, host=host, port=port, log_level=log_level).run()
