"""Dates as a Dutch reader writes them, on the attest and on the web page alike."""

from __future__ import annotations

from datetime import date

MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip


def dutch_date(day: date) -> str:
    """``20 januari 2026``."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
