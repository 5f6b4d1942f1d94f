"""The read side in SQL: projections turned into response documents, always within the caller's
scope (``scope``): registrations, audits and bureaus (``registrations``), subsidy projects
(``projects``), and the public search (``search``).

May import: ``app.domain``, ``app.runtime``, ``app.events``, ``app.api.schemas``; never
``app.api.routers``.
"""
