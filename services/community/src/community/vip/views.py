"""What VIP use cases return: frozen snapshots."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What one batch of a lifecycle flow did; `next_after` is the member id to continue after (None: done)."""

    scanned: int
    created: int
    unchanged: int
    skipped: int
    next_after: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Application:
    """A VIP application that led to an invitation."""

    application_id: uuid.UUID
    task_id: uuid.UUID
    target_group_id: uuid.UUID
