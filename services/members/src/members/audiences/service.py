"""Audiences' use cases: preview a rule's size, save it, list its members, freeze them for a campaign, export them.

Everything is limited in SQL to the members the caller reaches (staff: their stores; supervisors: their regions;
operations and services: everyone). A rule is validated (audiences.rules) before any SQL is built.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from members.audiences.compiler import compile_rule
from members.audiences.errors import InvalidAudience, SnapshotKeyReused, UnknownAudience
from members.audiences.models import KEY_LENGTH, NAME_LENGTH, Audience, AudienceSnapshot
from members.audiences.rules import parse_rule
from members.audit.service import Actor, AuditAction, record
from members.authorization import MemberScope
from members.profile.models import Member
from members.profile.repository import reached
from members.profile.views import MemberView
from members.uow import MembersUnitOfWork

EXPORT_LIMIT = 100_000
EXPORT_COLUMNS = (
    "member_id",
    "home_store_code",
    "source_channel",
    "stage",
    "segment",
    "recency_days",
    "frequency",
    "monetary_fen",
)


@dataclass(frozen=True, slots=True)
class AudienceView:
    """A saved audience."""

    id: uuid.UUID
    name: str
    rule: dict[str, Any]
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Audience) -> AudienceView:
        return cls(row.id, row.name, dict(row.rule), row.created_by, row.created_at, row.updated_at)


@dataclass(frozen=True, slots=True)
class SnapshotView:
    """A frozen audience; `replayed` when the key had already materialised it."""

    id: uuid.UUID
    key: str
    audience_id: uuid.UUID
    size: int
    created_at: datetime
    replayed: bool


@dataclass(frozen=True, slots=True)
class Export:
    """An audience as CSV (no personal data: ids, store, stage, RFM), at most EXPORT_LIMIT rows."""

    csv: str
    rows: int
    truncated: bool


def _scope(scope: MemberScope | None) -> list[Any]:
    return reached(scope) if scope is not None else []


def now() -> datetime:
    return datetime.now(UTC)


async def preview_audience(uow: MembersUnitOfWork, *, rule: Any, scope: MemberScope | None) -> int:
    """How many members the rule selects within `scope` now, in one statement.

    Raises InvalidRule, UnknownCondition, InvalidConditionValue, EmptyRuleGroup or RuleTooDeep."""
    condition = compile_rule(parse_rule(rule), now())
    async with uow:
        return await uow.audiences.count(condition, _scope(scope))


def _name(name: str) -> str:
    cleaned = name.strip()
    if not 1 <= len(cleaned) <= NAME_LENGTH or not cleaned.isprintable():
        raise InvalidAudience(f"the name must be 1–{NAME_LENGTH} printable characters")
    return cleaned


async def save_audience(
    uow: MembersUnitOfWork, actor: Actor, *, name: str, rule: Any, audience_id: uuid.UUID | None = None
) -> AudienceView:
    """Save a new audience, or replace the name and rule of `audience_id`; audited.

    Raises the rule's errors, InvalidAudience for a bad name and UnknownAudience for an unknown id."""
    parse_rule(rule)
    cleaned = _name(name)
    async with uow:
        if audience_id is None:
            row = Audience(name=cleaned, rule=rule, created_by=actor.subject[:128])
            await uow.audiences.add(row)
        else:
            found = await uow.audiences.get(audience_id, lock=True)
            if found is None:
                raise UnknownAudience(f"no audience {audience_id}")
            found.name, found.rule, found.updated_at = cleaned, rule, now()
            row = found
            await uow.session.flush()
        await record(uow, actor, action="saveAudience", target_type="audience", target_ids=(row.id,))
        view = AudienceView.of(row)
        await uow.commit()
    return view


async def audiences_by_ids(uow: MembersUnitOfWork, ids: list[uuid.UUID]) -> list[AudienceView | None]:
    async with uow:
        found = {row.id: AudienceView.of(row) for row in await uow.audiences.by_ids(ids)}
    return [found.get(i) for i in ids]


async def list_audiences(uow: MembersUnitOfWork) -> list[AudienceView]:
    async with uow:
        return [AudienceView.of(row) for row in await uow.audiences.all()]


async def audience_size(uow: MembersUnitOfWork, audience: AudienceView, scope: MemberScope | None) -> int:
    return await preview_audience(uow, rule=audience.rule, scope=scope)


async def audience_members(
    uow: MembersUnitOfWork,
    audience: AudienceView,
    *,
    scope: MemberScope | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[MemberView]:
    """A page of the audience's members (registration order) within `scope`."""
    condition = compile_rule(parse_rule(audience.rule), now())
    async with uow:
        rows: list[Member] = await uow.audiences.page(condition, _scope(scope), limit=limit, after=after)
        return [MemberView.of(row) for row in rows]


async def materialize_audience(
    uow: MembersUnitOfWork, actor: Actor, *, audience_id: uuid.UUID, key: str, scope: MemberScope | None
) -> SnapshotView:
    """Freeze the audience's members (within `scope`) under `key`; the same key again returns the same snapshot
    (`replayed`). Audited. Raises UnknownAudience, SnapshotKeyReused (the key froze another audience) and
    InvalidAudience (a key that is not 1–64 printable ASCII)."""
    if not 1 <= len(key) <= KEY_LENGTH or not all("!" <= c <= "~" for c in key):
        raise InvalidAudience(f"the key must be 1–{KEY_LENGTH} printable ASCII characters without spaces")
    async with uow:
        audience = await uow.audiences.get(audience_id, lock=True)  # serialises two materialisations of one key
        if audience is None:
            raise UnknownAudience(f"no audience {audience_id}")
        existing = await uow.audiences.snapshot_by_key(key)
        if existing is not None:
            if existing.audience_id != audience_id:
                raise SnapshotKeyReused(f"key {key!r} froze another audience")
            return SnapshotView(existing.id, key, audience_id, existing.size, existing.created_at, True)
        condition = compile_rule(parse_rule(audience.rule), now())
        snapshot = AudienceSnapshot(
            key=key, audience_id=audience_id, rule=audience.rule, size=0, created_by=actor.subject[:128]
        )
        size = await uow.audiences.snapshot(snapshot, condition, _scope(scope))
        await record(uow, actor, action="materializeAudience", target_type="audience", target_ids=(audience_id,))
        view = SnapshotView(snapshot.id, key, audience_id, size, snapshot.created_at, False)
        await uow.commit()
    return view


async def export_audience(
    uow: MembersUnitOfWork, actor: Actor, *, audience_id: uuid.UUID, scope: MemberScope | None
) -> Export:
    """The audience's members within `scope` as CSV (EXPORT_COLUMNS, no personal data), at most EXPORT_LIMIT
    rows; the export is audited (`export`, the audience). Raises UnknownAudience."""
    async with uow:
        audience = await uow.audiences.get(audience_id)
        if audience is None:
            raise UnknownAudience(f"no audience {audience_id}")
        condition = compile_rule(parse_rule(audience.rule), now())
        rows = await uow.audiences.export_rows(condition, _scope(scope), EXPORT_LIMIT + 1)
        await record(uow, actor, action=AuditAction.EXPORT.value, target_type="audience", target_ids=(audience_id,))
        await uow.commit()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(rows[:EXPORT_LIMIT])
    return Export(out.getvalue(), min(len(rows), EXPORT_LIMIT), len(rows) > EXPORT_LIMIT)
