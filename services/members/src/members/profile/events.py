"""Events the profile publishes through the members outbox: `member.updated` (non-personal facts) and
`member.closed`. Consumers (loyalty refusing closed members, reports) keep their own copy of these facts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from members.models import OUTBOX
from members.profile.models import Member
from members.profile.rules import month_day
from yutang_shared.outbox import Event, record

UPDATED = "member.updated"
CLOSED = "member.closed"


def updated(row: Member, changed: list[str]) -> Event:
    """`member.updated` v1: the member's non-personal facts after a change, and which of them changed. The birthday
    goes out as a month-day only (`birthday_md`, "MM-DD" or null), never the year."""
    return Event(
        type=UPDATED,
        aggregate_id=str(row.id),
        data={
            "member_id": str(row.id),
            "changed": changed,
            "status": row.status,
            "home_store_code": row.home_store_code,
            "guide_id": None if row.guide_id is None else str(row.guide_id),
            "consent": row.consent,
            "birthday_md": month_day(row.birthday),
        },
    )


def closed(row: Member, at: datetime) -> Event:
    """`member.closed` v1: the member's account is closed and their personal data erased; no earning or spending."""
    return Event(type=CLOSED, aggregate_id=str(row.id), data={"member_id": str(row.id), "closed_at": at.isoformat()})


async def publish(session: AsyncSession, events: list[Event]) -> None:
    """Add the events to the outbox in the caller's transaction."""
    if events:
        await record(session, OUTBOX, events)
