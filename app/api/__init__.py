"""HTTP: the REST API for the agency, the audit bureaus, the providers and the public.

``routers/``: the endpoints, one module per audience or resource; ``http/``: the HTTP
mechanics they share (tokens and auth, command routes, idempotency, limits, correlation, the
access log, problem+json, parameters, compression, CORS, methods); ``queries/``: the read side
in SQL, always within the caller's scope; ``schemas``: request bodies and response documents;
``delivery``: webhook delivery of the feed.

May import: ``app.domain``, ``app.runtime``, ``app.events``, ``app.services``,
``app.documents``. Inside: ``routers`` may import the rest of ``app.api``; nothing else imports
``routers`` but the app factory.
"""
