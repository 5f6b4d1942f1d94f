"""Configuration, read from the environment with the prefix ``KMOP_`` (one place, one class)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KMOP_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str | None = Field(
        default=None,
        description="postgresql+asyncpg://user:password@host:port/db. "
        "Unset: `kmop serve` starts an embedded PostgreSQL in data_dir.",
    )
    data_dir: Path = Field(default=Path(".kmop"), description="Embedded PostgreSQL lives here.")
    host: str = "127.0.0.1"
    port: int = 8000
    db_pool_size: int = 10
    db_max_overflow: int = 10

    @field_validator("database_url")
    @classmethod
    def _asyncpg_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        return normalize_database_url(value)


def normalize_database_url(url: str) -> str:
    """Accept the common spellings (`postgres://`, `postgresql://`) and use the asyncpg driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if not url.startswith("postgresql+asyncpg://"):
        raise ValueError("KMOP_DATABASE_URL must be a postgresql:// or postgresql+asyncpg:// URL")
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
