"""Files generated from the code and committed (the OpenAPI document, the event reference):
one command line to write them and to check that the committed copy is current."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path


def write_or_check(
    argv: Iterable[str], path: Path, render: Callable[[], str], *, command: str
) -> int:
    """``write`` renders ``path``; ``check`` (the default) exits 1 when it is stale."""
    args = list(argv)
    mode = args[0] if args else "check"
    if mode == "write":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(), encoding="utf-8")
        print(f"wrote {path}")
        return 0
    if mode == "check":
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != render():
            print(f"{path} is stale: run `{command} write` and commit it.", file=sys.stderr)
            return 1
        print(f"{path.name} is up to date")
        return 0
    print(f"usage: {command} write|check", file=sys.stderr)
    return 2
