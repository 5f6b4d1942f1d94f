from typing import ClassVar

import pytest

from app.domain.event import DomainEvent
from app.events import EventRegistry, UnknownEventType
from app.events.errors import DuplicateRegistration
from tests.events import Noted, Renamed, make_registry


def test_serialize_gives_type_version_and_json() -> None:
    registry = make_registry()
    assert registry.serialize(Renamed(first_name="Ann", last_name="Peeters")) == (
        "Renamed",
        2,
        {"first_name": "Ann", "last_name": "Peeters"},
    )


def test_deserialize_current_version_round_trips() -> None:
    registry = make_registry()
    event = Noted(text="hello", writer=3)
    event_type, version, data = registry.serialize(event)
    assert registry.deserialize(event_type, version, data) == event


def test_old_version_is_upcast_to_the_current_class() -> None:
    event = make_registry().deserialize("Renamed", 1, {"name": "Ann Peeters"})
    assert event == Renamed(first_name="Ann", last_name="Peeters")


def test_unknown_type_and_future_version_are_refused() -> None:
    registry = make_registry()
    with pytest.raises(UnknownEventType):
        registry.deserialize("Vanished", 1, {})
    with pytest.raises(UnknownEventType):
        registry.deserialize("Renamed", 3, {"first_name": "a", "last_name": "b"})


def test_missing_upcaster_step_is_refused() -> None:
    registry = EventRegistry([Renamed])  # no upcaster from v1
    with pytest.raises(UnknownEventType):
        registry.deserialize("Renamed", 1, {"name": "Ann Peeters"})


def test_unregistered_class_cannot_be_serialized() -> None:
    with pytest.raises(UnknownEventType):
        EventRegistry().serialize(Noted(text="x"))


def test_two_classes_cannot_share_a_type_name() -> None:
    class OtherNoted(DomainEvent):
        event_type: ClassVar[str] = "Noted"

    with pytest.raises(DuplicateRegistration):
        EventRegistry([Noted, OtherNoted])


def test_stored_events_in_the_old_words_read_in_snake_case() -> None:
    from app.domain.events import AuditBureauChosen, AuditReportSubmitted, AuditResult
    from app.domain.norm import AuditType
    from app.events.catalog import REGISTRY

    chosen = REGISTRY.deserialize(
        "AuditBureauChosen",
        1,
        {
            "audit_id": "a",
            "bureau_id": "b",
            "audit_type": "starter-follow-up",
            "chosen_on": "2026-01-05",
        },
    )
    assert isinstance(chosen, AuditBureauChosen)
    assert chosen.audit_type is AuditType.STARTER_FOLLOW_UP
    report = REGISTRY.deserialize(
        "AuditReportSubmitted",
        1,
        {
            "audit_id": "a",
            "report_id": "r",
            "bureau_id": "b",
            "audit_type": "conditional-follow-up",
            "norm_version": "2019",
            "visit_date": "2026-01-15",
            "scores": [],
            "verdicts": [],
            "result": "conditionally-passed",
            "submitted_on": "2026-01-16",
        },
    )
    assert isinstance(report, AuditReportSubmitted)
    assert report.result is AuditResult.CONDITIONALLY_PASSED
    assert report.audit_type is AuditType.CONDITIONAL_FOLLOW_UP
