"""Service tests of orders, refunds and behaviour on the real database: idempotency, refusals, concurrency,
events in the outbox and statistics."""

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from members.orders.errors import (
    MemberNotActive,
    OrderConflict,
    RefundConflict,
    RefundExceedsOrder,
    UnknownMember,
    UnknownOrder,
)
from members.orders.service import order_stats, record_behaviour, record_orders, record_refund
from members.orders.views import MemberRef, Recorded, Refunded
from members.pii import MobileVault
from members.profile.models import MemberStatus
from members.uow import MembersUnitOfWork
from tests.members.orders.factories import (
    AN_HOUR_AGO,
    make_behaviour,
    make_member,
    make_order,
    make_refund,
    refund_lines,
)
from yutang_shared.db import session_factory
from yutang_shared.errors import DomainError

CLIENT = "pos-1"


def uow(engine: AsyncEngine) -> MembersUnitOfWork:
    return MembersUnitOfWork(session_factory(engine))


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(text(sql), params)).scalar_one()


async def events(engine: AsyncEngine, kind: str) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT data FROM members.outbox WHERE type = :t ORDER BY seq"), {"t": kind}
        )
        return [row[0] for row in rows]


async def recorded(engine: AsyncEngine, vault: MobileVault, order: Any, client: str = CLIENT) -> Recorded:
    (result,) = await record_orders(uow(engine), vault, [order], client=client)
    assert isinstance(result, Recorded), result
    return result


async def test_an_order_is_recorded_with_its_order_paid_event(engine: AsyncEngine, vault: MobileVault) -> None:
    member = await make_member(engine, vault)

    result = await recorded(engine, vault, make_order(member, external_id="POS-1"))

    assert not result.replayed
    assert result.order.member_id == member
    assert result.order.id.version == 7
    (paid,) = await events(engine, "order.paid")
    assert paid["order_id"] == str(result.order.id)
    assert paid["member_id"] == str(member)
    assert (paid["paid_fen"], paid["channel"], paid["earns_points"], paid["imported"]) == (
        1200,
        "in_store",
        True,
        False,
    )
    assert [c["category"] for c in paid["categories"]] == ["snacks", "tea"]


async def test_the_same_order_twice_is_one_order_and_other_content_is_a_conflict(
    engine: AsyncEngine, vault: MobileVault
) -> None:
    member = await make_member(engine, vault)
    order = make_order(member, external_id="POS-1")
    first = await recorded(engine, vault, order)

    again = await recorded(engine, vault, replace(order, member=MemberRef(mobile="13800138000")))
    (conflict,) = await record_orders(uow(engine), vault, [replace(order, guide="someone-else")], client=CLIENT)
    other_client = await recorded(engine, vault, order, client="pos-2")

    assert again.replayed
    assert again.order.id == first.order.id
    assert isinstance(conflict, OrderConflict)
    assert not other_client.replayed
    assert await scalar(engine, "SELECT count(*) FROM members.orders") == 2
    assert len(await events(engine, "order.paid")) == 2


async def test_unknown_frozen_and_closed_members_are_refused_and_nothing_is_written(
    engine: AsyncEngine, vault: MobileVault
) -> None:
    frozen = await make_member(engine, vault, "13900139000", MemberStatus.FROZEN)
    closed = await make_member(engine, vault, "13700137000", MemberStatus.CLOSED)

    results = await record_orders(
        uow(engine),
        vault,
        [make_order(uuid.uuid4()), make_order(MemberRef(mobile="13600136000")), make_order(frozen), make_order(closed)],
        client=CLIENT,
    )

    assert [type(r) for r in results] == [UnknownMember, UnknownMember, MemberNotActive, MemberNotActive]
    assert await scalar(engine, "SELECT count(*) FROM members.orders") == 0
    assert await events(engine, "order.paid") == []


