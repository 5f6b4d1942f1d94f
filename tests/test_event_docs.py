"""docs/events.md is generated from the event classes and committed: it must be current."""

from __future__ import annotations

from typing import ClassVar

from app.cli.event_docs import DOCS_PATH, main, render
from app.domain.event import DomainEvent
from app.events.catalog import REGISTRY


def test_committed_event_docs_are_current() -> None:
    assert DOCS_PATH.read_text(encoding="utf-8") == render(), (
        "docs/events.md is stale: run `python -m app.cli.event_docs write` and commit it"
    )
    assert main(["check"]) == 0


def test_every_registered_event_type_is_documented_with_its_schema_version() -> None:
    document = render()
    for name, cls in REGISTRY.classes.items():
        assert f"\n### {name}\n\nSchema version {cls.schema_version}." in document
        for field in cls.model_fields:
            assert f"| `{field}` |" in document, (name, field)


class Renamed(DomainEvent):
    """A person's name changed."""

    event_type: ClassVar[str] = "Renamed"
    schema_version: ClassVar[int] = 3
    first_name: str
    nickname: str | None = None  # what friends say


def test_a_new_class_or_version_changes_the_document() -> None:
    document = render({"Renamed": Renamed})
    assert "| [Renamed](#renamed) | 3 |" in document
    assert "A person's name changed." in document
    assert "| `first_name` | string | yes |  |" in document
    assert "| `nickname` | string or null | no | what friends say |" in document
    assert document != render()
