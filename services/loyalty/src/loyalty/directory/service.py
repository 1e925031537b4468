"""The member directory's use cases: applying members' events, and which members may hold points.

Loyalty keeps its own copy of the few facts it needs about members (house style: "Events between services"), so
it can refuse points for a member that does not exist or is closed without asking the members service, and knows
whose birthday it is (month-day only, for birthday points).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from datetime import datetime

from loyalty.directory.errors import UnknownMember
from loyalty.directory.models import MONTH_DAY
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.events.consumer import Subscription
from yutang_shared.outbox import Event

MEMBER_REGISTERED = "member.registered"
MEMBER_CLOSED = "member.closed"
MEMBER_UPDATED = "member.updated"


class UnsupportedEvent(ValueError):
    """An event version this consumer does not understand: retried, then dead-lettered for an operator."""


class NotYetRegistered(RuntimeError):
    """A `member.updated` for a member loyalty has not heard of yet: retried until their registration arrives."""


async def on_member_registered(uow: LoyaltyUnitOfWork, event: Event) -> None:
    """`member.registered` v1: the member is active from now on (unless a closing arrived first)."""
    _require_version(event, 1)
    await uow.directory.register(
        uuid.UUID(event.data["member_id"]),
        datetime.fromisoformat(event.data["registered_at"]),
        _month_day(event.data.get("birthday_md")),
    )


async def on_member_updated(uow: LoyaltyUnitOfWork, event: Event) -> None:
    """`member.updated` v1: keep the member's birthday (month-day) when the event carries one; other facts are not
    loyalty's. An update that names no birthday (older producers) changes nothing."""
    _require_version(event, 1)
    if "birthday_md" not in event.data:
        return
    member_id = uuid.UUID(event.data["member_id"])
    if not await uow.directory.set_birthday(member_id, _month_day(event.data["birthday_md"])):
        raise NotYetRegistered(f"member.updated for {member_id} before its member.registered")


async def on_member_closed(uow: LoyaltyUnitOfWork, event: Event) -> None:
    """`member.closed` v1: the member may no longer earn or be given points."""
    _require_version(event, 1)
    await uow.directory.close(uuid.UUID(event.data["member_id"]))


async def unknown_members(uow: LoyaltyUnitOfWork, member_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, UnknownMember]:
    """The refusal for every member among `member_ids` that is not active, in the open unit of work (one SELECT)."""
    active = await uow.directory.active_among(member_ids)
    return {member_id: UnknownMember(member_id) for member_id in set(member_ids) - active}


def _month_day(value: object) -> str | None:
    """A "MM-DD" birthday from an event, or None; anything else is a malformed event (dead-lettered)."""
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(MONTH_DAY, value):
        raise ValueError(f"birthday_md {value!r} is not MM-DD")
    return value


def _require_version(event: Event, version: int) -> None:
    if event.version != version:
        raise UnsupportedEvent(f"{event.type} v{event.version} is not supported (expected v{version})")


SUBSCRIPTION: Subscription[LoyaltyUnitOfWork] = Subscription(
    name="directory",
    source="members",
    handlers={
        MEMBER_REGISTERED: on_member_registered,
        MEMBER_UPDATED: on_member_updated,
        MEMBER_CLOSED: on_member_closed,
    },
)
"""Loyalty's directory consumer: the durable `loyalty-directory` on members' events."""
