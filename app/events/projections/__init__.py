"""Projections: tables derived from the events, updated in the transaction that appends them.

* ``registrations``: one row per registration unit, written from the unit's folded state, plus
  its DV.O / DV.A number; ``registration_status`` is the status without the open application
  (what a bureau that audited the unit before may see, ``app/api/queries/scope.py``). Numbers follow
  the global order of first registrations: the n-th unit ever registered gets serial
  ``base + n - 1``, one counter for both service types. Live, every
  transaction that records a decision takes ``NUMBERING_LOCK`` before it writes, so those
  transactions get their transaction ids, and so their place in the global order, in the order
  they number; a rebuild that replays the events in that order gives every unit its number again.
* ``applications``, ``audits``, ``bureaus``, ``provider_ratings``: written from the events.
* ``projects``: one row per subsidy project, its findings as recorded and its status after
  the provider's check and the agency's decision (``project_changes``).
* ``public_providers``: what the public search shows of an enterprise, each field from the
  event that made it true: the name of the application the latest decision granted, the themes
  of the granted applications (``RegistrationGranted``), and its profile (description, themes,
  locations) once it keeps one (``ProviderProfileUpdated``). An application in progress, or one
  refused, changes nothing public. A database trigger fills the search columns from name and
  description.

Each table's rows have one definition, used live and by a rebuild: ``registration_row`` (a
unit's row from its folded state), ``next_serial`` (its number) and ``changes`` (what an event
changes in the other tables). ``Projector`` writes them statement by statement in the command's
transaction; ``app.events.bulk`` folds them in memory and writes each table at once.

``rows``: a unit's ``registrations`` row, its number and the days it is listed, a profile's row,
and ``Projected`` (an event as it is projected); ``event_tables``: what an event changes in the
tables other than ``registrations`` (``changes``); ``live``: each change as one statement in the
command's transaction (``Projector``).

May import: ``app.domain``, ``app.runtime`` (as ``app.events``).
"""

from app.events.projections.event_tables import Change, Insert, Merge, Update, Upsert, changes
from app.events.projections.live import Projector
from app.events.projections.rows import (
    NUMBERING_LOCK,
    PROJECTION_TABLES,
    Projected,
    listed_days,
    next_serial,
    registration_row,
)

__all__ = [
    "NUMBERING_LOCK",
    "PROJECTION_TABLES",
    "Change",
    "Insert",
    "Merge",
    "Projected",
    "Projector",
    "Update",
    "Upsert",
    "changes",
    "listed_days",
    "next_serial",
    "registration_row",
]
