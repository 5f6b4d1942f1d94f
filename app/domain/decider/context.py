"""What a decision needs beyond the unit's own events: the appointed audit bureaus (their own
streams) and the settings (starter criteria, hourly rates)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from app.domain.bureaus import BureauState
from app.domain.policies import HOURLY_RATES, HourlyRate, StarterCriteria


@dataclass(frozen=True, slots=True)
class Context:
    bureaus: Mapping[str, BureauState] = field(default_factory=dict)
    starter_criteria: StarterCriteria = field(default_factory=StarterCriteria)
    hourly_rates: tuple[HourlyRate, ...] = HOURLY_RATES

    def appointed(self, bureau_id: str, day: date) -> bool:
        bureau = self.bureaus.get(bureau_id)
        return bureau is not None and bureau.appointed_on(day)

    def is_appointed_bureau(self, enterprise_number: str, day: date) -> bool:
        return any(
            b.enterprise_number == enterprise_number and b.appointed_on(day)
            for b in self.bureaus.values()
        )
