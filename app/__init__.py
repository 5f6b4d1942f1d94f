"""kmop-registry: the system of record for kmo-portefeuille service-provider registrations.

The rooms, from the bottom up (README, "How the code is organised"): ``domain`` (the rules),
``runtime`` (settings, PostgreSQL, serving, logs, metrics), ``events`` (the store and the
projections), ``services`` (the use cases), ``documents``, ``api`` (HTTP), ``web`` (the public
page), ``main`` (the app factory), ``demo`` and ``cli``. Each may import only the rooms below it
(``tests/test_layout.py``).
"""