async def test_a_batch_answers_each_order_and_writes_only_the_good_ones(
    engine: AsyncEngine, vault: MobileVault
) -> None:
    member = await make_member(engine, vault)
    good = make_order(member, external_id="A")

    results = await record_orders(
        uow(engine),
        vault,
        [
            good,
            make_order(member, paid_fen=0),
            good,
            replace(good, paid_fen=1100, discount_fen=400),
            make_order(member),
        ],
        client=CLIENT,
    )

    kinds = [type(r).__name__ for r in results]
    assert kinds == ["Recorded", "InvalidAmount", "Recorded", "OrderConflict", "Recorded"]
    assert isinstance(results[2], Recorded)
    assert results[2].replayed
    assert await scalar(engine, "SELECT count(*) FROM members.orders") == 2


async def test_the_same_order_recorded_concurrently_ten_times_is_one_order(
    engine: AsyncEngine, vault: MobileVault
) -> None:
    member = await make_member(engine, vault)
    order = make_order(member, external_id="RACE-1")
    sessions = session_factory(engine)

    results = await asyncio.gather(
        *(record_orders(MembersUnitOfWork(sessions), vault, [order], client=CLIENT) for _ in range(10))
    )

    outcomes = [result for (result,) in results]
    assert all(isinstance(r, Recorded) for r in outcomes)
    assert len({r.order.id for r in outcomes if isinstance(r, Recorded)}) == 1
    assert sum(not r.replayed for r in outcomes if isinstance(r, Recorded)) == 1
    assert await scalar(engine, "SELECT count(*) FROM members.orders") == 1
    assert len(await events(engine, "order.paid")) == 1


async def test_a_partial_refund_then_the_rest_with_events(engine: AsyncEngine, vault: MobileVault) -> None:
    member = await make_member(engine, vault)
    order = (await recorded(engine, vault, make_order(member))).order

    half = await record_refund(uow(engine), make_refund(order.id, external_id="R1", amount_fen=600), client=CLIENT)
    rest = await record_refund(uow(engine), make_refund(order.id, external_id="R2"), client=CLIENT)

    assert (half.refund.amount_fen, half.order.remaining_fen) == (600, 600)
    assert (rest.refund.amount_fen, rest.order.refunded_fen, rest.order.remaining_fen) == (600, 1200, 0)
    first, second = await events(engine, "order.refunded")
    assert (first["refunded_fen"], first["remaining_fen"], first["paid_fen"]) == (600, 600, 1200)
    assert (second["refunded_fen"], second["remaining_fen"]) == (600, 0)


async def test_refunds_replay_conflict_and_refuse(engine: AsyncEngine, vault: MobileVault) -> None:
    member = await make_member(engine, vault)
    order = (await recorded(engine, vault, make_order(member, external_id="POS-9"))).order
    refund = make_refund(None, external_order_id="POS-9", external_id="R1", amount_fen=500)
    first = await record_refund(uow(engine), refund, client=CLIENT)

    again = await record_refund(uow(engine), refund, client=CLIENT)
    outcomes: list[type[DomainError]] = []
    for attempt in (
        replace(refund, amount_fen=400),
        make_refund(order.id, amount_fen=701),
        make_refund(uuid.uuid4()),
        make_refund(None, external_order_id="POS-9"),  # another client's namespace: unknown to it
    ):
        client = "pos-2" if attempt.external_order_id and attempt.external_id != "R1" else CLIENT
        try:
            await record_refund(uow(engine), attempt, client=client)
        except DomainError as exc:
            outcomes.append(type(exc))

    assert again.replayed
    assert again.refund.id == first.refund.id
    assert outcomes == [RefundConflict, RefundExceedsOrder, UnknownOrder, UnknownOrder]
    assert await scalar(engine, "SELECT refunded_fen FROM members.orders") == 500
    assert len(await events(engine, "order.refunded")) == 1


