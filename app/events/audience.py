"""Who may see which event, in one place: a table from event type to the rule that says which
bureau and which provider see it (the agency sees every event), and the SQL condition that the
feed, its stream and the webhooks apply at the source, so a reader is never handed an event it
may not see. An event type without an entry is the agency's alone.

The rules follow what each role may read over the API (``app.api.queries.scope``):

* a **provider** sees the events of its own registration units (applications, audits, reports,
  decisions, deadlines) and of its own public profile;
* a **bureau** sees the process events of the audits assigned to it (chosen, planned, reported,
  reacted to: each names its audit, and the audit's ``AuditBureauChosen`` names the bureau) and,
  of a unit it audits or audited, the events that make its registration's status (granted,
  refused, follow-up, expired, stopped) recorded after it was first chosen there -- never the
  audit of the bureau that came after it, nor the application (its bank account);
* every role sees the appointments of audit bureaus (``GET /bureaus`` is open to every role);
* ratings are the agency's (``GET /ratings/{reference}`` is the agency's alone).

Each rule reads only the event itself and the events before it in its own stream, which are
immutable and committed before it: whether an event is visible never changes, so a follower's
cursor can move past an invisible one for good. No projection is read (a rebuild empties them).

To add an event type: one line in ``SEEN_BY``. A subsidy project's events, when the first one
names the provider's enterprise (``ProjectFiled.provider_enterprise_number``) and the others do
not: ``"ProjectApproved": Seen(provider=opened_for("provider_enterprise_number"))``; an event
that names it itself: ``Seen(provider=payload("provider_enterprise_number"))``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.domain.roles import Role


@dataclass(frozen=True, slots=True)
class Audience:
    """A reader of events: its role and the bureau or enterprise it is bound to."""

    role: Role
    bureau_id: str | None = None
    enterprise_number: str | None = None

    def __post_init__(self) -> None:
        if self.role is Role.BUREAU and not self.bureau_id:
            raise ValueError("a bureau audience names its bureau")
        if self.role is Role.PROVIDER and not self.enterprise_number:
            raise ValueError("a provider audience names its enterprise")


AGENCY = Audience(Role.AGENCY)


@dataclass(frozen=True, slots=True)
class Rule:
    """An SQL condition on the event ``e`` (columns of ``events``) with the parameters
    ``:audience_bureau`` / ``:audience_enterprise``, and its words for ``docs/events.md``."""

    sql: str
    words: str


def payload(field: str) -> Rule:
    """The provider whose enterprise number is the event's field ``field``."""
    return Rule(f"e.data->>'{field}' = :audience_enterprise", f"the provider named in `{field}`")


def opened_for(field: str) -> Rule:
    """The provider whose enterprise number the first event of the stream carries in ``field``:
    for streams whose later events do not repeat it (a project: filed naming its provider, then
    confirmed, approved, reclaimed). One probe of the (stream_id, version) key per event."""
    return Rule(
        "EXISTS (SELECT 1 FROM events f WHERE f.stream_id = e.stream_id AND f.version = 1"
        f" AND f.data->>'{field}' = :audience_enterprise)",
        f"the provider named in `{field}` when the stream began",
    )


OWN_UNIT = Rule(
    "e.stream_type = 'registration-unit'"
    " AND split_part(e.stream_id, ':', 2) = :audience_enterprise",
    "the provider whose unit it is",
)
OWN_PROFILE = Rule("e.stream_id = 'provider:' || :audience_enterprise", "the provider itself")
ITS_AUDIT = Rule(
    "EXISTS (SELECT 1 FROM events c WHERE c.stream_id = e.stream_id"
    " AND c.event_type = 'AuditBureauChosen' AND c.version <= e.version"
    " AND c.data->>'audit_id' = e.data->>'audit_id'"
    " AND c.data->>'bureau_id' = :audience_bureau)",
    "the bureau the audit is assigned to",
)
AUDITED_UNIT = Rule(
    "EXISTS (SELECT 1 FROM events c WHERE c.stream_id = e.stream_id"
    " AND c.event_type = 'AuditBureauChosen' AND c.version < e.version"
    " AND c.data->>'bureau_id' = :audience_bureau)",
    "every bureau chosen for the unit before it",
)
EVERY = Rule("true", "everyone")


@dataclass(frozen=True, slots=True)
class Seen:
    """Who sees an event type besides the agency: a bureau and a provider rule (or nobody)."""

    bureau: Rule | None = None
    provider: Rule | None = None


