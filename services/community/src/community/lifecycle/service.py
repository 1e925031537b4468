"""Basic-group sunset use cases: month 7 posts the dissolution notice (offering the warehouse's buffer group to
every member in the group); month 8 moves the members who did not take the offer to the buffer group in weekly
batches and asks for the group's dissolution in the last week.
Tasks carry deterministic keys (`notice:<group>`, `move:<group>:<member>`, `dissolve:<group>`): running twice for
the same date changes nothing."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date

from community.config import CommunitySettings
from community.groups.errors import InvalidGroup
from community.groups.models import Group, GroupType, ScopeKind
from community.groups.rules import Phase, add_months, dissolve_week
from community.groups.service import plan_group_in
from community.tasks import rules as task_rules
from community.tasks.models import TaskKind
from community.tasks.repository import NewTask
from community.uow import CommunityUnitOfWork
from community.vip.service import group_in_phase


@dataclass(frozen=True, slots=True)
class SunsetOutcome:
    """What one sunset call did for a group: tasks created now, tasks already there, the week of month 8."""

    created: int
    unchanged: int
    week: int | None


def batch_of(member_id: uuid.UUID, weeks: int) -> int:
    """The weekly batch a member is moved in: a stable hash of the id, so every run agrees."""
    return hashlib.sha256(member_id.bytes).digest()[0] % weeks


async def sunset_group(
    uow: CommunityUnitOfWork, settings: CommunitySettings, *, group_id: uuid.UUID, as_of: date
) -> SunsetOutcome:
    """Month 7: a notice task offering the buffer group. Month 8 on: the notice if missing, move tasks for every
    member whose weekly batch has come and who is not in the buffer group already (they took the offer), and in
    the last week a dissolve task. The warehouse's buffer group is
    planned when it has none. Raises GroupNotFound, InvalidGroup (not an active basic group, or no warehouse) or
    WrongPhase (before month 7)."""
    async with uow:
        group = await group_in_phase(uow, group_id, as_of, {Phase.NOTICE, Phase.DISSOLVE})
        if group.warehouse is None:
            raise InvalidGroup("the group has no warehouse, so no buffer group to send its members to")
        buffer = await uow.groups.buffer_of(group.warehouse)
        if buffer is None:
            buffer, _ = await plan_group_in(
                uow,
                settings,
                group_type=GroupType.BUFFER,
                scope_kind=ScopeKind.WAREHOUSE,
                scope_name=group.warehouse,
                as_of=as_of,
                warehouse=group.warehouse,
                steward=group.steward,
            )
        tasks = [_notice(settings, group, buffer, as_of)]
        week = None
        if as_of >= add_months(group.opened_on or as_of, 8):
            week = dissolve_week(group.opened_on or as_of, as_of, settings.dissolve_weeks)
            # Members who took the notice's offer and joined the buffer group already need no move.
            members = sorted(await uow.memberships.member_ids_not_in(group.id, buffer.id))
            tasks += [
                _task(settings, group, buffer, as_of, TaskKind.MOVE_TO_BUFFER, m)
                for m in members
                if batch_of(m, settings.dissolve_weeks) <= week
            ]
            if week == settings.dissolve_weeks - 1:
                tasks.append(_task(settings, group, buffer, as_of, TaskKind.DISSOLVE_GROUP, None))
        created = [(await uow.tasks.add(t))[1] for t in tasks]
        await uow.commit()
    return SunsetOutcome(sum(created), len(created) - sum(created), week)


def _notice(settings: CommunitySettings, group: Group, buffer: Group, as_of: date) -> NewTask:
    due = task_rules.due_on(as_of, settings.task_due_days)
    dissolve_on = add_months(group.opened_on or as_of, 8)
    return NewTask(
        key=f"notice:{group.id}",
        kind=TaskKind.POST_NOTICE,
        group_id=group.id,
        target_group_id=buffer.id,
        as_of=as_of,
        due_on=due,
        assignee=group.steward,
        message=task_rules.message(
            TaskKind.POST_NOTICE, group=group.name, dissolve_on=dissolve_on, target=buffer.name, due=due
        ),
    )


def _task(
    settings: CommunitySettings, group: Group, buffer: Group, as_of: date, kind: TaskKind, member: uuid.UUID | None
) -> NewTask:
    due = task_rules.due_on(as_of, settings.task_due_days)
    key = f"move:{group.id}:{member}" if kind is TaskKind.MOVE_TO_BUFFER else f"dissolve:{group.id}"
    values = {"group": group.name, "target": buffer.name, "due": due, "member": task_rules.short_member(member)}
    return NewTask(
        key=key,
        kind=kind,
        group_id=group.id,
        member_id=member,
        target_group_id=buffer.id,
        as_of=as_of,
        due_on=due,
        assignee=group.steward,
        message=task_rules.message(kind, **values),
    )
