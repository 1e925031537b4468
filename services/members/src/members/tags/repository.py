"""The only SQL of the tags feature: the taxonomy, usage counts, members' tags and their history, merges, and the
set-based evaluation of automatic rules (one INSERT … SELECT and one DELETE per rule)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, insert, literal, not_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import String, Uuid
from sqlmodel import col

from members.insights.models import MemberInsight
from members.profile.models import Member, MemberStatus
from members.tags.models import (
    MemberTag,
    Tag,
    TagCategory,
    TaggingJob,
    TaggingJobStatus,
    TagGroup,
    TagHistory,
    TagKind,
    TagStatus,
)


def rule_members(condition: ColumnElement[bool], scope: Sequence[ColumnElement[bool]] = ()) -> Select[Any]:
    return (
        select(col(Member.id))
        .select_from(Member)
        .outerjoin(MemberInsight, col(MemberInsight.member_id) == col(Member.id))
        .where(col(Member.status) != MemberStatus.CLOSED.value, condition, *scope)
    )


class TagRepository:
    """The taxonomy and members' tags."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: TagCategory | TagGroup | Tag) -> None:
        self.session.add(row)
        await self.session.flush()

    async def category(self, category_id: uuid.UUID) -> TagCategory | None:
        return await self.session.get(TagCategory, category_id)

    async def group(self, group_id: uuid.UUID) -> TagGroup | None:
        return await self.session.get(TagGroup, group_id)

    async def tag(self, tag_id: uuid.UUID, *, lock: bool = False) -> Tag | None:
        return await self.session.get(Tag, tag_id, with_for_update=lock)

    async def name_taken(self, model: type[TagCategory | TagGroup | Tag], name: str, parent: uuid.UUID | None) -> bool:
        statement = select(func.count()).select_from(model).where(col(model.name) == name)
        if model is TagGroup:
            statement = statement.where(col(TagGroup.category_id) == parent)
        elif model is Tag:
            statement = statement.where(col(Tag.group_id) == parent)
        return int((await self.session.execute(statement)).scalar_one()) > 0

    async def wecom_count(self) -> int:
        statement = select(func.count()).select_from(Tag).where(col(Tag.wecom), col(Tag.status) == TagStatus.ACTIVE)
        return int((await self.session.execute(statement)).scalar_one())

    async def lock_wecom_budget(self) -> None:
        """Serialises changes of the WeCom projection (two concurrent additions cannot both take the last slot)."""
        await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext('members.tags.wecom'))"))

    async def taxonomy(self) -> tuple[list[TagCategory], list[TagGroup], list[Tag], dict[uuid.UUID, int]]:
        categories = list((await self.session.execute(select(TagCategory).order_by(col(TagCategory.name)))).scalars())
        groups = list((await self.session.execute(select(TagGroup).order_by(col(TagGroup.name)))).scalars())
        tags = list((await self.session.execute(select(Tag).order_by(col(Tag.name)))).scalars())
        usage = select(col(MemberTag.tag_id), func.count()).group_by(col(MemberTag.tag_id))
        counts = {uuid.UUID(str(tag_id)): int(n) for tag_id, n in (await self.session.execute(usage)).all()}
        return categories, groups, tags, counts

    async def member_tags(self, member_ids: Sequence[uuid.UUID]) -> list[tuple[MemberTag, Tag]]:
        statement = (
            select(MemberTag, Tag)
            .join(Tag, col(Tag.id) == col(MemberTag.tag_id))
            .where(col(MemberTag.member_id).in_(member_ids))
            .order_by(col(MemberTag.member_id), col(Tag.name))
        )
        return [(m, t) for m, t in (await self.session.execute(statement)).all()]

    async def apply(self, tag_id: uuid.UUID, members: Select[Any], *, source: str, actor: str) -> int:
        """Tag the members `members` selects (one column: ids) who do not carry it yet; history for each."""
        rows = select(col(Member.id).label("member_id")).where(col(Member.id).in_(members)).subquery()
        added = (
            pg_insert(MemberTag)
            .from_select(
                ["member_id", "tag_id", "source", "applied_by"],
                select(rows.c.member_id, literal(tag_id, Uuid), literal(source, String), literal(actor, String)),
            )
            .on_conflict_do_nothing(index_elements=["member_id", "tag_id"])
            .returning(col(MemberTag.member_id))
            .cte("added")
        )
        history = insert(TagHistory).from_select(
            ["member_id", "tag_id", "action", "actor"],
            select(added.c.member_id, literal(tag_id, Uuid), literal("applied", String), literal(actor, String)),
        )
        result = await self.session.execute(history)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def remove(self, tag_id: uuid.UUID, condition: ColumnElement[bool], *, actor: str) -> int:
        """Untag the members matching `condition` (on member_tags); history for each."""
        removed = (
            delete(MemberTag)
            .where(col(MemberTag.tag_id) == tag_id, condition)
            .returning(col(MemberTag.member_id))
            .cte("removed")
        )
        history = insert(TagHistory).from_select(
            ["member_id", "tag_id", "action", "actor"],
            select(removed.c.member_id, literal(tag_id, Uuid), literal("removed", String), literal(actor, String)),
        )
        result = await self.session.execute(history)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def apply_rule(self, tag_id: uuid.UUID, condition: ColumnElement[bool], actor: str) -> tuple[int, int]:
        """Make the tag's automatic holders exactly the members matching `condition`: (applied, removed)."""
        matching = rule_members(condition, [])
        applied = await self.apply(tag_id, matching, source=TagKind.AUTOMATIC.value, actor=actor)
        stale = and_(col(MemberTag.source) == TagKind.AUTOMATIC.value, not_(col(MemberTag.member_id).in_(matching)))
        removed = await self.remove(tag_id, stale, actor=actor)
        return applied, removed

    async def count_rule(self, condition: ColumnElement[bool]) -> int:
        statement = select(func.count()).select_from(rule_members(condition, []).subquery())
        return int((await self.session.execute(statement)).scalar_one())

    async def merge(self, source: uuid.UUID, target: uuid.UUID, actor: str) -> int:
        """Move every member of `source` to `target` (keeping the earlier application), with history."""
        await self.session.execute(
            text(
                "INSERT INTO members.member_tags (member_id, tag_id, source, applied_by, applied_at) "
                "SELECT member_id, :target, source, applied_by, applied_at FROM members.member_tags "
                "WHERE tag_id = :source ON CONFLICT (member_id, tag_id) DO NOTHING"
            ),
            {"source": source, "target": target},
        )
        moved = await self.session.execute(
            text(
                "WITH moved AS (DELETE FROM members.member_tags WHERE tag_id = :source RETURNING member_id) "
                "INSERT INTO members.tag_history (member_id, tag_id, action, actor) "
                "SELECT member_id, :source, 'merged', :actor FROM moved"
            ),
            {"source": source, "actor": actor},
        )
        await self.session.execute(
            update(Tag)
            .where(col(Tag.id) == source)
            .values(status=TagStatus.MERGED.value, merged_into=target, enabled=False, wecom=False)
        )
        return int(moved.rowcount or 0)  # type: ignore[attr-defined]

    async def enabled_rules(self) -> list[Tag]:
        statement = (
            select(Tag)
            .where(col(Tag.kind) == TagKind.AUTOMATIC, col(Tag.enabled), col(Tag.status) == TagStatus.ACTIVE)
            .order_by(col(Tag.id))
        )
        return list((await self.session.execute(statement)).scalars())

    async def install_defaults(self, category: str, defaults: Sequence[tuple[str, str, dict[str, Any]]]) -> int:
        """The default automatic tags, enabled; those that exist (even retired) are left alone. Rows added."""
        await self.session.execute(
            pg_insert(TagCategory)
            .values(id=uuid.uuid4(), name=category)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        category_id = (
            await self.session.execute(select(col(TagCategory.id)).where(col(TagCategory.name) == category))
        ).scalar_one()
        added = 0
        for group in sorted({g for g, _, _ in defaults}):
            await self.session.execute(
                pg_insert(TagGroup)
                .values(id=uuid.uuid4(), category_id=category_id, name=group)
                .on_conflict_do_nothing(index_elements=["category_id", "name"])
            )
        named = select(col(TagGroup.name), col(TagGroup.id)).where(col(TagGroup.category_id) == category_id)
        groups: dict[str, uuid.UUID] = {str(n): g for n, g in (await self.session.execute(named)).all()}
        rows = [
            {
                "id": uuid.uuid4(),
                "group_id": groups[g],
                "name": n,
                "kind": TagKind.AUTOMATIC.value,
                "rule": r,
                "enabled": True,
            }
            for g, n, r in defaults
        ]
        result = await self.session.execute(
            pg_insert(Tag)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["group_id", "name"])
            .returning(col(Tag.id))
        )
        added += len(result.all())
        return added


