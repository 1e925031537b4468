"""Joining groups: one place per member and group, never more members than the group's capacity."""

from __future__ import annotations

import logging
import uuid

from community.domain.errors import GroupFull, GroupNotFound
from community.domain.kinds import JoinChannel
from community.services.views import GroupView, Joining, MembershipView
from community.uow import CommunityUnitOfWork

log = logging.getLogger(__name__)


async def join_group(
    uow: CommunityUnitOfWork, *, group_id: uuid.UUID, member_id: uuid.UUID, channel: JoinChannel
) -> Joining:
    """Put a member into a group through a channel, as an ordinary member.

    The group row is locked (SELECT … FOR UPDATE) so concurrent joins see each other's counts and the capacity
    holds; the database's CHECK backs it. Joining again is idempotent: the existing membership comes back with
    `already_member` and nothing changes, even when the group is full meanwhile.
    The member lives in the members service, which this service must not import or query: the id is taken
    on trust here, and membership sync from WeCom events will reconcile it later.
    Raises GroupNotFound or GroupFull and then writes nothing.
    """
    async with uow:
        group = await uow.groups.get(group_id, for_update=True)
        if group is None:
            raise GroupNotFound("no group has this id", group_id=group_id)
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
