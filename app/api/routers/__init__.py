"""The endpoints, one module per audience or resource: ``agency``, ``bureau``, ``provider``,
``public`` (and its ``search``-backed open data, ``opendata``), ``projects``, ``reads`` (what
every audience reads), ``attest``, ``registered_on``, ``feed``, ``webhooks``, ``norm``,
``health`` and ``metrics``. The app factory (``app.main``) mounts them.

May import: everything below HTTP (``app.domain``, ``app.runtime``, ``app.events``,
``app.services``, ``app.documents``) and the rest of ``app.api``.
"""
