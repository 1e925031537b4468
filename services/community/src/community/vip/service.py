"""VIP use cases: the entry rule over community's own order and tier facts, applications, logged exceptions, the
graduation of qualified basic-group members (months 4–6) and the monthly review (warn, then remove after grace).

Every batch writes tasks under deterministic keys, so a flow that runs twice for the same date, or a retried
batch, creates no second task, invitation or removal.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta

from community.config import CommunitySettings
from community.directory.service import require_active
from community.groups.errors import InvalidGroup, WrongPhase
from community.groups.models import Group, GroupStatus, GroupType, ScopeKind
from community.groups.rules import Phase
from community.groups.service import plan_group_in
from community.groups.views import GroupView
from community.memberships.errors import GroupFull, GroupNotFound
from community.tasks import rules as task_rules
from community.tasks.models import TaskKind, TaskStatus
from community.tasks.repository import NewTask
from community.uow import CommunityUnitOfWork
from community.vip.errors import NotQualified
from community.vip.models import ApplicationStatus, EntryException, ExceptionReason, VipApplication
from community.vip.rules import EntryRule, Verdict
from community.vip.views import Application, BatchOutcome

BATCH_MAX = 500


def entry_rule(settings: CommunitySettings) -> EntryRule:
    """The VIP entry rule the settings configure."""
    return EntryRule(settings.vip_min_spend_fen, settings.vip_spend_window_days, settings.vip_min_tier or None)


async def verdicts(
    uow: CommunityUnitOfWork, settings: CommunitySettings, member_ids: Sequence[uuid.UUID], as_of: date
) -> dict[uuid.UUID, Verdict]:
    """Each member's standing against the entry rule on `as_of` (three SELECTs for any number of members)."""
    rule = entry_rule(settings)
    spend = await uow.facts.spend(member_ids, *rule.window(as_of))
    tiers = await uow.facts.tiers(member_ids)
    exceptions = await uow.vip.exceptions(member_ids, GroupType.VIP.value)
    return {
        m: rule.verdict(spent_fen=spend.get(m, 0), tier=tiers.get(m), exception=exceptions.get(m)) for m in member_ids
    }


async def invite_in(
    uow: CommunityUnitOfWork, settings: CommunitySettings, *, member_id: uuid.UUID, scope: Group, as_of: date
) -> tuple[uuid.UUID, uuid.UUID, bool] | None:
    """In the open unit of work (holding the VIP scope's lock): an invitation task into a VIP group of the basic
    group `scope`'s scope with a free seat (members plus open invitations), planning the next VIP group when all
    are full. (task id, target group id, created now); None when even the planned group's seats are all held
    (never two planned at once: the member is invited on a later run, once staff opened it and the next is
    planned)."""
    kind, name = ScopeKind(scope.scope_kind), scope.scope_name
    groups = await uow.groups.open_of_scope(GroupType.VIP, kind, name)
    held = await uow.tasks.open_invites_to([g.id for g in groups])
    target = next((g for g in groups if g.member_count + held.get(g.id, 0) < g.capacity), None)
    if target is None:
        target, _ = await plan_group_in(
            uow,
            settings,
            group_type=GroupType.VIP,
            scope_kind=kind,
            scope_name=name,
            as_of=as_of,
            warehouse=scope.warehouse,
            steward=scope.steward,
        )
    due = task_rules.due_on(as_of, settings.task_due_days)
    task, created = await uow.tasks.add(
        NewTask(
            key=f"vip-invite:{member_id}:{as_of:%Y-%m}",
            kind=TaskKind.INVITE_MEMBER,
            group_id=scope.id,
            member_id=member_id,
            target_group_id=target.id,
            as_of=as_of,
            due_on=due,
            assignee=target.steward or scope.steward,
            message=task_rules.message(
                TaskKind.INVITE_MEMBER, member=task_rules.short_member(member_id), target=target.name, due=due
            ),
        )
    )
    return task.id, task.target_group_id or target.id, created


