"""``RegistrationService``: the commands of registration units, bureaus, ratings, profiles and
projects, and the queries about units."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import partial

from sqlalchemy import text

from app.domain.bureaus import BureauCommand, BureauState, decide_bureau, evolve_bureau
from app.domain.decider import Command, Context, RecordDecision, SubmitApplication, decide
from app.domain.event import DomainEvent
from app.domain.policies import end_of_day
from app.domain.profiles import ProfileState, UpdateProfile, decide_profile, evolve_profile
from app.domain.projects import (
    Holder,
    ProjectCommand,
    ProjectState,
    RecordProject,
    decide_project,
    evolve_project,
)
from app.domain.ratings import RatedProject, RatingState, RecordRating, decide_rating, evolve_rating
from app.domain.registration import UnitState, evolve
from app.events import EventMetadata, EventStore
from app.events.catalog import (
    BUREAU_STREAM,
    PROJECT_STREAM,
    PROVIDER_STREAM,
    RATING_STREAM,
    UNIT_STREAM,
    bureau_stream_id,
    project_stream_id,
    provider_stream_id,
    rating_stream_id,
    unit_stream_id,
)
from app.runtime.pg import Statement
from app.services.registrations.outcomes import (
    Finish,
    Located,
    Outcome,
    UnknownResource,
    _Fact,
    _Stream,
    _without_context,
)
from app.services.registrations.reads import (
    _HOLDER_AS_OF,
    _RATED_PROJECT,
    _identifier_check,
    rating_lock,
)
from app.services.registrations.running import CommandRunner


class RegistrationService(CommandRunner):
    # --- commands -------------------------------------------------------------------------

    async def execute(
        self,
        unit_key: str,
        command: Command,
        metadata: EventMetadata | None = None,
        *,
        expected_version: int | None = None,
        now: datetime | None = None,
        finish: Finish | None = None,
    ) -> Outcome[UnitState]:
        if isinstance(command, SubmitApplication) and command.unit.key != unit_key:
            raise ValueError("the command's unit is not the stream's unit")
        stream = _Stream(unit_stream_id(unit_key), UNIT_STREAM, UnitState(), evolve, unit_key)
        return await self._run(
            stream,
            partial(decide, command),
            metadata,
            expected_version=expected_version,
            now=now,
            numbering=isinstance(command, RecordDecision),
            finish=finish,
            context=True,
            identifier=_identifier_check(command),
        )

    async def execute_located(
        self,
        located: Located,
        command: Command,
        metadata: EventMetadata | None = None,
        *,
        expected_version: int | None = None,
        finish: Finish | None = None,
    ) -> Outcome[UnitState]:
        """``execute`` on the unit ``located`` finds in the command's one read (no lookup of
        its own before the command)."""
        if isinstance(command, SubmitApplication):
            raise ValueError("a new application names its unit: execute it on the unit")
        stream = _Stream("", UNIT_STREAM, UnitState(), evolve, "")
        return await self._run(
            stream,
            partial(decide, command),
            metadata,
            expected_version=expected_version,
            numbering=isinstance(command, RecordDecision),
            finish=finish,
            context=True,
            identifier=_identifier_check(command),
            located=located,
        )

    async def execute_bureau(
        self,
        command: BureauCommand,
        metadata: EventMetadata | None = None,
        *,
        expected_version: int | None = None,
        finish: Finish | None = None,
    ) -> Outcome[BureauState]:
        stream = _Stream(
            bureau_stream_id(command.bureau_id), BUREAU_STREAM, BureauState(), evolve_bureau
        )
        return await self._run(
            stream,
            _without_context(partial(decide_bureau, command)),
            metadata,
            expected_version=expected_version,
            finish=finish,
        )

    async def record_rating(
        self,
        command: RecordRating,
        metadata: EventMetadata | None = None,
        *,
        finish: Finish | None = None,
    ) -> Outcome[RatingState]:
        """A client's rating of the provider of one of its projects. The project (as the
        projections hold it) and its provider's first registration are read with the rating's
        stream; ratings of one project take a lock on it first, so that of two at once the
        second sees the first and is refused (once per project)."""
        stream = _Stream(
            rating_stream_id(command.reference), RATING_STREAM, RatingState(), evolve_rating
        )
        project = _Fact(Statement(_RATED_PROJECT, (command.project_id,)))

        def decide_with_project(
            state: RatingState, at: datetime, context: Context
        ) -> Sequence[DomainEvent]:
            found = None
            if project.value is not None:
                client, provider, number, end, status, rated_by, first = project.value
                found = RatedProject(
                    client_enterprise_number=client,
                    provider_enterprise_number=provider,
                    registration_number=number,
                    end_date=date.fromisoformat(end),
                    status=status,
                    rated_by=rated_by,
                    first_registered_on=date.fromisoformat(first) if first else None,
                )
            return decide_rating(command, state, at, found)

        return await self._run(
            stream,
            decide_with_project,
            metadata,
            finish=finish,
            fact=project,
            lock=rating_lock(command.project_id),
        )

    async def update_profile(
        self,
        command: UpdateProfile,
        metadata: EventMetadata | None = None,
        *,
        expected_version: int | None = None,
        finish: Finish | None = None,
    ) -> Outcome[ProfileState]:
        stream = _Stream(
            provider_stream_id(str(command.enterprise)),
            PROVIDER_STREAM,
            ProfileState(),
            evolve_profile,
        )
        return await self._run(
            stream,
            _without_context(partial(decide_profile, command)),
            metadata,
            expected_version=expected_version,
            finish=finish,
        )

    async def execute_project(
        self,
        project_id: str,
        command: ProjectCommand,
        metadata: EventMetadata | None = None,
        *,
        expected_version: int | None = None,
        finish: Finish | None = None,
        located: Located | None = None,
    ) -> Outcome[ProjectState]:
        """A command on a subsidy project. Recording one reads, with the project's stream, the
        unit that holds its registration number as of the end of the start date: the findings
        judge the registration as it stood then (``app/domain/projects.py``). The others may
        name the project's row as the caller may see it (``located``, any JSON array): read
        with the stream, none is ``UnknownResource(located.missing)`` before anything else;
        ``located.value`` is then the row as it was before the command (for its reply)."""
        if isinstance(command, RecordProject) and command.project_id != project_id:
            raise ValueError("the command's project is not the stream's project")
        if isinstance(command, RecordProject) and located is not None:
            raise ValueError("a project being recorded has no row to find yet")
        stream = _Stream(
            project_stream_id(project_id), PROJECT_STREAM, ProjectState(), evolve_project
        )
        fact: _Fact | None = None
        if isinstance(command, RecordProject):
            as_of = end_of_day(command.start_date)
            fact = _Fact(Statement(_HOLDER_AS_OF, (str(command.registration_number), as_of)))
        elif located is not None:
            fact = _Fact(located.row, missing=located.missing)

        def decide_with_holder(
            state: ProjectState, at: datetime, context: Context
        ) -> Sequence[DomainEvent]:
            if located is not None:
                located.value = fact.value if fact is not None else None
                return decide_project(command, state, at)
            return decide_project(command, state, at, self._holder(fact))

        return await self._run(
            stream,
            decide_with_holder,
            metadata,
            expected_version=expected_version,
            finish=finish,
            fact=fact,
        )

    def _holder(self, fact: _Fact | None) -> Holder | None:
        if fact is None or fact.value is None:
            return None
        enterprise_number, recorded = fact.value
        state = UnitState()
        for event_type, schema_version, data in recorded or []:
            state = evolve(state, self.registry.deserialize(event_type, schema_version, data))
        return Holder(enterprise_number, state)

    # --- queries --------------------------------------------------------------------------

    async def unit_state(
        self, unit_key: str, *, as_of: datetime | None = None
    ) -> tuple[UnitState, int]:
        """The unit's state, now or as of a past instant: the fold of the events recorded
        up to then. Returns the state and the stream version it reflects."""
        async with self.engine.connect() as conn:
            recorded = await EventStore(conn, self.registry).read_stream(
                unit_stream_id(unit_key), as_of=as_of
            )
        state = UnitState()
        for item in recorded:
            state = evolve(state, item.event)
        return state, len(recorded)

    async def unit_key_of_application(self, application_id: str) -> str:
        return await self._lookup(
            "SELECT unit_key FROM applications WHERE application_id = :id", application_id
        )

    async def unit_key_of_audit(self, audit_id: str) -> str:
        return await self._lookup("SELECT unit_key FROM audits WHERE audit_id = :id", audit_id)

    async def _lookup(self, sql: str, key: str) -> str:
        async with self.engine.connect() as conn:
            found = await conn.scalar(text(sql), {"id": key})
        if found is None:
            raise UnknownResource(f"{key!r} does not exist")
        return str(found)
