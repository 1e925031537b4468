"""What tier use cases return: frozen snapshots."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from loyalty.tiers.rules import Facts


@dataclass(frozen=True, slots=True)
class TierView:
    """A member's tier as of a date, with the facts it rests on."""

    member_id: uuid.UUID
    level: str
    since: date | None
    grace_until: date | None
    facts: Facts
    as_of: date


@dataclass(frozen=True, slots=True)
class ChangeView:
    """One tier change."""

    from_level: str
    to_level: str
    direction: str
    reason: str
    changed_on: date


@dataclass(frozen=True, slots=True)
class Reviewed:
    """One review batch: members looked at, what changed, and where the next batch starts (None: done)."""

    as_of: date
    reviewed: int
    upgraded: int
    downgraded: int
    grace_started: int
    next_after: uuid.UUID | None
