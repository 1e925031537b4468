"""Memberships use cases: joining groups (one place per member and group, never more members than the group's
capacity), pages of groups' members and members' groups."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from community.directory.service import require_active
from community.groups.repository import Position
from community.groups.views import GroupView
from community.memberships.errors import GroupFull, GroupNotFound
from community.memberships.models import JoinChannel
from community.memberships.views import Joining, MembershipView
from community.uow import CommunityUnitOfWork

log = logging.getLogger(__name__)


async def join_group(
    uow: CommunityUnitOfWork, *, group_id: uuid.UUID, member_id: uuid.UUID, channel: JoinChannel
) -> Joining:
    """Put a member into a group through a channel, as an ordinary member.

    The group row is locked (SELECT … FOR UPDATE) so concurrent joins see each other's counts and the capacity
    holds; the database's CHECK backs it. Joining again is idempotent: the existing membership comes back with
    `already_member` and nothing changes, even when the group is full meanwhile.
    The member lives in the members service, which this service must not query: community's member directory,
    kept from members' events, says whether they exist and are active.
    Raises GroupNotFound, UnknownMember or GroupFull and then writes nothing.
    """
    async with uow:
        group = await uow.groups.get(group_id, for_update=True)
        if group is None:
            raise GroupNotFound("no group has this id", group_id=group_id)
        await require_active(uow, member_id)
        existing = await uow.memberships.get(group_id, member_id)
        if existing is not None:
            return Joining(GroupView.of(group), MembershipView.of(existing), already_member=True)
        if group.member_count >= group.capacity:
            raise GroupFull(f"the group is full ({group.capacity} members)", capacity=group.capacity)
        membership = await uow.memberships.add(group_id=group_id, member_id=member_id, channel=channel)
        await uow.groups.count_in(group)
        joining = Joining(GroupView.of(group), MembershipView.of(membership), already_member=False)
        await uow.commit()
    log.info("member joined group", extra={"group_id": str(group_id), "member_id": str(member_id)})
    return joining


async def membership_pages(
    uow: CommunityUnitOfWork, group_ids: Sequence[uuid.UUID], *, limit: int, after: Position | None = None
) -> dict[uuid.UUID, list[MembershipView]]:
    """Up to `limit` memberships of each group in joining order after `after`, all in one query; every asked
    group is a key, with no rows when it has none (or does not exist)."""
    pages: dict[uuid.UUID, list[MembershipView]] = {group_id: [] for group_id in group_ids}
    async with uow:
        for row in await uow.memberships.pages(group_ids, limit=limit, after=after):
            pages[row.group_id].append(MembershipView.of(row))
    return pages


async def groups_by_member_ids(
    uow: CommunityUnitOfWork, member_ids: Sequence[uuid.UUID], *, limit: int
) -> list[list[GroupView]]:
    """Each member's first `limit` groups in joining order, in the order asked (empty for a member in no group),
    in one query."""
    found: dict[uuid.UUID, list[GroupView]] = {member_id: [] for member_id in member_ids}
    async with uow:
        for member_id, group in await uow.memberships.groups_of(member_ids, limit=limit):
            found[member_id].append(GroupView.of(group))
    return [found[member_id] for member_id in member_ids]
