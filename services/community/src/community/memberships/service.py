"""Memberships use cases: joining groups (one place per member and group, never more members than the group's
capacity), pages of groups' members and members' groups."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import text

from community.config import CommunitySettings
from community.directory.errors import UnknownMember
from community.directory.service import require_active
from community.groups.errors import GroupNotActive
from community.groups.models import Group, GroupStatus, GroupType, ScopeKind
from community.groups.repository import Position
from community.groups.rules import QR_CODE_MAX_GROUPS, QR_JOIN_LIMIT, WECOM_MAX_MEMBERS
from community.groups.service import plan_group_in
from community.groups.views import GroupView
from community.memberships.errors import GroupFull, GroupNotFound, NotAMember, QrCodeFull, QrJoinsClosed
from community.memberships.models import QR_CHANNELS, GroupMembership, GroupRole, JoinChannel
from community.memberships.views import Joining, MembershipView, Synced
from community.models import OUTBOX
from community.tasks.models import TaskKind, TaskStatus
from community.uow import CommunityUnitOfWork
from yutang_shared.outbox import Event, record

log = logging.getLogger(__name__)


MEMBERSHIP_CHANGED = "membership.changed"
SYNC_MAX = WECOM_MAX_MEMBERS
"""A synced member list holds at most a full WeCom group."""


def membership_changed(group: Group, member_id: uuid.UUID, status: str) -> Event:
    """`membership.changed` v1: a membership started (`joined`) or ended (`left`); aggregate = the member."""
    now = datetime.now(UTC)
    data = {
        "member_id": str(member_id),
        "group_id": str(group.id),
        "group_type": group.type,
        "status": status,
        "changed_at": now.isoformat(),
    }
    return Event(type=MEMBERSHIP_CHANGED, aggregate_id=str(member_id), data=data, occurred_at=now)


async def locked_active_group(uow: CommunityUnitOfWork, group_id: uuid.UUID) -> Group:
    """The group, locked until the transaction ends; GroupNotFound, or GroupNotActive unless it is active."""
    group = await uow.groups.get(group_id, for_update=True)
    if group is None:
        raise GroupNotFound("no group has this id", group_id=group_id)
    if group.status != GroupStatus.ACTIVE.value:
        raise GroupNotActive(f"the group is {group.status}", group_id=group_id, status=GroupStatus(group.status))
    return group


async def add_members(
    uow: CommunityUnitOfWork, group: Group, member_ids: Sequence[uuid.UUID], channel: JoinChannel
) -> list[GroupMembership]:
    """Put members not yet in the (locked, active) group into it, with their events; GroupFull when they do not
    fit, QrJoinsClosed when QR-code joins would pass WeCom's 200. Callers check the members are active."""
    if not member_ids:
        return []
    if group.member_count + len(member_ids) > group.capacity:
        raise GroupFull(f"the group is full ({group.capacity} members)", capacity=group.capacity)
    if channel in QR_CHANNELS and group.member_count + len(member_ids) > QR_JOIN_LIMIT:
        raise QrJoinsClosed(
            f"QR-code joins stop at {QR_JOIN_LIMIT} members: use the invite link or a staff invitation",
            member_count=group.member_count,
        )
    added = [await uow.memberships.add(group_id=group.id, member_id=m, channel=channel) for m in member_ids]
    await uow.groups.count_in(group, len(added))
    await record(uow.session, OUTBOX, [membership_changed(group, m, "joined") for m in member_ids])
    return added


async def plan_next_when_full(uow: CommunityUnitOfWork, settings: CommunitySettings | None, group: Group) -> None:
    """A basic group that just filled plans the next numbered group of its scope (a create-group task), once:
    never two planned at once (see `plan_group_in`). Without settings (some internal callers) nothing is planned."""
    if settings is None or group.type != GroupType.BASIC.value or group.member_count < group.capacity:
        return
    await plan_group_in(
        uow,
        settings,
        group_type=GroupType.BASIC,
        scope_kind=ScopeKind(group.scope_kind),
        scope_name=group.scope_name,
        as_of=date.today(),
        warehouse=group.warehouse,
        steward=group.steward,
    )


async def remove_members(uow: CommunityUnitOfWork, group: Group, member_ids: Sequence[uuid.UUID]) -> int:
    """Take members out of the (locked) group, with their events; members not in it are ignored. How many left."""
    gone = [m for m in member_ids if await uow.memberships.remove(group.id, m)]
    if gone:
        await uow.groups.count_out(group, len(gone))
        await record(uow.session, OUTBOX, [membership_changed(group, m, "left") for m in gone])
    return len(gone)


async def join_group(
    uow: CommunityUnitOfWork,
    *,
    group_id: uuid.UUID,
    member_id: uuid.UUID,
    channel: JoinChannel,
    settings: CommunitySettings | None = None,
) -> Joining:
    """Put a member into an active group through a channel, as an ordinary member.

    The group row is locked (SELECT … FOR UPDATE) so concurrent joins see each other's counts and the capacity
    holds; the database's CHECK backs it. Joining again is idempotent: the existing membership comes back with
    `already_member` and nothing changes, even when the group is full meanwhile.
    The member lives in the members service, which this service must not query: community's member directory,
    kept from members' events, says whether they exist and are active.
    A member who joins a buffer group has their open move task into it closed (done): the sunset's offer taken.
    Raises GroupNotFound, GroupNotActive, UnknownMember, GroupFull or QrJoinsClosed and then writes nothing.
    """
    async with uow:
        group = await locked_active_group(uow, group_id)
        await require_active(uow, member_id)
        existing = await uow.memberships.get(group_id, member_id)
        if existing is not None:
            return Joining(GroupView.of(group), MembershipView.of(existing), already_member=True)
        (membership,) = await add_members(uow, group, [member_id], channel)
        await plan_next_when_full(uow, settings, group)
        await _close_moves_of_joiners(uow, group, [member_id])
        joining = Joining(GroupView.of(group), MembershipView.of(membership), already_member=False)
        await uow.commit()
    log.info("member joined group", extra={"group_id": str(group_id), "member_id": str(member_id)})
    return joining


