"""Webhooks: the events a client may see, POSTed to an address it registered, for integrators
that cannot hold a connection open (``GET /events/stream``).

**From the event log, at least once, in order.** Each webhook has a cursor in the feed's global
order (``webhooks.after_position``) and follows its owner's scope (``app.events.audience``),
read with the feed's own no-skip reader. The dispatcher POSTs one event at a time and moves the
cursor past it only once the receiver answered 2xx: a crash, a restart or a lost lease at worst
delivers an event again, never skips one. Events go in the global order, so in order per stream.
Receivers de-duplicate by ``event_id`` (the ``Kmop-Event-Id`` header).

**Signed.** ``Kmop-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`` with the
``Kmop-Timestamp`` (Unix seconds) it covers: the receiver recomputes it over the raw body and
compares in constant time, and refuses old timestamps (replays). The secret is made by the
service and shown once, when the webhook is registered.

**Retried with backoff.** A failed delivery (not 2xx, a timeout, a refused address) is logged
and the webhook waits ``base x 2^(failures-1)`` seconds, at most ``cap``, before it tries the
same event again; forever, at the cap (the receiver's log shows it; its owner can read the
delivery log, ``GET /webhooks/{id}/deliveries``).

**One dispatcher per webhook at a time, however many run.** A dispatcher leases a due webhook
(``FOR UPDATE SKIP LOCKED`` in a short transaction, then ``leased_until``/``lease_token``): no
transaction stays open while it talks to a receiver (an open transaction would hold back the
feed's horizon for everyone). Every write after the claim checks the token, so a dispatcher
whose lease ran out (a hung receiver, a paused process) changes nothing; the next one takes
over from the cursor. State is in PostgreSQL: a restart goes on where the last one stopped.

**No SSRF.** Only ``https://`` addresses, and ``http://`` only to a loopback address (tests,
local development). Unless ``KMOP_WEBHOOK_PRIVATE_ADDRESSES`` allows it (by default outside
production), an address that is or resolves to a private, loopback, link-local or otherwise
non-public IP is refused: at registration for a literal IP, and at every delivery for the
addresses the name resolves to then. Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import secrets
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.queries.feed import feed_event
from app.domain.errors import ErrorKind, KmopError
from app.domain.roles import Role
from app.events import EventStore, RecordedEvent
from app.events.audience import Audience
from app.events.catalog import REGISTRY
from app.runtime.settings import Settings

log = logging.getLogger(__name__)

SIGNATURE = "Kmop-Signature"
TIMESTAMP = "Kmop-Timestamp"
EVENT_ID = "Kmop-Event-Id"
WEBHOOK_ID = "Kmop-Webhook-Id"
MAX_URL = 2000


# --- signing ----------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``Kmop-Signature`` of ``body`` sent at ``timestamp`` (Unix seconds, as sent)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: float = 300
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        fresh = abs(time.time() - int(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


# --- addresses --------------------------------------------------------------------------


class WebhookAddressRefused(KmopError):
    code = "webhook-address-refused"
    kind = ErrorKind.INVALID
    title = "The webhook address is refused"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, errors=[{"pointer": "#/url", "detail": detail}])


def _literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _loopback(host: str) -> bool:
    ip = _literal_ip(host)
    return host == "localhost" or (ip is not None and ip.is_loopback)


def check_address(url: str, *, private: bool) -> None:
    """What can be said of an address without resolving it (at registration)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # e.g. an unclosed [IPv6 literal
        raise WebhookAddressRefused("the address is not a URL") from None
    invisible = any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url)
    if parts.scheme not in ("https", "http") or not host or invisible:
        raise WebhookAddressRefused("the address must be an absolute https:// URL")
    if parts.username is not None or parts.password is not None:
        raise WebhookAddressRefused("the address must not carry a user name or password")
    if parts.fragment:
        raise WebhookAddressRefused("the address must not have a #fragment")
    try:
        parts.port  # noqa: B018 (raises for a port out of range)
    except ValueError:
        raise WebhookAddressRefused("the address's port is not a port") from None
    if parts.scheme == "http" and not _loopback(host):
        raise WebhookAddressRefused(
            "the address must use https (plain http only to a loopback address, for tests and "
            "local development)"
        )
    ip = _literal_ip(host)
    if not private and (host == "localhost" or (ip is not None and not _public(ip))):
        raise WebhookAddressRefused(f"{host} is not a public address ({PRIVATE_HINT})")


