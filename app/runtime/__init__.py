"""Running the service: settings (``KMOP_*``), the embedded PostgreSQL, the engine and migrations
(``db``), the asyncpg pools (``pg``, ``readers``), serving with uvicorn, logs and metrics.

May import: ``app.domain`` only. Everything above (the store, the services, HTTP) imports this.
"""
