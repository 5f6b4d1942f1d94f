"""The operator's command line, `kmop ...` (``python -m app``), one module per command group.

``base``: the Typer app and what the commands share (the database, the settings, the service);
``serve``: migrate and serve; ``token``; ``deadlines``; ``projections``; ``events``; ``demo``;
``entry``: the entry point (``main``). ``openapi``: write or check the committed OpenAPI
document (``python -m app.cli.openapi write|check``).

May import anything below it (``app.main``, ``app.services``, ``app.events``, ``app.domain``,
the runtime modules, ``app.demo``) — but only inside a command, when it runs: `kmop token` and
`kmop --help` must stay light (tests/unit/test_cli.py). Nothing in ``app`` imports the CLI.
"""

# The order of `kmop --help`: the commands and groups as they register.
# isort: off
from app.cli import serve, token, deadlines, projections, events, demo  # noqa: F401

# isort: on
from app.cli.base import EMBEDDED_DATABASE, cli
from app.cli.entry import main

__all__ = ["EMBEDDED_DATABASE", "cli", "main"]
