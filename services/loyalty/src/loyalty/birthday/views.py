"""What birthday use cases return: frozen snapshots."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class BirthdayGrants:
    """One page of birthday grants for a date: members looked at, how many got points now (and how many points),
    how many had them already this year, how many hold a level without birthday points, how many the ledger
    refused (closed between the read and the write), and where the next page starts (None: done)."""

    as_of: date
    members: int
    granted: int
    points: int
    already: int
    no_points: int
    refused: int
    next_after: uuid.UUID | None
