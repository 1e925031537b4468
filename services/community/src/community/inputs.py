"""Checks of GraphQL arguments before they reach a use case: days in a sane range, short printable text."""

from __future__ import annotations

from datetime import date

from yutang_shared.errors import BadUserInput

EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def day(value: date, what: str = "asOf") -> date:
    """A business day between 2000-01-01 and 2100-12-31 (date arithmetic on the year 9999 overflows)."""
    if not EARLIEST <= value <= LATEST:
        raise BadUserInput(f"{what} must be between {EARLIEST} and {LATEST}")
    return value


def text(value: str | None, limit: int, what: str) -> str | None:
    """Optional text of 1..limit printable characters, trimmed."""
    if value is None:
        return None
    trimmed = value.strip()
    if not 0 < len(trimmed) <= limit or not trimmed.isprintable():
        raise BadUserInput(f"{what} must be 1 to {limit} printable characters")
    return trimmed
