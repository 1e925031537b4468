"""The event registration publishes through the members outbox: `member.registered` (no personal data).
Loyalty and community keep their member directories from it (docs/events.md)."""

from __future__ import annotations

from members.profile.rules import month_day
from members.profile.views import MemberView
from yutang_shared.outbox import Event

REGISTERED = "member.registered"


def registered(member: MemberView) -> Event:
    """`member.registered` v1: a new member exists (a repeated registration of the same mobile publishes nothing);
    `birthday_md` ("MM-DD", no year) when a birthday is known already, else null."""
    return Event(
        type=REGISTERED,
        aggregate_id=str(member.id),
        occurred_at=member.registered_at,
        data={
            "member_id": str(member.id),
            "registered_at": member.registered_at.isoformat(),
            "source_channel": member.source_channel.value,
            "birthday_md": month_day(member.birthday),
        },
    )
