"""Pure birthday rules: whose birthday a local date is, and the once-a-year key of a grant."""

from __future__ import annotations

import calendar
import uuid
from datetime import date


def birthdays_on(as_of: date) -> tuple[str, ...]:
    """The birthdays ("MM-DD") celebrated on the local date `as_of`: its own month-day, and 02-29 on 02-28 of a
    year that has no 29 February."""
    today = f"{as_of.month:02d}-{as_of.day:02d}"
    if (as_of.month, as_of.day) == (2, 28) and not calendar.isleap(as_of.year):
        return (today, "02-29")
    return (today,)


def grant_key(member_id: uuid.UUID, as_of: date) -> str:
    """The ledger idempotency key of a member's birthday points: one grant per member and year."""
    return f"birthday:{member_id}:{as_of.year}"
