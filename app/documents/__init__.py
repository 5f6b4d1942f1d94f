"""Documents the service hands out (the attest as a PDF), rendered from the domain's state, and
the Dutch dates they print (``dutch``).

May import: ``app.domain``, ``app.runtime``.
"""
