"""The demo data set, as data (``app.demo.load`` turns it into commands).

The bureaus are the brochure's list (``seeds/000``, "Lijst auditbureau's"), with their address
and contact as printed there (``bureaus``). The providers are made up (names, enterprise
numbers, accounts), placed at real Belgian postal codes across the provinces (``providers``);
each says the path its registration units take through the process (``Path`` in ``stories``)
and how long ago that began.

May import: ``app.domain`` only (plain data, no I/O).
"""
