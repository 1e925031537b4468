"""What groups use cases return: frozen snapshots, never ORM objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from community.groups.models import Group, GroupStatus, GroupType, ScopeKind
from community.groups.rules import Phase, months_between, phase_of


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
    status: GroupStatus = GroupStatus.ACTIVE
    chat_id: str | None = None
    warehouse: str | None = None
    steward: str | None = None
    opened_on: date | None = None
    closed_on: date | None = None
    joined_total: int = 0
    quit_total: int = 0

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
            status=GroupStatus(row.status),
            chat_id=row.chat_id,
            warehouse=row.warehouse,
            steward=row.steward,
            opened_on=row.opened_on,
            closed_on=row.closed_on,
            joined_total=row.joined_total,
            quit_total=row.quit_total,
        )

    def months_open(self, as_of: date) -> int | None:
        """Whole months since the group opened in WeCom; None while it is only planned."""
        return None if self.opened_on is None else months_between(self.opened_on, as_of)

    def phase(self, as_of: date) -> Phase | None:
        """The lifecycle phase of a basic group on `as_of`; None for other types and planned groups."""
        months = self.months_open(as_of)
        return None if months is None or self.type is not GroupType.BASIC else phase_of(months)