async def leave_group(uow: CommunityUnitOfWork, *, group_id: uuid.UUID, member_id: uuid.UUID) -> GroupView:
    """Take a member out of a group (they quit, or staff removed them). Raises GroupNotFound or NotAMember."""
    async with uow:
        group = await uow.groups.get(group_id, for_update=True)
        if group is None:
            raise GroupNotFound("no group has this id", group_id=group_id)
        if not await remove_members(uow, group, [member_id]):
            raise NotAMember("the member is not in the group", group_id=group_id, member_id=member_id)
        view = GroupView.of(group)
        await uow.commit()
    return view


async def set_group_role(
    uow: CommunityUnitOfWork, *, group_id: uuid.UUID, member_id: uuid.UUID, role: GroupRole
) -> MembershipView:
    """Give a member of the group a role (owner, opinion leader, admin, steward, content editor, member).
    Raises GroupNotFound or NotAMember."""
    async with uow:
        if await uow.groups.get(group_id) is None:
            raise GroupNotFound("no group has this id", group_id=group_id)
        membership = await uow.memberships.set_role(group_id, member_id, role)
        if membership is None:
            raise NotAMember("the member is not in the group", group_id=group_id, member_id=member_id)
        view = MembershipView.of(membership)
        await uow.commit()
    return view


async def _close_moves_of_joiners(uow: CommunityUnitOfWork, group: Group, joined: list[uuid.UUID]) -> None:
    """Members who joined a buffer group on their own took the sunset notice's offer: their open move tasks into
    it are done, so no staff member moves them again."""
    if joined and group.type == GroupType.BUFFER.value:
        await uow.tasks.close_open(
            kind=TaskKind.MOVE_TO_BUFFER,
            status=TaskStatus.DONE,
            outcome="the member joined the buffer group themselves",
            target_group_id=group.id,
            member_ids=joined,
        )


async def sync_group_members(
    uow: CommunityUnitOfWork,
    *,
    chat_id: str,
    member_ids: Sequence[uuid.UUID],
    channel: JoinChannel,
    settings: CommunitySettings | None = None,
) -> Synced:
    """Make the group with this WeCom chat id hold exactly `member_ids` (its member list from WeCom events or an
    import): members not in it join through `channel`, members missing from the list quit. Idempotent: the same
    list again changes nothing. Members who join a buffer group have their open move tasks into it closed (done).
    Raises GroupNotFound (no such chat), GroupNotActive, UnknownMember (the first
    joining member community does not know as active) or GroupFull, and then writes nothing."""
    wanted = set(member_ids)
    async with uow:
        group = await uow.groups.by_chat_id(chat_id, for_update=True)
        if group is None:
            raise GroupNotFound("no group has this WeCom chat id", group_id=None)
        group = await locked_active_group(uow, group.id)
        present = await uow.memberships.member_ids(group.id)
        joining = sorted(wanted - present)
        unknown = set(joining) - await uow.directory.active_among(joining)
        if unknown:
            raise UnknownMember(min(unknown))
        left = await remove_members(uow, group, sorted(present - wanted))
        await add_members(uow, group, joining, channel)
        await plan_next_when_full(uow, settings, group)
        await _close_moves_of_joiners(uow, group, joining)
        synced = Synced(GroupView.of(group), joined=len(joining), left=left)
        await uow.commit()
    log.info("group synced", extra={"group_id": str(synced.group.id), "joined": synced.joined, "left": left})
    return synced


async def attach_join_qr(uow: CommunityUnitOfWork, *, code: str, group_id: uuid.UUID) -> list[uuid.UUID]:
    """Let a join QR code (活码) serve a group too; the groups it serves, in id order. WeCom lets one code serve at
    most 5: the code is locked (advisory) so concurrent attachments count each other; a dissolved group no longer
    counts. Idempotent for a group it serves. Raises GroupNotFound, GroupNotActive (the group is closed) or
    QrCodeFull."""
    async with uow:
        await uow.session.execute(
            text("SELECT pg_advisory_xact_lock(:k, hashtext(:code))"), {"k": _QR_LOCK, "code": code}
        )
        group = await uow.groups.get(group_id)
        if group is None:
            raise GroupNotFound("no group has this id", group_id=group_id)
        if group.status == GroupStatus.CLOSED.value:
            raise GroupNotActive("the group is closed", group_id=group_id, status=GroupStatus.CLOSED)
        served = await uow.memberships.qr_groups(code)
        if group_id not in served:
            if len(served) >= QR_CODE_MAX_GROUPS:
                raise QrCodeFull(f"a join QR code serves at most {QR_CODE_MAX_GROUPS} groups", qr_code=code)
            await uow.memberships.add_qr_group(code, group_id)
            served = sorted([*served, group_id])
        await uow.commit()
    return served


_QR_LOCK = 0x71726A6E  # "qrjn": first key of the advisory lock per join QR code


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
