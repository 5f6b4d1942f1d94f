"""`kmop token` and `kmop --help` start fast: they import neither FastAPI nor SQLAlchemy (nor
the rest of the app), and a development token names a client of its own per enterprise or
bureau."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

ROOT = Path(__file__).resolve().parents[2]
# What the service needs and a command that only prints must not load (seconds of CPU).
HEAVY = ("fastapi", "starlette", "sqlalchemy", "asyncpg", "uvicorn", "alembic", "app.main")


def kmop(*args: str) -> tuple[str, set[str]]:
    """Run `python -X importtime -m app ARGS`; its stdout and the modules it imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KMOP_")}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "app.cli" in modules  # the parse saw the imports
    return done.stdout, modules


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY}


def claims(token: str) -> dict[str, object]:
    return dict(jwt.decode(token.strip(), options={"verify_signature": False}))


@pytest.mark.parametrize(
    ("args", "subject"),
    [
        (("--role", "provider", "--enterprise-number", "BE 0403.170.701"), "provider-0403170701"),
        (("--role", "bureau", "--bureau-id", "bureau-kiwa"), "bureau-bureau-kiwa"),
        (
            (
                "--role",
                "agency",
            ),
            "agency-dev",
        ),
        (("--role", "provider", "--enterprise-number", "0403170701", "--sub", "app"), "app"),
    ],
)
def test_kmop_token_imports_no_web_or_database_stack_and_names_its_client(
    args: tuple[str, ...], subject: str
) -> None:
    out, modules = kmop("token", *args)
    assert heavy(modules) == set()
    assert claims(out)["sub"] == subject


def test_two_enterprises_get_two_client_ids_by_default() -> None:
    subjects = {
        claims(kmop("token", "--role", "provider", "--enterprise-number", number)[0])["sub"]
        for number in ("0403170701", "0417497106")
    }
    assert len(subjects) == 2


def test_kmop_help_imports_no_web_or_database_stack() -> None:
    out, modules = kmop("--help")
    assert "token" in out
    assert heavy(modules) == set()


def test_kmop_token_refuses_a_lifetime_the_service_would_refuse() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KMOP_")}
    done = subprocess.run(
        [sys.executable, "-m", "app", "token", "--role", "agency", "--ttl", str(2 * 86400)],
        cwd=ROOT,
        env=env | {"KMOP_JWT_MAX_LIFETIME_SECONDS": "86400"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "KMOP_JWT_MAX_LIFETIME_SECONDS" in done.stderr
    assert done.stdout == ""


def test_production_accepts_a_named_https_public_address_and_other_environments_the_default() -> (
    None
):
    from app.runtime.settings import Settings

    assert (
        Settings(
            environment="production", public_base_url="https://kmop.example.be"
        ).production_refusal()
        is None
    )
    assert Settings(environment="development").production_refusal() is None
    assert Settings(environment="test").production_refusal() is None
    assert Settings(environment="production").production_refusal() is not None
