"""Build the service layer from settings: one place for the API, the CLI and the tests."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from app.events.projections import Projector
from app.runtime.pg import Pool
from app.runtime.settings import Settings
from app.services.clock import Clock
from app.services.registrations import RegistrationService


def make_service(
    engine: AsyncEngine, settings: Settings, clock: Clock | None = None, *, pg: Pool | None = None
) -> RegistrationService:
    """``pg``: the asyncpg pool the commands run on (the app's); by default one on the
    engine's database, closed with the engine."""
    return RegistrationService(
        engine,
        clock=clock,
        projector=Projector(number_base=settings.registration_number_base),
        starter_criteria=settings.starter_criteria(),
        pg=pg,
    )
