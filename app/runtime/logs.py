"""Logs: one renderer for every record, ours and the libraries' (uvicorn, SQLAlchemy, …).

The app logs with the standard ``logging`` module; structlog renders each record: a JSON object
per line when stderr is not a terminal (containers, systemd, files), a readable console line
when it is. Every line carries ``timestamp``, ``level``, ``logger`` and ``event``; lines written
while a request runs also carry its ``request_id`` (``X-Request-ID``).

What must never reach a log: tokens, ``Authorization`` headers, request bodies, IBANs and other
personal data. The access log (``app.api.http.access``) writes chosen fields only; as a second line
of defence, every string is scrubbed of bearer tokens, JWTs and valid IBANs before rendering.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar
from typing import TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

# The correlation id of the request being served (set by ``app.api.http.correlation``): every log
# record and every event the request causes carries it.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str:
    return request_id.get() or str(uuid.uuid4())


# The fields a record may carry beyond the message (``extra=``); anything else is dropped, so no
# library can slip a value into the output by accident.
FIELDS = ("method", "path", "status", "duration_ms", "client_id")

_OURS = "_kmop_handler"
_JWT = re.compile(r"\beyJ[\w-]*\.[\w-]+\.[\w-]*")
_BEARER = re.compile(r"\b(bearer)\s+[^\s\"',;]+", re.IGNORECASE)
# Not inside a hyphenated or underscored token: a UUID's last group ("…-ee834c80d96c") has an
# IBAN's shape and passes the mod-97 check once in 97 UUIDs.
_IBAN = re.compile(
    r"(?<![\w-])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?P<tail> ?[A-Z0-9]{1,3})?(?![\w-])", re.I
)


def _valid_iban(text: str) -> bool:
    """ISO 13616 mod-97 check: a random string of this shape passes once in 97 tries."""
    compact = text.replace(" ", "").upper()
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _mask_iban(match: re.Match[str]) -> str:
    text = match.group()
    if _valid_iban(text):
        return "[iban]"
    tail = match.group("tail")
    if tail and _valid_iban(text[: -len(tail)]):  # an IBAN followed by a short word
        return "[iban]" + tail
    return text


# What each of the three patterns needs to match at all: "eyJ", "bearer" in any case, or two
# letters and two digits. Most strings of a line (the method, the route, the logger's name, the
# time) have none, and one search is cheaper than the three substitutions.
_MAYBE = re.compile(r"eyJ|(?i:bearer|[a-z]{2}\d{2})")


def scrub(text: str) -> str:
    if _MAYBE.search(text) is None:
        return text
    text = _JWT.sub("[token]", text)
    text = _BEARER.sub(r"\1 [redacted]", text)
    return _IBAN.sub(_mask_iban, text)


def _scrub(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = scrub(value)
    return event


def _add_request_id(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    rid = request_id.get()
    if rid is not None:
        event.setdefault("request_id", rid)
    return event


_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.ExtraAdder(allow=FIELDS),
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    _add_request_id,
]


def configure_logging(
    *, json: bool | None = None, stream: TextIO | None = None, level: int = logging.INFO
) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) through structlog; returns the handler.

    ``json`` defaults to "the stream is not a terminal". Calling it again replaces the handler
    it installed before (and leaves other handlers, such as pytest's, alone)."""
    stream = stream or sys.stderr
    if json is None:
        json = not stream.isatty()
    renderer: Processor
    if json:
        renderer = structlog.processors.JSONRenderer()
        tracebacks: list[Processor] = [structlog.processors.format_exc_info]
    else:
        # Plain tracebacks: the default (rich) one shows local variables, tokens among them.
        renderer = structlog.dev.ConsoleRenderer(
            colors=stream.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
        tracebacks = []
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *tracebacks,
                _scrub,
                renderer,
            ],
        )
    )
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return handler


def remove_logging(handler: logging.Handler) -> None:
    """Undo ``configure_logging`` (tests)."""
    logging.getLogger().removeHandler(handler)
    structlog.reset_defaults()
