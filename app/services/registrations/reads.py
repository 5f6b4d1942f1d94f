"""The SQL of a command's one read statement: its stream, the bureaus' heads, whether a new id is
in use, a rating's project, a registration number's holder."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from app.domain.decider import ChooseAuditBureau, Command, SubmitApplication
from app.events.catalog import bureau_stream_id
from app.runtime.pg import Statement, together

# The project a rating names and its provider's first registration, over all its units (a
# granted registration stays first registered once it stops or expires): the rating rules ask
# whether it precedes the rating.
_RATED_PROJECT = (
    "SELECT json_build_array(p.client_enterprise_number, p.provider_enterprise_number,"
    " p.registration_number, p.end_date, p.status, p.rating_reference,"
    " (SELECT min(r.first_registered_on) FROM registrations r"
    " WHERE r.enterprise_number = p.provider_enterprise_number))"
    " FROM projects p WHERE p.project_id = $1"
)


def rating_lock(project_id: str) -> int:
    """The advisory lock key the ratings of one project take (a signed 64-bit integer)."""
    digest = hashlib.sha256(f"rating of project {project_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# The unit that holds a registration number, for a project's findings: its enterprise and its
# events recorded up to an instant (the end of the start date; as ``EventStore.read_stream``'s
# as-of: the stream's prefix before its first event recorded later).
_HOLDER_AS_OF = (
    "SELECT json_build_array(r.enterprise_number, (SELECT json_agg(json_build_array("
    "e.event_type, e.schema_version, e.data) ORDER BY e.version) FROM events e"
    " WHERE e.stream_id = 'unit:' || r.unit_key AND e.version < coalesce((SELECT min(x.version)"
    " FROM events x WHERE x.stream_id = 'unit:' || r.unit_key AND x.recorded_at > $2),"
    " 2147483647))) FROM registrations r WHERE r.registration_number = $1"
)

# The reads of a command, each one value in the command's one read statement.
_STREAM_EVENTS_WHERE = (
    "SELECT json_agg(json_build_array(event_type, schema_version, data) ORDER BY version)"
    " FROM events WHERE"
)
_STREAM_EVENTS = f"{_STREAM_EVENTS_WHERE} stream_id = $1"
# Every bureau's stream head: its state kept in the process is current while they agree.
_BUREAU_HEADS = Statement(
    "SELECT json_object_agg(b.bureau_id, json_build_array(h.version, encode(h.hash, 'hex')))"
    " FROM bureaus b CROSS JOIN LATERAL (SELECT version, hash FROM events"
    " WHERE stream_id = $1 || b.bureau_id ORDER BY version DESC LIMIT 1) h",
    (bureau_stream_id(""),),
)
_BUREAU_STREAMS = (
    "SELECT stream_id, json_agg(json_build_array(event_type, schema_version, data)"
    " ORDER BY version) AS events, max(version) AS version,"
    " (array_agg(encode(hash, 'hex') ORDER BY version DESC))[1] AS hash"
    " FROM events WHERE stream_id = ANY($1::text[]) GROUP BY stream_id"
)
_IDENTIFIER_IN_USE = {
    SubmitApplication: (
        "application_id",
        "SELECT EXISTS (SELECT 1 FROM applications WHERE application_id = $1)",
    ),
    ChooseAuditBureau: ("audit_id", "SELECT EXISTS (SELECT 1 FROM audits WHERE audit_id = $1)"),
}


def _identifier_check(command: Command) -> tuple[str, str, Statement] | None:
    """Ids that clients choose name one application or audit across all units."""
    found = _IDENTIFIER_IN_USE.get(type(command))
    if found is None:
        return None
    field, sql = found
    identifier = getattr(command, field)
    return field, identifier, Statement(sql, (identifier,))


def _one_read(reads: Sequence[Statement]) -> Statement:
    sqls, args = together(reads)
    return Statement(_select_each(tuple(sqls)), tuple(args))


@lru_cache(maxsize=64)
def _select_each(sqls: tuple[str, ...]) -> str:
    return "SELECT " + ", ".join(f"({sql})" for sql in sqls)


def _args(read: Statement) -> tuple[Any, ...]:
    return (read.sql, *read.args)