async def test_refunds_by_lines_never_give_back_more_than_was_bought(engine: AsyncEngine, vault: MobileVault) -> None:
    member = await make_member(engine, vault)
    order = (await recorded(engine, vault, make_order(member))).order  # lines 1 000 + 500, 1 200 paid

    first = await record_refund(uow(engine), make_refund(order.id, lines=refund_lines((1, 1))), client=CLIENT)
    refused: list[type[DomainError]] = []
    try:
        await record_refund(uow(engine), make_refund(order.id, lines=refund_lines((1, 1))), client=CLIENT)
    except DomainError as exc:
        refused.append(type(exc))
    last = await record_refund(uow(engine), make_refund(order.id, lines=refund_lines((2, 1))), client=CLIENT)

    assert first.refund.amount_fen == 800  # 1 000 × 1 200 / 1 500
    assert refused == [RefundExceedsOrder]
    assert (last.refund.amount_fen, last.order.remaining_fen) == (400, 0)


async def test_concurrent_partial_refunds_never_exceed_what_was_paid(engine: AsyncEngine, vault: MobileVault) -> None:
    member = await make_member(engine, vault)
    order = (await recorded(engine, vault, make_order(member))).order
    sessions = session_factory(engine)

    async def refund(n: int) -> Refunded | DomainError:
        try:
            return await record_refund(
                MembersUnitOfWork(sessions), make_refund(order.id, external_id=f"R{n}", amount_fen=500), client=CLIENT
            )
        except DomainError as exc:
            return exc

    results = await asyncio.gather(*(refund(n) for n in range(8)))

    assert sum(isinstance(r, Refunded) for r in results) == 2
    assert all(isinstance(r, Refunded | RefundExceedsOrder) for r in results)
    assert await scalar(engine, "SELECT refunded_fen FROM members.orders") == 1000
    assert await scalar(engine, "SELECT coalesce(sum(amount_fen), 0) FROM members.refunds") == 1000


async def test_a_refund_before_its_order_is_invalid(engine: AsyncEngine, vault: MobileVault) -> None:
    member = await make_member(engine, vault)
    order = (await recorded(engine, vault, make_order(member))).order

    try:
        await record_refund(
            uow(engine), make_refund(order.id, occurred_at=AN_HOUR_AGO - timedelta(days=1)), client=CLIENT
        )
    except DomainError as exc:
        refused = exc.code.value
    assert refused == "MEMBERS_INVALID_REFUND"


async def test_behaviour_is_recorded_once_per_event_id(engine: AsyncEngine, vault: MobileVault) -> None:
    member = await make_member(engine, vault)
    event = make_behaviour(member, external_id="E1")

    first = await record_behaviour(uow(engine), vault, [event, make_behaviour(uuid.uuid4())], client=CLIENT)
    again = await record_behaviour(uow(engine), vault, [event, replace(event, sku="OTHER")], client=CLIENT)

    assert [type(r).__name__ for r in first] == ["Observed", "UnknownMember"]
    assert [type(r).__name__ for r in again] == ["Observed", "BehaviourConflict"]
    assert await scalar(engine, "SELECT count(*) FROM members.behaviour_events") == 1


async def test_stats_are_net_of_refunds(engine: AsyncEngine, vault: MobileVault) -> None:
    member = await make_member(engine, vault)
    nobody = await make_member(engine, vault, "13900139000")
    early = datetime.now(UTC) - timedelta(days=3)
    kept = (await recorded(engine, vault, make_order(member, occurred_at=early))).order
    gone = (await recorded(engine, vault, make_order(member))).order
    await record_refund(uow(engine), make_refund(gone.id), client=CLIENT)
    await record_refund(uow(engine), make_refund(kept.id, amount_fen=200), client=CLIENT)

    stats, none = await order_stats(uow(engine), [member, nobody])

    assert (stats.order_count, stats.total_spent_fen, stats.average_order_fen) == (1, 1000, 1000)
    assert stats.first_order_at == stats.last_order_at == early
    assert (none.order_count, none.total_spent_fen, none.average_order_fen, none.last_order_at) == (0, 0, None, None)
