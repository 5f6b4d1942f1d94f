"""Write or check ``openapi/openapi.json``: `python -m app.cli.openapi write|check`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from app.cli.generated import write_or_check
from app.main import create_app
from app.runtime.settings import Settings

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def document() -> dict[str, Any]:
    return create_app(Settings(database_url=None)).openapi()


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    return write_or_check(argv, OPENAPI_PATH, render, command="python -m app.cli.openapi")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