# fmt: off
SEEN_BY: dict[str, Seen] = {
    # registration-unit: the provider's own; a bureau its audits and the registration it audited
    "ApplicationSubmitted":            Seen(provider=OWN_UNIT),
    "SwornDeclarationReceived":        Seen(provider=OWN_UNIT),
    "AuditBureauChosen":               Seen(bureau=ITS_AUDIT, provider=OWN_UNIT),
    "AuditPlanned":                    Seen(bureau=ITS_AUDIT, provider=OWN_UNIT),
    "AuditReportSubmitted":            Seen(bureau=ITS_AUDIT, provider=OWN_UNIT),
    "FailedAuditReactedTo":            Seen(bureau=ITS_AUDIT, provider=OWN_UNIT),
    "ApplicationRefusedForNoReaction": Seen(bureau=AUDITED_UNIT, provider=OWN_UNIT),
    "RegistrationGranted":             Seen(bureau=AUDITED_UNIT, provider=OWN_UNIT),
    "ApplicationRefused":              Seen(bureau=AUDITED_UNIT, provider=OWN_UNIT),
    "FollowUpPassed":                  Seen(bureau=AUDITED_UNIT, provider=OWN_UNIT),
    "FollowUpFailed":                  Seen(bureau=AUDITED_UNIT, provider=OWN_UNIT),
    "FollowUpMissed":                  Seen(bureau=AUDITED_UNIT, provider=OWN_UNIT),
    "RegistrationExpired":             Seen(bureau=AUDITED_UNIT, provider=OWN_UNIT),
    "RegistrationStopped":             Seen(bureau=AUDITED_UNIT, provider=OWN_UNIT),
    # audit-bureau: public to every role, as GET /bureaus is
    "AuditBureauAppointed":            Seen(bureau=EVERY, provider=EVERY),
    "AuditBureauAppointmentEnded":     Seen(bureau=EVERY, provider=EVERY),
    # rating: the agency's alone
    "RatingRecorded":                  Seen(),
    # provider: the provider's own profile
    "ProviderProfileUpdated":          Seen(provider=OWN_PROFILE),
    # A subsidy project: the provider whose registration it names checks it. The agency's stop
    # and reclaim carry the agency's reason, which a provider's read of the project does not
    # show either: the provider follows those by the project's status (GET /projects/{id}).
    "ProjectRecorded":                 Seen(provider=payload("provider_enterprise_number")),
    "ProjectConfirmed":                Seen(provider=opened_for("provider_enterprise_number")),
    "ProjectDisputed":                 Seen(provider=opened_for("provider_enterprise_number")),
    "ProjectApproved":                 Seen(provider=opened_for("provider_enterprise_number")),
    "ProjectStopped":                  Seen(),
    "ProjectReclaimed":                Seen(),
}
# fmt: on


def _rule(seen: Seen, role: Role) -> Rule | None:
    return seen.bureau if role is Role.BUREAU else seen.provider


def condition(audience: Audience, table: dict[str, Seen] | None = None) -> str:
    """The SQL condition on ``e`` that lets through exactly the events ``audience`` may see:
    the event types grouped by their rule, ``(e.event_type IN (...) AND rule) OR ...``."""
    if audience.role is Role.AGENCY:
        return "true"
    groups: dict[str, list[str]] = {}
    for event_type, seen in (SEEN_BY if table is None else table).items():
        rule = _rule(seen, audience.role)
        if rule is not None:
            groups.setdefault(rule.sql, []).append(event_type)
    parts = [f"(e.event_type IN ({_quoted(types)}) AND ({sql}))" for sql, types in groups.items()]
    return f"({' OR '.join(parts)})" if parts else "false"


def params(audience: Audience) -> dict[str, Any]:
    return {
        "audience_bureau": audience.bureau_id,
        "audience_enterprise": audience.enterprise_number,
    }


def _quoted(names: Iterable[str]) -> str:
    for name in names:
        if not name.isidentifier():  # event types are class names: never quoting trouble
            raise ValueError(f"not an event type: {name!r}")
    return ", ".join(f"'{name}'" for name in names)


def described(event_type: str) -> str:
    """Who sees ``event_type``, in words, for ``docs/events.md``."""
    seen = SEEN_BY.get(event_type, Seen())
    who = ["the agency"]
    if seen.bureau is not None:
        who.append("every bureau" if seen.bureau is EVERY else seen.bureau.words)
    if seen.provider is not None:
        who.append("every provider" if seen.provider is EVERY else seen.provider.words)
    return "; ".join(who)
