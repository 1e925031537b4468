"""Storm: 16 concurrent workers hammer a few hot members with earns, spends, voids, refunds, expiry runs and
points payments (quotes, captures, voids), 10% of them repeating a key already used; per seed, zero invariant
violations and the totals match a model.

Default: 20 seeds × 1,000 operations (20,000 in all). YUTANG_STORM_SEEDS and YUTANG_STORM_OPS scale it
(e.g. YUTANG_STORM_OPS=20000 for 20,000 per seed).
"""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.lots.service import expire_points
from loyalty.payment.errors import PaymentClosed, QuoteRefused
from loyalty.payment.rules import CashRules
from loyalty.payment.service import capture_points_payment, quote_points_payment, void_points_payment
from loyalty.payment.views import PaymentView
from loyalty.points.lots import ExpiryPolicies
from loyalty.points.models import EntryKind
from loyalty.points.service import post_entries
from loyalty.points.views import Posted, Posting
from tests.loyalty.factories import known_member
from tests.loyalty.lots.support import ACTOR, days, invariant_violations, uow

SEEDS = int(os.environ.get("YUTANG_STORM_SEEDS", "20"))
OPS = int(os.environ.get("YUTANG_STORM_OPS", "1000"))
WORKERS = 16
HOT_MEMBERS = 3
REPEAT = 0.10
POLICIES = [ExpiryPolicies.parse(p) for p in ("default=never", "default=3d", "default=10d", "default=next-year-end")]


@dataclass
class Tally:
    """What the workers saw: first applications per key (points per member), replays, refusals, expiry."""

    applied: dict[str, tuple[uuid.UUID, int]] = field(default_factory=dict)
    applied_twice: list[str] = field(default_factory=list)
    replayed: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    expired: int = 0
    spends: list[Posted] = field(default_factory=list)
    orders: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)
    sent: list[Posting] = field(default_factory=list)
    quotes: list[PaymentView] = field(default_factory=list)
    quote_args: dict[str, tuple[uuid.UUID, int]] = field(default_factory=dict)
    held: int = 0  # points held or captured by quotes, less those voided

    def record(self, posting: Posting, result: Posted | Any) -> None:
        if isinstance(result, Posted):
            if result.replayed:
                self.replayed += 1
                return
            if posting.idempotency_key in self.applied:
                self.applied_twice.append(posting.idempotency_key)
            self.applied[posting.idempotency_key] = (posting.member_id, posting.points)
            if posting.kind is EntryKind.ADJUSTMENT and posting.points < 0:
                self.spends.append(result)
        else:
            self.refused[type(result).__name__] += 1


async def worker(engine: AsyncEngine, rng: random.Random, members: list[uuid.UUID], ops: int, tally: Tally) -> None:
    for n in range(ops):
        roll = rng.random()
        if roll < REPEAT and tally.sent:
            posting = rng.choice(tally.sent)  # the same request under the same key: applies at most once
        elif roll < REPEAT + 0.03:
            expired = await expire_points(uow(engine), as_of=days(rng.randint(0, 12)), shard=0, shards=1)
            tally.expired += expired.points
            continue
        elif roll < REPEAT + 0.13:
            await payment(engine, rng, members, tally, n)
            continue
        else:
            posting = _posting(rng, members, tally, f"{id(tally)}-{rng.random()}-{n}")
            if posting is None:
                continue
        policy = rng.choice(POLICIES)
        (result,) = await post_entries(uow(engine), [posting], actor=ACTOR, expiry=policy)
        tally.sent.append(posting)
        tally.record(posting, result)


