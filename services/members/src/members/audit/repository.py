"""The only SQL of the audit log: append rows, and read them newest first with filters."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, insert, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from members.audit.models import AuditEntry


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What to look for in the audit log; every given condition must hold."""

    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        pairs: list[tuple[Any, Any]] = [
            (self.actor, col(AuditEntry.actor)),
            (self.action, col(AuditEntry.action)),
            (self.target_type, col(AuditEntry.target_type)),
            (self.target_id, col(AuditEntry.target_id)),
        ]
        found: list[ColumnElement[bool]] = [column == value for value, column in pairs if value is not None]
        if self.since is not None:
            found.append(col(AuditEntry.at) >= self.since)
        if self.until is not None:
            found.append(col(AuditEntry.at) < self.until)
        return found


class AuditRepository:
    """Appends to and reads the audit log; it has no update or delete (and the table's trigger refuses both)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append(self, rows: Sequence[dict[str, Any]]) -> None:
        """Add entries in one INSERT."""
        if rows:
            await self.session.execute(insert(AuditEntry), list(rows))

    async def page(
        self, where: AuditFilter, *, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[AuditEntry]:
        """Up to `limit` entries newest first, before the (at, id) position."""
        key = tuple_(col(AuditEntry.at), col(AuditEntry.id))
        statement = (
            select(AuditEntry)
            .where(*where.conditions())
            .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
            .limit(limit)
        )
        if before is not None:
            statement = statement.where(key < tuple_(literal(before[0]), literal(before[1])))
        return list((await self.session.execute(statement)).scalars())

    async def count(self, where: AuditFilter) -> int:
        """How many entries match."""
        statement = select(func.count()).select_from(AuditEntry).where(*where.conditions())
        return int((await self.session.execute(statement)).scalar_one())
