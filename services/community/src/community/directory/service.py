"""The member directory's use cases: applying members' events, and whether a member may join groups.

Community keeps its own copy of the few facts it needs about members (house style: "Events between services"),
so it can refuse a member that does not exist or is closed without asking the members service.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from community.directory.errors import UnknownMember
from community.uow import CommunityUnitOfWork
from yutang_shared.events.consumer import Subscription
from yutang_shared.outbox import Event

MEMBER_REGISTERED = "member.registered"
MEMBER_CLOSED = "member.closed"


class UnsupportedEvent(ValueError):
    """An event version this consumer does not understand: retried, then dead-lettered for an operator."""


async def on_member_registered(uow: CommunityUnitOfWork, event: Event) -> None:
    """`member.registered` v1: the member is active from now on (unless a closing arrived first)."""
    _require_version(event, 1)
    await uow.directory.register(
        uuid.UUID(event.data["member_id"]), datetime.fromisoformat(event.data["registered_at"])
    )


async def on_member_closed(uow: CommunityUnitOfWork, event: Event) -> None:
    """`member.closed` v1: the member may no longer join groups."""
    _require_version(event, 1)
    await uow.directory.close(uuid.UUID(event.data["member_id"]))


async def require_active(uow: CommunityUnitOfWork, member_id: uuid.UUID) -> None:
    """Raise UnknownMember unless the directory holds the member as active, in the open unit of work."""
    if member_id not in await uow.directory.active_among([member_id]):
        raise UnknownMember(member_id)


def _require_version(event: Event, version: int) -> None:
    if event.version != version:
        raise UnsupportedEvent(f"{event.type} v{event.version} is not supported (expected v{version})")


SUBSCRIPTION: Subscription[CommunityUnitOfWork] = Subscription(
    name="directory",
    source="members",
    handlers={MEMBER_REGISTERED: on_member_registered, MEMBER_CLOSED: on_member_closed},
)
"""Community's directory consumer: the durable `community-directory` on members' events."""
