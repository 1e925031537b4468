"""VIP entry, graduation and review on the real database, with order and tier facts fed to the consumers."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from community.directory.errors import UnknownMember
from community.facts.service import OrderNotKnown, on_order_paid, on_order_refunded, on_tier_changed
from community.groups.errors import WrongPhase
from community.groups.models import GroupType, ScopeKind
from community.groups.rules import add_months
from community.memberships.models import JoinChannel
from community.memberships.service import join_group, membership_pages
from community.tasks.models import TaskKind, TaskStatus
from community.tasks.repository import TaskFilter
from community.tasks.service import complete_task, task_page
from community.uow import CommunityUnitOfWork
from community.vip.errors import NotQualified
from community.vip.models import ExceptionReason
from community.vip.service import apply_for_vip, graduate_batch, grant_entry_exception, review_batch
from tests.community.factories import SETTINGS, known_member, make_group
from yutang_shared.db import SessionFactory, session_factory
from yutang_shared.outbox import Event

TODAY = date(2026, 12, 1)


@pytest.fixture
def sessions(engine: AsyncEngine) -> SessionFactory:
    return session_factory(engine)


async def apply(sessions: SessionFactory, handler: object, event: Event) -> None:
    uow = CommunityUnitOfWork(sessions)
    async with uow:
        await handler(uow, event)  # type: ignore[operator]
        await uow.commit()


def paid(member: uuid.UUID, fen: int, day: date) -> Event:
    at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=3)
    data = {"order_id": str(uuid.uuid4()), "member_id": str(member), "paid_fen": fen, "occurred_at": at.isoformat()}
    return Event(type="order.paid", aggregate_id=data["order_id"], data=data)


def refunded(order: Event, total: int) -> Event:
    data = {"order_id": order.data["order_id"], "total_refunded_fen": total}
    return Event(type="order.refunded", aggregate_id=data["order_id"], data=data)


def tier(member: uuid.UUID, level: str, at: datetime) -> Event:
    data = {
        "member_id": str(member),
        "from_level": "normal",
        "to_level": level,
        "direction": "up",
        "vip_eligible": level != "normal",
        "changed_at": at.isoformat(),
    }
    return Event(type="tier.changed", aggregate_id=str(member), data=data)


async def basic_member(sessions: SessionFactory, group_id: uuid.UUID) -> uuid.UUID:
    member = await known_member(sessions)
    await join_group(CommunityUnitOfWork(sessions), group_id=group_id, member_id=member, channel=JoinChannel.ADS)
    return member


async def open_tasks(sessions: SessionFactory, kind: TaskKind) -> list[object]:
    return await task_page(CommunityUnitOfWork(sessions), TaskFilter(status=TaskStatus.OPEN, kind=kind), limit=100)


async def test_an_application_is_checked_against_orders_refunds_and_tiers(sessions: SessionFactory) -> None:
    basic = await make_group(sessions, opened_on=TODAY)
    await make_group(sessions, group_type=GroupType.VIP)
    buyer, refunder, silver = [await basic_member(sessions, basic.id) for _ in range(3)]
    await apply(sessions, on_order_paid, paid(buyer, 60_000, TODAY))
    order = paid(refunder, 60_000, TODAY)
    await apply(sessions, on_order_paid, order)
    await apply(sessions, on_order_refunded, refunded(order, 20_000))
    await apply(sessions, on_order_refunded, refunded(order, 10_000))  # late, older refund total: no effect
    await apply(sessions, on_tier_changed, tier(silver, "silver", datetime(2026, 11, 1, tzinfo=UTC)))
    await apply(sessions, on_tier_changed, tier(silver, "normal", datetime(2026, 10, 1, tzinfo=UTC)))  # older

    invited = await apply_for_vip(CommunityUnitOfWork(sessions), SETTINGS, member_id=buyer, as_of=TODAY)
    by_tier = await apply_for_vip(CommunityUnitOfWork(sessions), SETTINGS, member_id=silver, as_of=TODAY)
    with pytest.raises(NotQualified) as refused:
        await apply_for_vip(
            CommunityUnitOfWork(sessions), SETTINGS, member_id=refunder, as_of=TODAY, mobile="13800001234"
        )
    with pytest.raises(UnknownMember):
        await apply_for_vip(CommunityUnitOfWork(sessions), SETTINGS, member_id=uuid.uuid4(), as_of=TODAY)

    assert invited.task_id != by_tier.task_id
    assert refused.value.details == {"spent_fen": 40_000, "needed_fen": 50_000}
    assert len(await open_tasks(sessions, TaskKind.INVITE_MEMBER)) == 2


async def test_a_refund_before_the_order_is_retried(sessions: SessionFactory) -> None:
    with pytest.raises(OrderNotKnown):
        await apply(sessions, on_order_refunded, refunded(paid(uuid.uuid4(), 100, TODAY), 100))


async def test_graduation_runs_only_in_months_4_to_6_and_twice_changes_nothing(sessions: SessionFactory) -> None:
    opened = add_months(TODAY, -4)
    basic = await make_group(sessions, opened_on=opened)
    await make_group(sessions, group_type=GroupType.VIP, capacity=1)
    qualified = [await basic_member(sessions, basic.id) for _ in range(3)]
    await basic_member(sessions, basic.id)  # never buys
    for member in qualified:
        await apply(sessions, on_order_paid, paid(member, 50_000, TODAY - timedelta(days=10)))

    with pytest.raises(WrongPhase) as early:
        await graduate_batch(
            CommunityUnitOfWork(sessions), SETTINGS, group_id=basic.id, as_of=TODAY - timedelta(days=40), limit=100
        )
    first = await graduate_batch(CommunityUnitOfWork(sessions), SETTINGS, group_id=basic.id, as_of=TODAY, limit=2)
    rest = await graduate_batch(
        CommunityUnitOfWork(sessions), SETTINGS, group_id=basic.id, as_of=TODAY, limit=3, after=first.next_after
    )
    again = await graduate_batch(CommunityUnitOfWork(sessions), SETTINGS, group_id=basic.id, as_of=TODAY, limit=100)

    assert early.value.details["months"] == 2
    assert (first.scanned + rest.scanned, first.created + rest.created, rest.next_after) == (4, 3, None)
    assert (again.created, again.unchanged, again.skipped) == (0, 3, 1)
    invites = await open_tasks(sessions, TaskKind.INVITE_MEMBER)
    assert len({t.target_group_id for t in invites}) == 2  # type: ignore[attr-defined]
    # the first VIP group had one seat: a second VIP group was planned, once
    assert len(await open_tasks(sessions, TaskKind.CREATE_GROUP)) == 1


async def test_review_warns_then_removes_after_the_grace_into_the_buffer(sessions: SessionFactory) -> None:
    buffer = await make_group(
        sessions,
        group_type=GroupType.BUFFER,
        scope_kind=ScopeKind.WAREHOUSE,
        scope_name="W1",
    )
    vip = await make_group(sessions, group_type=GroupType.VIP, warehouse="W1")
    lapsed, loyal, excepted = [await basic_member(sessions, vip.id) for _ in range(3)]
    await apply(sessions, on_order_paid, paid(loyal, 90_000, TODAY))
    await grant_entry_exception(
        CommunityUnitOfWork(sessions),
        member_id=excepted,
        group_type=GroupType.VIP,
        reason=ExceptionReason.INFLUENCER,
        note=None,
        approver="manager-1",
    )

    warned = await review_batch(CommunityUnitOfWork(sessions), SETTINGS, group_id=vip.id, as_of=TODAY, limit=100)
    twice = await review_batch(CommunityUnitOfWork(sessions), SETTINGS, group_id=vip.id, as_of=TODAY, limit=100)
    in_grace = await review_batch(
        CommunityUnitOfWork(sessions), SETTINGS, group_id=vip.id, as_of=TODAY + timedelta(days=29), limit=100
    )
    removal = await review_batch(
        CommunityUnitOfWork(sessions), SETTINGS, group_id=vip.id, as_of=TODAY + timedelta(days=30), limit=100
    )

    assert (warned.created, twice.created, twice.unchanged, in_grace.created, removal.created) == (1, 0, 1, 0, 1)
    (task,) = await open_tasks(sessions, TaskKind.REMOVE_MEMBER)
    assert (task.member_id, task.target_group_id) == (lapsed, buffer.id)  # type: ignore[attr-defined]
    await complete_task(CommunityUnitOfWork(sessions), task_id=task.id, by="staff-1")  # type: ignore[attr-defined]
    pages = await membership_pages(CommunityUnitOfWork(sessions), [vip.id, buffer.id], limit=10)
    assert {m.member_id for m in pages[vip.id]} == {loyal, excepted}
    assert [m.member_id for m in pages[buffer.id]] == [lapsed]
