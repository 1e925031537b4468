"""The only SQL of the VIP feature: entry exceptions, applications and the review's warnings."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from community.vip.models import EntryException, VipApplication, VipWarning


class VipRepository:
    """Entry exceptions, applications, warnings."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def exceptions(self, member_ids: Sequence[uuid.UUID], group_type: str) -> dict[uuid.UUID, str]:
        """The logged exception reason of each member that has one for this group type."""
        statement = select(col(EntryException.member_id), col(EntryException.reason)).where(
            col(EntryException.member_id).in_(member_ids), col(EntryException.group_type) == group_type
        )
        return dict(list((await self.session.execute(statement)).tuples()))

    async def grant_exception(self, row: EntryException) -> EntryException:
        """Log (or replace) a member's exception for a group type."""
        values = {c: getattr(row, c) for c in ("member_id", "group_type", "reason", "note", "approver")}
        statement = insert(EntryException).values(values)
        upsert = statement.on_conflict_do_update(
            index_elements=["member_id", "group_type"],
            set_={
                "reason": statement.excluded.reason,
                "note": statement.excluded.note,
                "approver": statement.excluded.approver,
            },
        )
        granted: EntryException = (await self.session.execute(upsert.returning(EntryException))).scalar_one()
        return granted

    async def add_application(self, row: VipApplication) -> None:
        self.session.add(row)
        await self.session.flush()

    async def warnings(self, group_id: uuid.UUID, member_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, date]:
        """When each of these members of the VIP group was warned, where they were."""
        statement = select(col(VipWarning.member_id), col(VipWarning.warned_on)).where(
            col(VipWarning.group_id) == group_id, col(VipWarning.member_id).in_(member_ids)
        )
        return dict(list((await self.session.execute(statement)).tuples()))

    async def warn(self, group_id: uuid.UUID, member_id: uuid.UUID, warned_on: date) -> bool:
        """Record the warning once; False when the member was already warned."""
        statement = insert(VipWarning).values(group_id=group_id, member_id=member_id, warned_on=warned_on)
        result = await self.session.execute(statement.on_conflict_do_nothing())
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def clear_warning(self, group_id: uuid.UUID, member_id: uuid.UUID) -> bool:
        statement = delete(VipWarning).where(
            col(VipWarning.group_id) == group_id, col(VipWarning.member_id) == member_id
        )
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]