class TaggingJobRepository:
    """Jobs tagging an audience: the members they cover a batch at a time, and their progress."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count(self, members: Select[Any]) -> int:
        """How many members `members` (one column: ids) selects."""
        return int((await self.session.execute(select(func.count()).select_from(members.subquery()))).scalar_one())

    async def next_batch(self, members: Select[Any], after: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
        """The next `limit` member ids `members` selects, in id order after `after`."""
        statement = members.order_by(col(Member.id)).limit(limit)
        if after is not None:
            statement = statement.where(col(Member.id) > after)
        return list((await self.session.execute(statement)).scalars())

    async def add(self, job: TaggingJob) -> None:
        self.session.add(job)
        await self.session.flush()

    async def advance(self, job_id: uuid.UUID, *, processed: int, changed: int) -> None:
        statement = (
            update(TaggingJob)
            .where(col(TaggingJob.id) == job_id)
            .values(processed=col(TaggingJob.processed) + processed, changed=col(TaggingJob.changed) + changed)
        )
        await self.session.execute(statement)

    async def finish(self, job_id: uuid.UUID, status: TaggingJobStatus, error: str | None = None) -> TaggingJob:
        statement = (
            update(TaggingJob)
            .where(col(TaggingJob.id) == job_id)
            .values(status=status.value, error=error, finished_at=func.now())
            .returning(TaggingJob)
        )
        return (await self.session.execute(statement)).scalar_one()

    async def of_tag(self, tag_id: uuid.UUID, limit: int) -> list[TaggingJob]:
        """The tag's most recent jobs first."""
        statement = (
            select(TaggingJob)
            .where(col(TaggingJob.tag_id) == tag_id)
            .order_by(col(TaggingJob.started_at).desc(), col(TaggingJob.id).desc())
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars())
