"""HTTP mechanics every router shares: bearer tokens and who is calling (``tokens``, ``auth``),
the command routes' way through FastAPI (``commands``, ``fastpath``, ``replies``),
``Idempotency-Key``, request limits, the correlation id, the access log, RFC 9457 problems,
shared parameters and dependencies, gzip, CORS and HTTP methods.

May import: ``app.domain``, ``app.runtime``, ``app.events``, ``app.services``,
``app.api.schemas`` and ``app.api.queries``; never ``app.api.routers``.
"""
