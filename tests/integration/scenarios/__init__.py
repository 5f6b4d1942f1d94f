"""A realistic history of the registration process, driven through the service layer.

``build_plan(seed, size)`` writes the story of ``size`` registration units over six years
(2020-01-06 to 2026-01-05): every path of the lifecycle, each unit's steps on strictly later
days, all of them on one timeline with a few audit bureaus, ratings, and the deadline job every
30 days. Steps of one day run in a random (seeded) order; the deadline job runs first, at night.
``Driver(service, clock).run(plan)`` sets the clock to each step's instant and runs it through
``RegistrationService`` (and ``run_deadlines``), and records what the test needs to check.

Each unit's plan also says the status it must end in (after the last deadline run on the last
day), so the history checks the rules as well as feeding the rebuild.

``timeline``: the six years, the deadline job's days, the bureaus, the kinds of step; ``units``:
the kinds of story and their mix; ``story``: one unit's steps (``Story``); ``paths``: every path
of the lifecycle as a story; ``plan``: ``build_plan``; ``driver``: ``Driver`` and ``History``.
The names the tests use are importable from here.

May import: ``app.domain``, ``app.events``, ``app.services`` (it drives the service layer).
"""

from tests.integration.scenarios.driver import Driver, History
from tests.integration.scenarios.plan import Plan, build_plan
from tests.integration.scenarios.timeline import (
    BUREAUS,
    END,
    ENDED_BUREAU,
    LAST_DAY_2019_APPOINTMENTS,
    enterprise_number,
)
from tests.integration.scenarios.units import Kind

__all__ = [
    "BUREAUS",
    "END",
    "ENDED_BUREAU",
    "LAST_DAY_2019_APPOINTMENTS",
    "Driver",
    "History",
    "Kind",
    "Plan",
    "build_plan",
    "enterprise_number",
]
