"""The roles a caller acts in: the agency, an audit bureau, a provider (the public has none)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENCY = "agency"
    BUREAU = "bureau"
    PROVIDER = "provider"