async def graduate_batch(
    uow: CommunityUnitOfWork,
    settings: CommunitySettings,
    *,
    group_id: uuid.UUID,
    as_of: date,
    limit: int,
    after: uuid.UUID | None = None,
) -> BatchOutcome:
    """One batch of a basic group's members (in id order after `after`): invite those who qualify on `as_of`
    and are in no active VIP group and have no open invitation into a VIP group of the same scope.
    Raises GroupNotFound, InvalidGroup (not a basic group) or WrongPhase (not in months 4–6)."""
    async with uow:
        group = await group_in_phase(uow, group_id, as_of, {Phase.LAYER})
        await uow.groups.lock_scope(GroupType.VIP, ScopeKind(group.scope_kind), group.scope_name)
        page = await uow.memberships.member_page(group_id, limit=min(limit, BATCH_MAX), after=after)
        in_vip = await uow.memberships.in_open_group_of_type(page, GroupType.VIP)
        standing = await verdicts(uow, settings, page, as_of)
        created = unchanged = skipped = 0
        for member_id in page:
            if member_id in in_vip or not standing[member_id].qualifies:
                skipped += 1
                continue
            invited = await invite_in(uow, settings, member_id=member_id, scope=group, as_of=as_of)
            if invited is None:
                skipped += 1
                continue
            created, unchanged = created + invited[2], unchanged + (not invited[2])
        await uow.commit()
    return BatchOutcome(
        len(page), created, unchanged, skipped, page[-1] if len(page) == min(limit, BATCH_MAX) else None
    )


async def review_batch(
    uow: CommunityUnitOfWork,
    settings: CommunitySettings,
    *,
    group_id: uuid.UUID,
    as_of: date,
    limit: int,
    after: uuid.UUID | None = None,
) -> BatchOutcome:
    """One batch of a VIP group's members (月度核查): who no longer qualifies on `as_of` is warned (a task and a
    warning dated `as_of`); who was warned at least the grace period ago and still does not qualify gets a removal
    task (to the warehouse's buffer group when the settings say so); who qualifies again has the warning cleared.
    Raises GroupNotFound or InvalidGroup (not an active VIP group)."""
    async with uow:
        group = await uow.groups.get(group_id)
        if group is None:
            raise GroupNotFound("no group has this id", group_id=group_id)
        if group.type != GroupType.VIP.value or group.status != GroupStatus.ACTIVE.value:
            raise InvalidGroup("the monthly review is for active VIP groups")
        page = await uow.memberships.member_page(group_id, limit=min(limit, BATCH_MAX), after=after)
        standing = await verdicts(uow, settings, page, as_of)
        warned = await uow.vip.warnings(group_id, page)
        buffer = (
            await uow.groups.buffer_of(group.warehouse) if group.warehouse and settings.vip_removed_to_buffer else None
        )
        created = unchanged = skipped = 0
        for member_id in page:
            if standing[member_id].qualifies:
                if await uow.vip.clear_warning(group_id, member_id):
                    await uow.tasks.close_open(
                        kind=TaskKind.WARN_MEMBER,
                        group_id=group_id,
                        member_ids=[member_id],
                        status=TaskStatus.SKIPPED,
                        outcome="qualifies again",
                    )
                skipped += 1
                continue
            task = _review_task(settings, group, member_id, as_of, warned.get(member_id), buffer)
            if task is None:
                unchanged += 1
                continue
            if task.kind is TaskKind.WARN_MEMBER:
                await uow.vip.warn(group_id, member_id, as_of)
            _, new = await uow.tasks.add(task)
            created, unchanged = created + new, unchanged + (not new)
        await uow.commit()
    return BatchOutcome(
        len(page), created, unchanged, skipped, page[-1] if len(page) == min(limit, BATCH_MAX) else None
    )


def _review_task(
    settings: CommunitySettings,
    group: Group,
    member_id: uuid.UUID,
    as_of: date,
    warned_on: date | None,
    buffer: Group | None,
) -> NewTask | None:
    """The task the review owes a member who does not qualify: a warning, a removal after the grace, or none yet."""
    due = task_rules.due_on(as_of, settings.task_due_days)
    member = task_rules.short_member(member_id)
    if warned_on is None:
        until = warned_on_plus(as_of, settings.vip_review_grace_days)
        return NewTask(
            key=f"vip-warn:{group.id}:{member_id}:{as_of}",
            kind=TaskKind.WARN_MEMBER,
            group_id=group.id,
            member_id=member_id,
            as_of=as_of,
            due_on=due,
            assignee=group.steward,
            message=task_rules.message(TaskKind.WARN_MEMBER, member=member, grace_until=until, group=group.name),
        )
    if as_of < warned_on_plus(warned_on, settings.vip_review_grace_days):
        return None
    then = f"，并拉入缓冲群「{buffer.name}」" if buffer is not None else ""
    return NewTask(
        key=f"vip-remove:{group.id}:{member_id}:{warned_on}",
        kind=TaskKind.REMOVE_MEMBER,
        group_id=group.id,
        member_id=member_id,
        as_of=as_of,
        due_on=due,
        assignee=group.steward,
        target_group_id=None if buffer is None else buffer.id,
        message=task_rules.message(TaskKind.REMOVE_MEMBER, member=member, group=group.name, then=then, due=due),
    )


