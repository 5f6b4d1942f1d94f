"""An audit bureau's events: its appointment and its end."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from app.domain.event import DomainEvent


class AuditBureauAppointed(DomainEvent):
    event_type: ClassVar[str] = "AuditBureauAppointed"
    bureau_id: str
    name: str
    enterprise_number: str
    appointed_from: date
    appointed_until: date | None = None
    contact: str | None = None


class AuditBureauAppointmentEnded(DomainEvent):
    event_type: ClassVar[str] = "AuditBureauAppointmentEnded"
    bureau_id: str
    last_day: date
