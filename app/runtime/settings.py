"""Configuration, read from the environment with the prefix ``KMOP_`` (one place, one class)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.domain.policies import StarterCriteria, StarterRule

# Signs and verifies development tokens (`kmop token`) when KMOP_JWT_SECRET is unset; refused in
# production.
DEVELOPMENT_JWT_SECRET = "kmop-development-secret-not-for-production"
# Signs the event log's checkpoints when KMOP_CHECKPOINT_KEY is unset; refused in production.
DEVELOPMENT_CHECKPOINT_KEY = "kmop-development-checkpoint-key-not-for-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KMOP_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str | None = Field(
        default=None,
        description="postgresql+asyncpg://user:password@host:port/db. "
        "Unset: `kmop serve` starts an embedded PostgreSQL in data_dir.",
    )
    read_database_url: str | None = Field(
        default=None,
        description="A streaming replica of database_url for the public reads (the public "
        "search and check, the web page); unset: they read database_url too.",
    )
    data_dir: Path = Field(default=Path(".kmop"), description="Embedded PostgreSQL lives here.")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Processes `kmop serve` starts on the one port (`--workers`); each has its "
        "own pools, so the database sees workers x (db_pool_size + db_max_overflow) at most.",
    )
    db_pool_size: int = 10
    db_max_overflow: int = 10
    registration_number_base: int = Field(
        default=1, ge=1, le=999_999, description="Serial of the first DV.O/DV.A number."
    )
    shutdown_grace_seconds: int = Field(
        default=20,
        ge=1,
        description="On SIGTERM or Ctrl-C, how long requests in flight may take to finish.",
    )
    deadline_interval_seconds: float = Field(
        default=3600, ge=0, description="How often the service runs the deadline job; 0: never."
    )
    starter_max_years_active: int = 3
    starter_max_dossiers: int = 20
    starter_rule: Literal["and", "or"] = "and"

    # Bearer tokens (JWT). HS256 with jwt_secret, or RS256 with a PEM public key or a JWKS URL.
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 shared secret. Unset outside production: the development secret.",
    )
    jwt_public_key: str | None = Field(default=None, description="RS256: a PEM public key.")
    jwks_url: str | None = Field(default=None, description="RS256: where the signing keys are.")
    jwt_audience: str = "kmop-registry"
    jwt_issuer: str | None = None
    jwt_max_lifetime_seconds: int = Field(
        default=86400,
        ge=60,
        le=30 * 86400,
        description="Longest a bearer token may live: exp - iat, or exp - now without iat. "
        "Longer-lived tokens are refused (401 invalid_token), in every environment.",
    )
    idempotency_retention_hours: float = Field(
        default=48, ge=24, description="How long an Idempotency-Key is remembered (at least 24 h)."
    )
    sse_heartbeat_seconds: float = Field(
        default=15,
        gt=0,
        le=3600,
        description="GET /events/stream: a comment line after this long without an event, so "
        "proxies keep the connection open and the client knows it is alive.",
    )
    sse_poll_seconds: float = Field(
        default=1,
        gt=0,
        le=60,
        description="GET /events/stream: how often an idle stream looks for new events.",
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        le=64 * 1_048_576,
        description="Largest request body accepted; a larger one gets 413 while it streams.",
    )
    max_header_bytes: int = Field(
        default=16_384,
        ge=4096,
        le=1_048_576,
        description="Longest request line and headers `kmop serve` reads; longer: 431 and the "
        "connection closed.",
    )
    http_protocol: Literal["httptools", "h11"] = Field(
        default="httptools",
        description="The HTTP/1.1 parser `kmop serve` uses, both with the bounds on request "
        "heads: httptools (llhttp, in C) or h11 (pure Python, slower).",
    )
    header_timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=300,
        description="How long `kmop serve` waits for a request's line and headers to be "
        "complete; slower: 408 and the connection closed.",
    )
    checkpoint_key: SecretStr | None = Field(
        default=None,
        description="HMAC-SHA256 key that signs the event log's checkpoints; keep it outside "
        "the database. Unset outside production: a development key.",
    )
    checkpoint_interval_seconds: float = Field(
        default=3600,
        ge=0,
        description="How often the service records a checkpoint of the event log; 0: never "
        "(run `kmop events checkpoint` instead).",
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="Where the public web page is served: the attest of registration prints "
        "its verification address (<public_base_url>/controle/<code>) under it.",
    )
    public_max_age_seconds: int = Field(
        default=0,
        ge=0,
        le=86400,
        description="Cache-Control max-age of the public search's answers; 0: revalidate.",
    )
    open_data_max_age_seconds: int = Field(
        default=0,
        ge=0,
        le=86400,
        description="Cache-Control max-age of the open-data files (/public/providers.csv, "
        ".json, /public/dataset.jsonld); 0: caches revalidate every use (a 304 costs four "
        "short index reads). Shared caches may also serve a stale copy 60 s while they "
        "revalidate, and for a day when the service cannot answer.",
    )
    cors_origins: str = Field(
        default="*",
        description="Origins whose browser pages may read the public routes (/public/...), "
        "comma-separated (https://example.be,https://kaart.example.be); * any; empty: none.",
    )
    gzip_minimum_bytes: int = Field(
        default=1024,
        ge=0,
        description="Answers at least this long are gzip-compressed for clients that accept it "
        "(never event streams).",
    )

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in cors_origin_list(value):
            if origin != "*" and not _ORIGIN.match(origin):
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port]) nor *")
        return value

    def cors_origins_allowed(self) -> list[str]:
        return cors_origin_list(self.cors_origins)

    webhook_private_addresses: bool | None = Field(
        default=None,
        description="Deliver webhooks to private, loopback and link-local addresses (and "
        "register them). Unset: allowed outside production, refused in production (SSRF).",
    )
    webhook_dispatchers: int = Field(
        default=2,
        ge=0,
        le=32,
        description="Webhook dispatchers the service runs (in worker 0); each delivers to one "
        "webhook at a time; 0: none (deliveries wait for a service that runs them).",
    )
    webhook_poll_seconds: float = Field(
        default=1, gt=0, le=60, description="How often idle dispatchers look for new events."
    )
    webhook_batch: int = Field(
        default=100, ge=1, le=1000, description="Events a dispatcher delivers per lease."
    )
    webhook_timeout_seconds: float = Field(
        default=10, gt=0, le=60, description="How long a receiver may take to answer."
    )
    webhook_lease_seconds: float = Field(
        default=60,
        gt=0,
        le=3600,
        description="How long a dispatcher holds a webhook without progress before another "
        "may take it over; longer than webhook_timeout_seconds.",
    )
    webhook_retry_base_seconds: float = Field(
        default=5, gt=0, le=3600, description="Wait after a first failed delivery; doubles."
    )
    webhook_retry_cap_seconds: float = Field(
        default=3600, gt=0, le=86400, description="The longest wait between two attempts."
    )

    @field_validator("database_url", "read_database_url")
    @classmethod
    def _asyncpg_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        return normalize_database_url(value)

    def webhook_private_addresses_allowed(self) -> bool:
        if self.webhook_private_addresses is not None:
            return self.webhook_private_addresses
        return self.environment != "production"

    def signing_secret(self) -> str | None:
        """The HS256 secret in force: the configured one, or (outside production, when no RS256
        keys are configured) the development secret that `kmop token` also uses. Production
        refuses the development secret (`app.api.http.auth.TokenVerifier`)."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        if self.environment != "production" and not (self.jwt_public_key or self.jwks_url):
            return DEVELOPMENT_JWT_SECRET
        return None

    def checkpoint_secret(self) -> bytes | None:
        """The key that signs and verifies checkpoints: the configured one, or outside production
        the development key. None in production without a key of its own."""
        key = self.checkpoint_key.get_secret_value() if self.checkpoint_key else None
        if self.environment == "production":
            return key.encode() if key and key != DEVELOPMENT_CHECKPOINT_KEY else None
        return (key or DEVELOPMENT_CHECKPOINT_KEY).encode()

    def production_refusal(self) -> str | None:
        """Why `kmop serve` refuses to start in production with this configuration, or None.
        The attest of registration prints ``public_base_url`` for anyone to follow: in
        production it must be named explicitly and served over HTTPS, never the development
        default on this machine's loopback address."""
        if self.environment != "production":
            return None
        if "public_base_url" not in self.model_fields_set:
            return "KMOP_PUBLIC_BASE_URL is required in production (the attest prints it)"
        if not self.public_base_url.startswith("https://"):
            return "KMOP_PUBLIC_BASE_URL must be an https:// address in production"
        return None

    def starter_criteria(self) -> StarterCriteria:
        return StarterCriteria(
            max_years_active=self.starter_max_years_active,
            max_dossiers=self.starter_max_dossiers,
            rule=StarterRule(self.starter_rule),
        )


_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def cors_origin_list(value: str) -> list[str]:
    return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]


def normalize_database_url(url: str) -> str:
    """Accept the common spellings (`postgres://`, `postgresql://`) and use the asyncpg driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if not url.startswith("postgresql+asyncpg://"):
        raise ValueError(
            "KMOP_DATABASE_URL and KMOP_READ_DATABASE_URL must be postgresql:// or "
            "postgresql+asyncpg:// URLs"
        )
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
