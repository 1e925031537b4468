"""Groups use cases: opening groups (numbered within their type and scope, named by the house template unless
named explicitly) and reading them."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import date

from community.config import CommunitySettings
from community.groups.errors import ChatIdTaken, GroupNotActive, InvalidGroup
from community.groups.models import Group, GroupStatus, GroupType, ScopeKind
from community.groups.repository import Position
from community.groups.rules import check_capacity, clean_chat_id, clean_group_name, clean_scope_name, numbered_name
from community.groups.views import GroupView
from community.memberships.errors import GroupNotFound
from community.tasks import rules as task_rules
from community.tasks.models import TaskKind, TaskStatus
from community.tasks.repository import NewTask
from community.uow import CommunityUnitOfWork

log = logging.getLogger(__name__)


async def create_group(
    uow: CommunityUnitOfWork,
    settings: CommunitySettings,
    *,
    group_type: GroupType,
    scope_kind: ScopeKind,
    scope_name: str,
    capacity: int | None = None,
    name: str | None = None,
    opened_on: date | None = None,
    warehouse: str | None = None,
    steward: str | None = None,
    chat_id: str | None = None,
) -> GroupView:
    """Open the next numbered group of a (type, scope), e.g. "012·翠湖小区·BrandX" when `name` is not given; the
    brand and the type's default capacity come from `settings` (the app's, never a process global).

    WeCom has no API to create customer groups: this records the group a staff member opens in WeCom. Numbering
    is serialised per scope (an advisory lock, backed by the unique constraint), so concurrent calls get
    distinct numbers. It opens on `opened_on` (today by default), the start of a basic group's lifecycle phases.
    A buffer group serves one warehouse (scope kind warehouse), one per warehouse.
    Raises InvalidGroup (bad capacity, scope name, name or buffer scope) or ChatIdTaken and then writes nothing.
    """
    scope = clean_scope_name(scope_name)
    store = scope if group_type is GroupType.BUFFER else (None if warehouse is None else clean_scope_name(warehouse))
    if group_type is GroupType.BUFFER and scope_kind is not ScopeKind.WAREHOUSE:
        raise InvalidGroup("a buffer group serves a warehouse: its scope kind must be WAREHOUSE")
    chat = None if chat_id is None else clean_chat_id(chat_id)
    explicit_name = None if name is None else clean_group_name(name)
    size = check_capacity(capacity, settings.default_capacity(group_type))
    async with uow:
        await uow.groups.lock_scope(group_type, scope_kind, scope)
        if group_type is GroupType.BUFFER and await uow.groups.buffer_of(scope) is not None:
            raise InvalidGroup(f"warehouse {scope} already has its buffer group")
        sequence = await uow.groups.next_sequence(group_type, scope_kind, scope)
        group = await uow.groups.add(
            name=explicit_name or numbered_name(sequence, scope, settings.brand_name),
            group_type=group_type,
            scope_kind=scope_kind,
            scope_name=scope,
            sequence=sequence,
            capacity=size,
            opened_on=opened_on or date.today(),
            warehouse=store,
            steward=steward,
        )
        if chat is not None:
            await activate_in(uow, group, chat_id=chat, opened_on=group.opened_on or date.today())
        view = GroupView.of(group)
        await uow.commit()
    log.info("group created", extra={"group_id": str(view.id), "group_type": group_type.value, "sequence": sequence})
    return view


async def groups_by_ids(uow: CommunityUnitOfWork, ids: Sequence[uuid.UUID]) -> list[GroupView | None]:
    """The groups with these ids, in the order asked (None where there is none), in one query."""
    async with uow:
        found = {row.id: GroupView.of(row) for row in await uow.groups.by_ids(ids)}
    return [found.get(group_id) for group_id in ids]


async def group_page(
    uow: CommunityUnitOfWork,
    *,
    limit: int,
    after: Position | None = None,
    group_type: GroupType | None = None,
    status: GroupStatus | None = None,
) -> list[GroupView]:
    """Up to `limit` groups in creation order after the `after` position, optionally of one type and status."""
    async with uow:
        rows = await uow.groups.page(limit=limit, after=after, group_type=group_type, status=status)
        return [GroupView.of(row) for row in rows]


async def group_count(
    uow: CommunityUnitOfWork, *, group_type: GroupType | None = None, status: GroupStatus | None = None
) -> int:
    """How many groups there are, optionally of one type and status."""
    async with uow:
        return await uow.groups.count(group_type=group_type, status=status)


async def plan_group_in(
    uow: CommunityUnitOfWork,
    settings: CommunitySettings,
    *,
    group_type: GroupType,
    scope_kind: ScopeKind,
    scope_name: str,
    as_of: date,
    warehouse: str | None = None,
    steward: str | None = None,
) -> tuple[Group, bool]:
    """In the open unit of work: the planned group of this (type, scope), planning it (next number, template name,
    the type's capacity, a create-group task for the steward) unless one is already planned. Never two at once:
    the scope's advisory lock serialises planners and a partial unique index backs it. True when planned now."""
    await uow.groups.lock_scope(group_type, scope_kind, scope_name)
    existing = await uow.groups.planned(group_type, scope_kind, scope_name)
    if existing is not None:
        return existing, False
    sequence = await uow.groups.next_sequence(group_type, scope_kind, scope_name)
    group = await uow.groups.add(
        name=numbered_name(sequence, scope_name, settings.brand_name),
        group_type=group_type,
        scope_kind=scope_kind,
        scope_name=scope_name,
        sequence=sequence,
        capacity=settings.default_capacity(group_type),
        status=GroupStatus.PLANNED,
        warehouse=warehouse,
        steward=steward,
    )
    due = task_rules.due_on(as_of, settings.task_due_days)
    await uow.tasks.add(
        NewTask(
            key=f"create:{group.id}",
            kind=TaskKind.CREATE_GROUP,
            group_id=group.id,
            as_of=as_of,
            due_on=due,
            assignee=steward,
            message=task_rules.message(TaskKind.CREATE_GROUP, group=group.name, due=due),
        )
    )
    log.info("group planned", extra={"group_id": str(group.id), "group_type": group_type.value, "sequence": sequence})
    return group, True


async def plan_group(
    uow: CommunityUnitOfWork,
    settings: CommunitySettings,
    *,
    group_type: GroupType,
    scope_kind: ScopeKind,
    scope_name: str,
    as_of: date,
    warehouse: str | None = None,
    steward: str | None = None,
) -> GroupView:
    """Plan the next numbered group of a (type, scope) with a create-group task, or return the one already planned.
    Raises InvalidGroup (scope or warehouse name) and then writes nothing."""
    scope = clean_scope_name(scope_name)
    store = None if warehouse is None else clean_scope_name(warehouse)
    async with uow:
        group, _ = await plan_group_in(
            uow,
            settings,
            group_type=group_type,
            scope_kind=scope_kind,
            scope_name=scope,
            as_of=as_of,
            warehouse=store,
            steward=steward,
        )
        view = GroupView.of(group)
        await uow.commit()
    return view


async def activate_in(uow: CommunityUnitOfWork, group: Group, *, chat_id: str, opened_on: date) -> None:
    """In the open unit of work: the (locked) planned group is open in WeCom as `chat_id` from `opened_on`.
    Idempotent for the same chat id; ChatIdTaken when it has another or another group has this one;
    GroupNotActive when the group is closed."""
    if group.status == GroupStatus.ACTIVE.value and group.chat_id == chat_id:
        return
    if group.status == GroupStatus.CLOSED.value:
        raise GroupNotActive("the group is closed", group_id=group.id, status=GroupStatus.CLOSED)
    other = await uow.groups.by_chat_id(chat_id)
    if group.chat_id is not None or (other is not None and other.id != group.id):
        raise ChatIdTaken("the chat id belongs to another group, or the group has another", chat_id=chat_id)
    group.status, group.chat_id = GroupStatus.ACTIVE.value, chat_id
    group.opened_on = group.opened_on or opened_on
    await uow.groups.save(group)


async def activate_group(
    uow: CommunityUnitOfWork, *, group_id: uuid.UUID, chat_id: str, opened_on: date, steward: str | None = None
) -> GroupView:
    """A steward confirms the group is open in WeCom with this chat id (also the effect of completing its
    create-group task, which is closed here too). Raises GroupNotFound, GroupNotActive (closed) or ChatIdTaken."""
    chat = clean_chat_id(chat_id)
    async with uow:
        group = await uow.groups.get(group_id, for_update=True)
        if group is None:
            raise GroupNotFound("no group has this id", group_id=group_id)
        await activate_in(uow, group, chat_id=chat, opened_on=opened_on)
        if steward is not None and group.steward is None:
            group.steward = steward
            await uow.groups.save(group)
        await uow.tasks.close_open(
            kind=TaskKind.CREATE_GROUP,
            group_id=group.id,
            status=TaskStatus.DONE,
            outcome=f"opened as {chat}",
        )
        view = GroupView.of(group)
        await uow.commit()
    return view


async def vip_counts(uow: CommunityUnitOfWork, group_ids: Sequence[uuid.UUID]) -> list[int]:
    """For each group, in the order asked, how many of its members are in an active VIP group (one query)."""
    async with uow:
        found = await uow.memberships.count_in_type(group_ids, GroupType.VIP)
    return [found.get(group_id, 0) for group_id in group_ids]
