"""Realistic providers for the search benchmark, and their histories made by the real deciders.

``provider_history(n, seed, today, context)`` gives the n-th provider: a Flemish/Belgian
company-like name (word lists, some with accents), a Dutch description, 1-3 eligible themes,
1-3 locations with real postal codes spread over the provinces, training, advice or both, and
every command of its story (application, sworn declaration, bureau chosen, audit planned, report
with the norm's indicator scores and verdicts, decision, profile) decided in-process by
``app.domain.decider.decide`` / ``decide_profile`` at instants in the recent past. The result is
the list of appends (stream, expected version, events, metadata, recorded time) a loader writes
with ``EventStore.append``. The n-th provider is the same on every run (seeded per provider),
so a database can be loaded in increments.

Fates: most providers are registered today (full, conditionally or as a starter); some only
applied, some were stopped, some expired. Those are in ``public_providers`` too (the name
is projected from the application) but must not be listed.

Where each part lives: the words (name parts, postal codes, theme phrases, fates) in
``bench/search_words.py``, the provider's profile in ``bench/search_provider.py``, the bureaus
and each provider's history in ``bench/search_history.py``. This module names what the benchmarks
and tests use.
"""

from __future__ import annotations

from bench.search_history import AGENCY, BUREAUS, Append, bureaus, provider_history
from bench.search_provider import make_profile
from bench.search_words import (
    LEGAL_FORM_WORDS,
    LISTED,
    LOCATIONS,
    bank_account,
    enterprise_number,
    plain,
)

__all__ = [
    "AGENCY",
    "BUREAUS",
    "LEGAL_FORM_WORDS",
    "LISTED",
    "LOCATIONS",
    "Append",
    "bank_account",
    "bureaus",
    "enterprise_number",
    "make_profile",
    "plain",
    "provider_history",
]