PRIVATE_HINT = "private, loopback and link-local addresses need KMOP_WEBHOOK_PRIVATE_ADDRESSES"


async def resolved_refusal(url: str, *, private: bool) -> str | None:
    """Why a delivery to ``url`` may not go out now (the name resolves to a non-public
    address, or not at all), or None."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if private:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"{host} does not resolve: {exc}"
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not _public(ip):
            return f"{host} resolves to {ip}, not a public address ({PRIVATE_HINT})"
    return None


# --- the dispatcher ---------------------------------------------------------------------

_CLAIM = text(
    """
    UPDATE webhooks SET leased_until = now() + make_interval(secs => :lease),
                        lease_token = :token
    WHERE webhook_id = (
        SELECT webhook_id FROM webhooks
        WHERE next_attempt_at <= now() AND (leased_until IS NULL OR leased_until < now())
          -- an idle webhook (its cursor on the newest event) waits for the next event
          AND after_position IS DISTINCT FROM (
              SELECT position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1)
        ORDER BY next_attempt_at LIMIT 1
        FOR UPDATE SKIP LOCKED)
    RETURNING webhook_id, role, bound_to, url, secret, after_position, failures
    """
)
_LOG = text(
    """
    INSERT INTO webhook_deliveries (webhook_id, position, event_id, event_type, attempt,
                                    status_code, error, succeeded, duration_ms)
    SELECT webhook_id, :position, :event_id, :event_type, failures + 1, :status_code, :error,
           :succeeded, :duration_ms
    FROM webhooks WHERE webhook_id = :webhook_id AND lease_token = :token
    """
)
_DELIVERED = text(
    """
    UPDATE webhooks SET after_position = :position, delivered = delivered + 1, failures = 0,
                        leased_until = now() + make_interval(secs => :lease)
    WHERE webhook_id = :webhook_id AND lease_token = :token
    """
)
_FAILED = text(
    """
    UPDATE webhooks SET failures = failures + 1,
        next_attempt_at = now() + make_interval(
            secs => least(:base * power(2, least(failures, 40)), :cap)),
        leased_until = NULL, lease_token = NULL
    WHERE webhook_id = :webhook_id AND lease_token = :token
    """
)
_RELEASE = text(
    """
    UPDATE webhooks SET after_position = :after,
        next_attempt_at = now() + make_interval(secs => :wait),
        leased_until = NULL, lease_token = NULL
    WHERE webhook_id = :webhook_id AND lease_token = :token
    """
)

_ABANDON = text(
    "UPDATE webhooks SET leased_until = NULL, lease_token = NULL WHERE lease_token = :token"
)


@dataclass(frozen=True, slots=True)
class Lease:
    webhook_id: uuid.UUID
    token: uuid.UUID
    url: str
    secret: str
    audience: Audience
    after: int


def audience_of(role: str, bound_to: str) -> Audience:
    kind = Role(role)
    if kind is Role.BUREAU:
        return Audience(kind, bureau_id=bound_to)
    if kind is Role.PROVIDER:
        return Audience(kind, enterprise_number=bound_to)
    return Audience(kind)


class Dispatcher:
    """Delivers the due webhooks' events; safe to run in any number of processes at once."""

    def __init__(self, engine: AsyncEngine, settings: Settings, http: httpx.AsyncClient) -> None:
        self.engine = engine
        self.settings = settings
        self.http = http
        self.private = settings.webhook_private_addresses_allowed()

    async def run_once(self) -> bool:
        """Lease one due webhook and deliver what it has to (a batch); False when none is due."""
        token = uuid.uuid4()
        try:
            async with self.engine.begin() as conn:
                claim = {"lease": self.settings.webhook_lease_seconds, "token": token}
                row = (await conn.execute(_CLAIM, claim)).first()
            if row is None:
                return False
            lease = Lease(
                row.webhook_id,
                token,
                row.url,
                row.secret,
                audience_of(row.role, row.bound_to),
                row.after_position,
            )
            await self._deliver(lease)
        except BaseException:
            # Cancelled (a shutdown) or broken, perhaps between the claim's commit and here:
            # free the webhook now rather than when the lease runs out; the cursor stays where
            # the last accepted event left it.
            await asyncio.shield(self._abandon(token))
            raise
        return True

    async def _abandon(self, token: uuid.UUID) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(_ABANDON, {"token": token})

    async def _deliver(self, lease: Lease) -> None:
        async with self.engine.connect() as conn:
            page = await EventStore(conn, REGISTRY).read_feed(
                after=lease.after, limit=self.settings.webhook_batch, audience=lease.audience
            )
        refusal = None
        if page.events:
            refusal = await resolved_refusal(lease.url, private=self.private)
        for event in page.events:
            if not await self._post(lease, event, refusal):
                return
        wait = self.settings.webhook_poll_seconds if page.caught_up else 0
        await self._release(lease, page.next_after, wait)

    async def _post(self, lease: Lease, event: RecordedEvent, refusal: str | None) -> bool:
        body = feed_event(event, lease.audience).model_dump_json().encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "kmop-registry-webhooks",
            WEBHOOK_ID: str(lease.webhook_id),
            EVENT_ID: str(event.event_id),
            TIMESTAMP: timestamp,
            SIGNATURE: sign(lease.secret, timestamp, body),
        }
        started = time.monotonic()
        status: int | None = None
        error = refusal
        if refusal is None:
            try:
                response = await self.http.post(
                    lease.url,
                    content=body,
                    headers=headers,
                    timeout=self.settings.webhook_timeout_seconds,
                )
                status = response.status_code
                if not 200 <= status < 300:
                    error = f"answered {status}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        succeeded = error is None
        params: dict[str, Any] = {
            "webhook_id": lease.webhook_id,
            "token": lease.token,
            "position": event.position,
            "event_id": event.event_id,
            "event_type": event.event_type,
            "status_code": status,
            "error": error,
            "succeeded": succeeded,
            "duration_ms": int((time.monotonic() - started) * 1000),
            "lease": self.settings.webhook_lease_seconds,
            "base": self.settings.webhook_retry_base_seconds,
            "cap": self.settings.webhook_retry_cap_seconds,
        }
        async with self.engine.begin() as conn:
            await conn.execute(_LOG, params)
            result = await conn.execute(_DELIVERED if succeeded else _FAILED, params)
        if result.rowcount == 0:
            log.warning("webhook %s: lease lost; another dispatcher goes on", lease.webhook_id)
            return False
        if not succeeded:
            log.info(
                "webhook %s: delivery of %s failed: %s", lease.webhook_id, event.position, error
            )
        return succeeded

    async def _release(self, lease: Lease, after: int, wait: float) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                _RELEASE,
                {
                    "webhook_id": lease.webhook_id,
                    "token": lease.token,
                    "after": after,
                    "wait": wait,
                },
            )


async def run_dispatcher(engine: AsyncEngine, settings: Settings) -> None:
    """The in-service job: deliver while webhooks are due, else wait a poll interval; cancelled
    at shutdown."""
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as http:
        dispatcher = Dispatcher(engine, settings, http)
        while True:
            try:
                worked = await dispatcher.run_once()
            except Exception:
                log.exception("webhook dispatcher failed; trying again shortly")
                worked = False
            if not worked:
                await asyncio.sleep(settings.webhook_poll_seconds)
