"""Live projection: each change as one statement in the command's transaction (``Projector``),
and a unit's ``registrations`` row, its number and its listed days written as it changes."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import TextClause, text

from app.domain.events import RegistrationGranted
from app.domain.identifiers import RegistrationNumber
from app.domain.registration import UnitState
from app.events.projections.event_tables import Change, Insert, Merge, Update, Upsert, changes
from app.events.projections.rows import Projected, in_force_days, next_serial, registration_row
from app.runtime.pg import Executes

# --- live: each change as one statement in the command's transaction ------------------------


_UPSERT_REGISTRATION = text(
    """
    INSERT INTO registrations AS r (
        unit_key, enterprise_number, department, service_type, provider_name, status,
        registration_status, registration_kind, first_registered_on, valid_from, valid_until,
        pending_deadline, deadline_kind, application_id, application_track, current_audit_id,
        current_bureau_id, stream_version, updated_at)
    VALUES (:unit_key, :enterprise_number, :department, :service_type, :provider_name, :status,
        :registration_status, :registration_kind, :first_registered_on, :valid_from,
        :valid_until, :pending_deadline, :deadline_kind, :application_id, :application_track,
        :current_audit_id, :current_bureau_id, :stream_version, :updated_at)
    ON CONFLICT (unit_key) DO UPDATE SET
        provider_name = EXCLUDED.provider_name, status = EXCLUDED.status,
        registration_status = EXCLUDED.registration_status,
        registration_kind = EXCLUDED.registration_kind,
        first_registered_on = EXCLUDED.first_registered_on,
        valid_from = EXCLUDED.valid_from, valid_until = EXCLUDED.valid_until,
        pending_deadline = EXCLUDED.pending_deadline, deadline_kind = EXCLUDED.deadline_kind,
        application_id = EXCLUDED.application_id,
        application_track = EXCLUDED.application_track,
        current_audit_id = EXCLUDED.current_audit_id,
        current_bureau_id = EXCLUDED.current_bureau_id,
        stream_version = EXCLUDED.stream_version, updated_at = EXCLUDED.updated_at
    RETURNING registration_serial
    """
)

_HIGHEST_SERIAL = text("SELECT max(registration_serial) FROM registrations")
_SET_NUMBER = text(
    "UPDATE registrations SET registration_serial = :serial, registration_number = :number"
    " WHERE unit_key = :unit_key"
)


# ``public_providers.listed``: the days on which one of the enterprise's registrations is in
# force (status registered, conditionally or as starter; migration 0015), for the public search
# to compare with the day of the query. Written with every write of a registration, only when
# it changes: from the enterprise's other units as stored and this unit's row as written (a
# command's deferred writes share one snapshot, ``app.services.transaction``, so the
# registration's own write is not yet visible to this one). ``listed_days`` is the same in
# memory, for a rebuild.
_SET_LISTED = text(
    """
    UPDATE public_providers p SET listed = l.listed
    FROM (SELECT coalesce(range_agg(d.days), '{}'::datemultirange) AS listed FROM (
            SELECT daterange(r.valid_from, r.valid_until, '[]') AS days FROM registrations r
            WHERE r.enterprise_number = :enterprise_number AND r.unit_key <> :unit_key
              AND r.status IN ('registered', 'registered_conditionally', 'registered_starter')
              AND r.valid_from IS NOT NULL AND r.valid_until IS NOT NULL
            UNION ALL
            SELECT daterange(CAST(:valid_from AS date), CAST(:valid_until AS date), '[]')
            WHERE CAST(:in_force AS boolean)) d) l
    WHERE p.enterprise_number = :enterprise_number AND p.listed <> l.listed
    """
)


def _listed_params(row: dict[str, Any]) -> dict[str, Any]:
    days = in_force_days(row)
    return {
        "enterprise_number": row["enterprise_number"],
        "unit_key": row["unit_key"],
        "valid_from": days[0] if days else None,
        "valid_until": days[1] if days else None,
        "in_force": days is not None,
    }


# Columns whose values are JSON text (``profile_row``): cast in the SQL, so that a driver that
# encodes jsonb parameters itself (the commands' asyncpg connection, ``app.runtime.pg``) takes the
# text
# as it is rather than as a JSON string, and SQLAlchemy's as before.
_JSON_COLUMNS = frozenset({"locations", "findings"})


def _value(column: str) -> str:
    return f"CAST(:{column} AS jsonb)" if column in _JSON_COLUMNS else f":{column}"


@functools.cache
def _insert_sql(table: str, columns: tuple[str, ...]) -> TextClause:
    return text(
        f"INSERT INTO {table} ({', '.join(columns)})"
        f" VALUES ({', '.join(_value(column) for column in columns)})"
    )


@functools.cache
def _update_sql(
    table: str, column: str, columns: tuple[str, ...], only: tuple[str, ...]
) -> TextClause:
    assignments = ", ".join(f"{name} = {_value(name)}" for name in columns)
    conditions = [f"{column} = :where_", *(f"{name} = ANY(:only_{name})" for name in only)]
    return text(f"UPDATE {table} SET {assignments} WHERE {' AND '.join(conditions)}")


_MERGED = {
    Merge.ADD: "t.{c} + EXCLUDED.{c}",
    Merge.UNION: "ARRAY(SELECT DISTINCT e FROM unnest(t.{c} || EXCLUDED.{c}) e ORDER BY e)",
}


@functools.cache
def _upsert_sql(
    table: str, key: str, columns: tuple[str, ...], merge: tuple[tuple[str, Merge], ...]
) -> TextClause:
    merged = dict(merge)
    assignments = ", ".join(
        f"{name} = "
        + (_MERGED[merged[name]].format(c=name) if name in merged else f"EXCLUDED.{name}")
        for name in columns
        if name != key
    )
    return text(
        f"INSERT INTO {table} AS t ({', '.join(columns)})"
        f" VALUES ({', '.join(_value(column) for column in columns)})"
        f" ON CONFLICT ({key}) DO UPDATE SET {assignments}"
    )


def statement(change: Change) -> tuple[TextClause, dict[str, Any]]:
    """The SQL statement that makes ``change``, and its parameters."""
    match change:
        case Insert(table, row):
            return _insert_sql(table, tuple(row)), row
        case Update(table, column, value, values, only):
            sql = _update_sql(table, column, tuple(values), tuple(name for name, _ in only))
            params = {**values, "where_": value}
            params.update({f"only_{name}": list(allowed) for name, allowed in only})
            return sql, params
        case Upsert(table, key, row, merge):
            return _upsert_sql(table, key, tuple(row), merge), row
    raise AssertionError(change)


class Projector:
    def __init__(self, number_base: int = 1) -> None:
        self.number_base = number_base

    async def apply(
        self, conn: Executes, item: Projected, unit: tuple[str, UnitState] | None
    ) -> None:
        """Project one event; ``unit`` is (unit key, state after the event) for unit streams."""
        await self.event_tables(conn, item, unit)
        if unit is not None:
            await self.registration(conn, unit[0], unit[1], item)

    async def registration(
        self, conn: Executes, unit_key: str, state: UnitState, item: Projected
    ) -> None:
        row = registration_row(unit_key, state, item.version, item.recorded_at)
        # Only a grant registers a unit (``first_registered_on`` is set by nothing else), and
        # the grant that first registered it numbered it: after any other event there is no
        # number to give, and the write can wait with the command's others (deferred, no
        # round trip of its own).
        listed = _listed_params(row)
        if state.first_registered_on is None or not isinstance(item.event, RegistrationGranted):
            if not item.superseded:
                await conn.execute(_UPSERT_REGISTRATION, row)
                await conn.execute(_SET_LISTED, listed)
            return
        serial = await conn.scalar(_UPSERT_REGISTRATION, row)
        await conn.execute(_SET_LISTED, listed)
        if serial is None:
            serial = next_serial(await conn.scalar(_HIGHEST_SERIAL), self.number_base)
            assert state.unit is not None
            number = RegistrationNumber(state.unit.service_type, serial)
            await conn.execute(
                _SET_NUMBER, {"serial": serial, "number": str(number), "unit_key": unit_key}
            )

    async def event_tables(
        self, conn: Executes, item: Projected, unit: tuple[str, UnitState] | None
    ) -> None:
        for change in changes(item, unit):
            await conn.execute(*statement(change))
