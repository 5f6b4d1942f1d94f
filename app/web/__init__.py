"""The public web page: the public search module for people, server-rendered in Dutch
(``pages``), and the public check of a registration on a day (``check``).

May import: ``app.domain``, ``app.runtime``, ``app.events``, ``app.services``, ``app.documents``
and ``app.api`` (the same SQL and validators as the public API).
"""
