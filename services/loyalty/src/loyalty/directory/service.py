"""The member directory's use cases: applying members' events, and which members may hold points.

Loyalty keeps its own copy of the few facts it needs about members (house style: "Events between services"), so
it can refuse points for a member that does not exist or is closed without asking the members service.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from loyalty.directory.errors import UnknownMember
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.events.consumer import Subscription
from yutang_shared.outbox import Event

MEMBER_REGISTERED = "member.registered"
MEMBER_CLOSED = "member.closed"


class UnsupportedEvent(ValueError):
    """An event version this consumer does not understand: retried, then dead-lettered for an operator."""


async def on_member_registered(uow: LoyaltyUnitOfWork, event: Event) -> None:
    """`member.registered` v1: the member is active from now on (unless a closing arrived first)."""
    _require_version(event, 1)
    await uow.directory.register(
        uuid.UUID(event.data["member_id"]), datetime.fromisoformat(event.data["registered_at"])
    )


async def on_member_closed(uow: LoyaltyUnitOfWork, event: Event) -> None:
    """`member.closed` v1: the member may no longer earn or be given points."""
    _require_version(event, 1)
    await uow.directory.close(uuid.UUID(event.data["member_id"]))


async def unknown_members(uow: LoyaltyUnitOfWork, member_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, UnknownMember]:
    """The refusal for every member among `member_ids` that is not active, in the open unit of work (one SELECT)."""
    active = await uow.directory.active_among(member_ids)
    return {member_id: UnknownMember(member_id) for member_id in set(member_ids) - active}


def _require_version(event: Event, version: int) -> None:
    if event.version != version:
        raise UnsupportedEvent(f"{event.type} v{event.version} is not supported (expected v{version})")


SUBSCRIPTION: Subscription[LoyaltyUnitOfWork] = Subscription(
    name="directory",
    source="members",
    handlers={MEMBER_REGISTERED: on_member_registered, MEMBER_CLOSED: on_member_closed},
)
"""Loyalty's directory consumer: the durable `loyalty-directory` on members' events."""
