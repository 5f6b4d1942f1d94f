#!/usr/bin/env python3
"""Bootstrap for newcomers: `python3 dev.py run|test` (what `make run` / `make test` call).

Creates `.venv` with the project and its development extras the first time, and again whenever
`pyproject.toml` or `requirements.lock` changes, then hands over to the service or to pytest.
The runtime dependencies are held to the versions `requirements.lock` pins (the ones the Docker
image installs), so the tests run what ships. Needs only Python 3.11+.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".installed"
LOCK = ROOT / "requirements.lock"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must run on older ones to say so
        sys.exit(f"kmop-registry needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    sources = (ROOT / "pyproject.toml", LOCK)
    if STAMP.exists() and all(STAMP.stat().st_mtime >= f.stat().st_mtime for f in sources):
        return
    if not (BIN / "python").exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing kmop-registry and its dependencies ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    constraints = VENV / "constraints.txt"
    constraints.write_text(pins(LOCK.read_text()))
    subprocess.run([*pip, "-c", str(constraints), "-e", f"{ROOT}[dev]"], check=True)
    STAMP.touch()


def pins(lock: str) -> str:
    """The lock's ``name==version ; marker`` lines without their hashes: pip takes hashes only
    when every requirement has them, and the development extras are not in the lock."""
    lines = []
    for line in lock.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            lines.append(line.removesuffix("\\").strip())
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "setup"}:
        print("usage: python3 dev.py run|test|setup [args...]", file=sys.stderr)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    if command == "setup":
        return 0
    if command == "run":
        args = [str(BIN / "kmop"), "serve", *rest]
    else:
        args = [str(BIN / "python"), "-m", "pytest", *rest]
    os.chdir(ROOT)
    if os.name == "nt":
        return subprocess.run(args).returncode
    os.execv(args[0], args)
    return 0  # unreachable: execv replaces the process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