async def payment(engine: AsyncEngine, rng: random.Random, members: list[uuid.UUID], tally: Tally, n: int) -> None:
    """A quote (10% of them repeating an earlier quote's key), a capture or a void of an earlier quote."""
    roll = rng.random()
    try:
        if roll < 0.5 or not tally.quotes:
            key = rng.choice(list(tally.quote_args)) if tally.quote_args and rng.random() < REPEAT else None
            key = key or f"q-{id(tally)}-{rng.random()}-{n}"
            member, points = tally.quote_args.setdefault(key, (rng.choice(members), rng.randint(1, 300)))
            view = await quote_points_payment(
                uow(engine),
                member_id=member,
                order_amount_fen=points * 2,
                store_code="S1",
                requested=points,
                quote_key=key,
                actor="storm-till",
                rules=CashRules(min_order_fen=0),
                now=datetime.now(UTC),
            )
            if not view.replayed:
                tally.quotes.append(view)
                tally.held += view.points
        elif roll < 0.75:
            view = rng.choice(tally.quotes)
            await capture_points_payment(
                uow(engine), payment_id=view.id, capture_key=f"c-{view.id}", now=datetime.now(UTC)
            )
        else:
            view = rng.choice(tally.quotes)
            voided = await void_points_payment(uow(engine), payment_id=view.id, now=datetime.now(UTC))
            if not voided.replayed:
                tally.held -= view.points
    except (QuoteRefused, PaymentClosed) as refusal:
        tally.refused[type(refusal).__name__] += 1


def _posting(rng: random.Random, members: list[uuid.UUID], tally: Tally, key: str) -> Posting | None:
    member = rng.choice(members)
    kind = rng.random()
    if kind < 0.35:
        return Posting(member, rng.randint(1, 300), EntryKind.ADJUSTMENT, "storm earn", f"earn-{key}")
    if kind < 0.45:
        order = uuid.uuid4()
        tally.orders.append((member, order))
        return Posting(member, rng.randint(1, 300), EntryKind.EARN, "storm order", f"order-{key}", order)
    if kind < 0.80:
        return Posting(member, -rng.randint(1, 400), EntryKind.ADJUSTMENT, "storm spend", f"spend-{key}")
    if kind < 0.90 and tally.spends:
        spend = rng.choice(tally.spends).entry
        void_key = f"void-{spend.idempotency_key}"  # every void of this spend shares its key
        return Posting(spend.member_id, -spend.points, EntryKind.ADJUSTMENT, "storm void", void_key, restores=spend.id)
    if tally.orders:
        member, order = rng.choice(tally.orders)
        return Posting(member, -rng.randint(1, 100), EntryKind.REVERSAL, "storm refund", f"refund-{key}", order)
    return None


async def totals(engine: AsyncEngine, members: list[uuid.UUID]) -> tuple[int, int, int]:
    """(Σ balances, Σ lots' remaining, entries written by the storm's actor for these members)."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT (SELECT coalesce(sum(balance), 0) FROM loyalty.accounts WHERE member_id = ANY(:m)), "
                    "(SELECT coalesce(sum(remaining), 0) FROM loyalty.point_lots WHERE member_id = ANY(:m)), "
                    "(SELECT count(*) FROM loyalty.ledger_entries WHERE member_id = ANY(:m) AND actor = :a)"
                ),
                {"m": members, "a": ACTOR},
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


@pytest.mark.parametrize("seed", range(SEEDS))
async def test_storm(engine: AsyncEngine, seed: int) -> None:
    members = [await known_member(engine) for _ in range(HOT_MEMBERS)]
    tally = Tally()
    per_worker = OPS // WORKERS

    await asyncio.gather(
        *(worker(engine, random.Random(seed * 1000 + w), members, per_worker, tally) for w in range(WORKERS))
    )

    balance, lots, entries = await totals(engine, members)
    model = sum(points for _, points in tally.applied.values()) - tally.expired - tally.held
    assert tally.applied_twice == []
    assert entries == len(tally.applied)
    assert balance == lots == model >= 0
    assert tally.replayed > 0
    assert tally.refused["InsufficientPoints"] > 0
    assert set(tally.refused) <= {"InsufficientPoints", "IdempotencyKeyReused", "QuoteRefused", "PaymentClosed"}
    assert await invariant_violations(engine) == []
