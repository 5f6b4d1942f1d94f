"""Write or check ``openapi/openapi.json``: `python -m app.openapi write|check`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from app.main import create_app
from app.settings import Settings

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def document() -> dict[str, Any]:
    return create_app(Settings(database_url=None)).openapi()


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    mode = argv[0] if argv else "check"
    if mode == "write":
        OPENAPI_PATH.write_text(render(), encoding="utf-8")
        print(f"wrote {OPENAPI_PATH}")
        return 0
    if mode == "check":
        current = OPENAPI_PATH.read_text(encoding="utf-8") if OPENAPI_PATH.exists() else ""
        if current != render():
            print(f"{OPENAPI_PATH} is stale: run `make openapi` and commit it.", file=sys.stderr)
            return 1
        print("openapi/openapi.json is up to date")
        return 0
    print("usage: python -m app.openapi write|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