def warned_on_plus(day: date, days: int) -> date:
    return day + timedelta(days=days)


async def group_in_phase(uow: CommunityUnitOfWork, group_id: uuid.UUID, as_of: date, phases: set[Phase]) -> Group:
    """In the open unit of work: the active basic group, if it is in one of `phases` on `as_of`; GroupNotFound,
    InvalidGroup (not an active basic group) or WrongPhase."""
    group = await uow.groups.get(group_id)
    if group is None:
        raise GroupNotFound("no group has this id", group_id=group_id)
    view = GroupView.of(group)
    if view.type is not GroupType.BASIC or view.status is not GroupStatus.ACTIVE:
        raise InvalidGroup("lifecycle batches are for active basic groups")
    phase, months = view.phase(as_of), view.months_open(as_of)
    if phase not in phases:
        raise WrongPhase(f"the group is in its {phase} phase (month {months})", phase=phase, months=months)
    return group


async def grant_entry_exception(
    uow: CommunityUnitOfWork,
    *,
    member_id: uuid.UUID,
    group_type: GroupType,
    reason: ExceptionReason,
    note: str | None,
    approver: str,
) -> EntryException:
    """Log an exception to a group type's entry rule (long-standing buyer, high order value, influencer) with its
    approver. Raises UnknownMember."""
    async with uow:
        await require_active(uow, member_id)
        row = await uow.vip.grant_exception(
            EntryException(
                member_id=member_id, group_type=group_type.value, reason=reason.value, note=note, approver=approver
            )
        )
        await uow.commit()
    return row


async def apply_for_vip(
    uow: CommunityUnitOfWork,
    settings: CommunitySettings,
    *,
    member_id: uuid.UUID,
    as_of: date,
    wechat_id: str | None = None,
    mobile: str | None = None,
) -> Application:
    """A member applies for a VIP group with their contact: checked against the entry rule on `as_of`; qualified,
    they get an invitation task into a VIP group of their basic group's scope. Every application is recorded
    with its verdict. Raises UnknownMember, InvalidGroup (not in an active basic group, so no scope) or
    NotQualified (with why: spend, tier)."""
    async with uow:
        await require_active(uow, member_id)
        verdict = (await verdicts(uow, settings, [member_id], as_of))[member_id]
        application = VipApplication(
            member_id=member_id,
            wechat_id=wechat_id,
            mobile_last4=None if mobile is None else mobile[-4:],
            as_of=as_of,
            status=ApplicationStatus.REFUSED.value,
            reason=verdict.reason,
        )
        if not verdict.qualifies:
            await uow.vip.add_application(application)
            await uow.commit()
            raise NotQualified(verdict.reason, spent_fen=verdict.spent_fen, needed_fen=settings.vip_min_spend_fen)
        home = await _home_group(uow, member_id)
        await uow.groups.lock_scope(GroupType.VIP, ScopeKind(home.scope_kind), home.scope_name)
        invited = await invite_in(uow, settings, member_id=member_id, scope=home, as_of=as_of)
        if invited is None:
            raise GroupFull("every VIP group of this scope is full; the next one is being opened", capacity=0)
        task_id, target, _ = invited
        application.status, application.task_id = ApplicationStatus.INVITED.value, task_id
        await uow.vip.add_application(application)
        await uow.commit()
    return Application(application.id, task_id, target)


async def _home_group(uow: CommunityUnitOfWork, member_id: uuid.UUID) -> Group:
    for _, group in await uow.memberships.groups_of([member_id], limit=100):
        if group.type == GroupType.BASIC.value and group.status == GroupStatus.ACTIVE.value:
            return group
    raise InvalidGroup("the member is in no active basic group, so no VIP scope can be chosen")
