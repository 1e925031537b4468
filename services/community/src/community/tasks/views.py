"""What task use cases return: frozen snapshots."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from community.tasks.models import OperatorTask, TaskKind, TaskStatus


@dataclass(frozen=True, slots=True)
class TaskView:
    """An operator task as callers see it."""

    id: uuid.UUID
    key: str
    kind: TaskKind
    group_id: uuid.UUID
    member_id: uuid.UUID | None
    target_group_id: uuid.UUID | None
    assignee: str | None
    as_of: date
    due_on: date
    message: str
    status: TaskStatus
    outcome: str | None
    closed_by: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: OperatorTask) -> TaskView:
        return cls(
            id=row.id,
            key=row.key,
            kind=TaskKind(row.kind),
            group_id=row.group_id,
            member_id=row.member_id,
            target_group_id=row.target_group_id,
            assignee=row.assignee,
            as_of=row.as_of,
            due_on=row.due_on,
            message=row.message,
            status=TaskStatus(row.status),
            outcome=row.outcome,
            closed_by=row.closed_by,
            created_at=row.created_at,
        )
