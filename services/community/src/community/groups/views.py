"""What groups use cases return: frozen snapshots, never ORM objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from community.groups.models import Group, GroupType, ScopeKind


@dataclass(frozen=True, slots=True)
class GroupView:
    """A group as callers see it."""

    id: uuid.UUID
    name: str
    type: GroupType
    scope_kind: ScopeKind
    scope_name: str
    sequence: int
    capacity: int
    member_count: int
    created_at: datetime

    @classmethod
    def of(cls, row: Group) -> GroupView:
        return cls(
            id=row.id,
            name=row.name,
            type=GroupType(row.type),
            scope_kind=ScopeKind(row.scope_kind),
            scope_name=row.scope_name,
            sequence=row.sequence,
            capacity=row.capacity,
            member_count=row.member_count,
            created_at=row.created_at,
        )
