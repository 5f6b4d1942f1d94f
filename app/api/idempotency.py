"""``Idempotency-Key``: a retried POST gets the first response again, and nothing is appended.

Per caller and key, the table ``idempotency_keys`` keeps the request's fingerprint (method,
path, canonical JSON body) and the exact response. The caller is the token's whole identity:
client id (``sub``), role and the bureau or enterprise it is bound to (``Principal.identity``),
so two tokens that share a ``sub`` but act for different enterprises never see each other's
responses. The row is written in the command's own transaction (``RegistrationService``'s
``finish`` hook), so a response is remembered if and only if its events were committed. Two
requests racing with one key: the second's insert waits for the first's transaction and then
fails on the primary key; its own events roll back with it and it answers the stored response.
Only successful responses are remembered: a refused command appended nothing, and a retry is
judged again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.errors import ErrorKind, KmopError

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # printable ASCII, no spaces
REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyKeyReused(KmopError):
    code = "idempotency-key-reused"
    kind = ErrorKind.CONFLICT
    title = "This Idempotency-Key was used for another request"


class IdempotencyRace(Exception):
    """Another request with the same key committed first (internal: answered by a replay)."""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def fingerprint(method: str, path: str, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON (or absurdly deep): the bytes as sent
        canonical = body
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    caller: tuple[str, str, str]  # client id, role, bound to (``Principal.identity``)
    key: str
    fingerprint: str

    def _params(self) -> dict[str, str]:
        client, role, bound_to = self.caller
        return {"client": client, "role": role, "bound_to": bound_to, "key": self.key}

    async def stored(self, engine: AsyncEngine) -> StoredResponse | None:
        """The response remembered for this key; a different request under it is refused."""
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT fingerprint, status_code, body, headers FROM idempotency_keys"
                        " WHERE client_id = :client AND role = :role AND bound_to = :bound_to"
                        " AND key = :key"
                    ),
                    self._params(),
                )
            ).first()
        if row is None:
            return None
        if row.fingerprint != self.fingerprint:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {self.key!r} was sent before with another request; "
                "use a new key for a new request"
            )
        return StoredResponse(row.status_code, bytes(row.body), dict(row.headers))

    async def remember(self, conn: AsyncConnection, response: StoredResponse) -> None:
        """Store the response in the caller's transaction."""
        try:
            await conn.execute(
                text(
                    "INSERT INTO idempotency_keys (client_id, role, bound_to, key, fingerprint,"
                    " status_code, body, headers) VALUES (:client, :role, :bound_to, :key, :fp,"
                    " :status, :body, CAST(:headers AS jsonb))"
                ),
                {
                    **self._params(),
                    "fp": self.fingerprint,
                    "status": response.status_code,
                    "body": response.body,
                    "headers": json.dumps(response.headers),
                },
            )
        except IntegrityError as exc:
            raise IdempotencyRace(self.key) from exc


async def forget_expired(engine: AsyncEngine, retention: timedelta) -> int:
    """Delete keys older than the retention (`KMOP_IDEMPOTENCY_RETENTION_HOURS`, >= 24)."""
    async with engine.begin() as conn:
        result = await conn.execute(
            text(
                "DELETE FROM idempotency_keys"
                " WHERE created_at < now() - CAST(:retention AS interval)"
            ),
            {"retention": retention},
        )
    return int(result.rowcount or 0)
