"""Tier use cases: order facts from members' events, upgrades at once, the monthly review, and reading tiers.

Facts come from `order.paid` / `order.refunded` (the durable consumer `loyalty-tiers` keeps loyalty's own copy in
`tier_orders`), never from the points balance. An order that lifts a member over a threshold upgrades them at once
(with the level's upgrade gift, a ledger entry keyed `tier:<member>:<level>:<year>`, and a `tier.changed` event);
only the review moves a member down, after a grace period. Every computation takes the local date it is for.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial

from loyalty.models import OUTBOX
from loyalty.points.lots import LOCAL, ExpiryPolicies, local_date
from loyalty.points.models import EntryKind
from loyalty.points.service import DEFAULT_EXPIRY, post_entries
from loyalty.points.views import Posting
from loyalty.tiers.models import MemberTier, TierChange
from loyalty.tiers.rules import Facts, TierRules, decide, period, window
from loyalty.tiers.views import ChangeView, Reviewed, TierView
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.errors import DomainError
from yutang_shared.events.consumer import Subscription, durable_name
from yutang_shared.outbox import Event, record

CONSUMER = "tiers"
ACTOR = durable_name("loyalty", CONSUMER)
TIER_CHANGED = "tier.changed"
MAX_BATCH = 500


class GiftRefused(RuntimeError):
    """The ledger refused an upgrade gift (the member is not yet known): the event is retried."""


class UnsupportedEvent(ValueError):
    """An event version this consumer does not understand: retried, then dead-lettered."""


def _bounds(as_of: date) -> tuple[datetime, datetime]:
    first, last = window(as_of)
    return datetime.combine(first, time(), LOCAL), datetime.combine(last + timedelta(days=1), time(), LOCAL)


async def level_of(uow: LoyaltyUnitOfWork, member_id: uuid.UUID) -> str | None:
    """The member's tier level in the open unit of work (None: never qualified for anything)."""
    row = (await uow.tiers.by_member_ids([member_id])).get(member_id)
    return None if row is None else row.level


async def multiplier(uow: LoyaltyUnitOfWork, member_id: uuid.UUID, multipliers: dict[str, Decimal]) -> Decimal:
    """The member's earn multiplier for their tier (1 without a tier)."""
    level = await level_of(uow, member_id)
    return multipliers.get(level, Decimal(1)) if level else Decimal(1)


# ------------------------------------------------------------------------------------------------- events


async def on_order_paid(uow: LoyaltyUnitOfWork, event: Event, *, rules: TierRules, expiry: ExpiryPolicies) -> None:
    """`order.paid` v1: count the order, and upgrade the member at once if it lifts them to a higher level."""
    _require_version(event, 1)
    data = event.data
    member_id, paid_at = uuid.UUID(data["member_id"]), datetime.fromisoformat(data["occurred_at"])
    await uow.tiers.order_paid(uuid.UUID(data["order_id"]), member_id, int(data["paid_fen"]), paid_at)
    await _apply(uow, [member_id], as_of=local_date(paid_at), rules=rules, review=False, expiry=expiry)


async def on_order_refunded(uow: LoyaltyUnitOfWork, event: Event) -> None:
    """`order.refunded` v1: the order counts for less (the review, not the refund, moves the member down)."""
    _require_version(event, 1)
    data = event.data
    await uow.tiers.order_refunded(
        uuid.UUID(data["order_id"]),
        uuid.UUID(data["member_id"]),
        int(data["paid_fen"]),
        int(data["total_refunded_fen"]),
    )


def subscription(rules: TierRules, expiry: ExpiryPolicies = DEFAULT_EXPIRY) -> Subscription[LoyaltyUnitOfWork]:
    """Loyalty's tiers consumer (the durable `loyalty-tiers`) with the configured levels."""
    return Subscription(
        name=CONSUMER,
        source="members",
        handlers={
            "order.paid": partial(on_order_paid, rules=rules, expiry=expiry),
            "order.refunded": on_order_refunded,
        },
    )


# ------------------------------------------------------------------------------------------------- review


async def review_tiers(
    uow: LoyaltyUnitOfWork,
    *,
    as_of: date,
    rules: TierRules,
    after: uuid.UUID | None = None,
    limit: int = 200,
    expiry: ExpiryPolicies = DEFAULT_EXPIRY,
) -> Reviewed:
    """Re-qualify a batch of members (by id after `after`) on the 12 months up to `as_of`: upgrade those above
    their level, start a grace period for those below it, downgrade those whose grace ended. Idempotent per review
    period (a month): a member reviewed in the period is not reviewed again in it."""
    limit = max(1, min(limit, MAX_BATCH))
    async with uow:
        members = await uow.tiers.batch(after=after, limit=limit)
        counts = await _apply(uow, members, as_of=as_of, rules=rules, review=True, expiry=expiry)
        await uow.commit()
    return Reviewed(
        as_of=as_of,
        reviewed=counts["reviewed"],
        upgraded=counts["upgrade"],
        downgraded=counts["downgrade"],
        grace_started=counts["grace"],
        next_after=members[-1] if len(members) == limit else None,
    )


async def _apply(
    uow: LoyaltyUnitOfWork,
    member_ids: Sequence[uuid.UUID],
    *,
    as_of: date,
    rules: TierRules,
    review: bool,
    expiry: ExpiryPolicies,
) -> dict[str, int]:
    counts = dict.fromkeys(("reviewed", "upgrade", "downgrade", "grace", "clear", "keep"), 0)
    if not member_ids:
        return counts
    rows = await uow.tiers.lock(member_ids, lowest=rules.levels[0].name, as_of=as_of)
    facts = await uow.tiers.facts(list(rows), start=_bounds(as_of)[0], stop=_bounds(as_of)[1])
    this_period = period(as_of)
    changed: list[MemberTier] = []
    periods: dict[uuid.UUID, str] = {}
    changes: list[TierChange] = []
    for member_id, row in sorted(rows.items()):
        if review and row.reviewed_period == this_period:
            continue
        qualified = rules.qualified(facts.get(member_id, Facts()))
        decision = decide(
            rules, current=row.level, qualified=qualified.name, grace_until=row.grace_until, as_of=as_of, review=review
        )
        counts["reviewed"] += review
        counts[decision.action] += 1
        if decision.action in ("upgrade", "downgrade"):
            direction = "up" if decision.action == "upgrade" else "down"
            changes.append(
                TierChange(
                    member_id=member_id,
                    from_level=row.level,
                    to_level=decision.to_level,
                    direction=direction,
                    reason="review" if review else "qualified",
                    changed_on=as_of,
                )
            )
            row.level, row.since = decision.to_level, as_of
        row.grace_until = decision.grace_until if decision.action in ("grace", "keep") else None
        changed.append(row)
        if review:
            periods[member_id] = this_period
    await uow.tiers.save(changed, periods)
    if changes:
        await uow.tiers.add_changes(changes)
        await _gifts(uow, [c for c in changes if c.direction == "up"], rules, expiry, retry=not review)
        await record(uow.session, OUTBOX, [_changed(c, rules) for c in changes])
    return counts


async def _gifts(
    uow: LoyaltyUnitOfWork, ups: Sequence[TierChange], rules: TierRules, expiry: ExpiryPolicies, *, retry: bool
) -> None:
    """The upgrade gift of each level reached, once per member, level and year. A refused gift raises GiftRefused
    when `retry` (an event, redelivered later), else is left out (the review goes on)."""
    postings = [
        Posting(
            c.member_id,
            rules.level(c.to_level).upgrade_gift,
            EntryKind.TIER_GIFT,
            f"升级礼 upgrade to {c.to_level}",
            f"tier:{c.member_id}:{c.to_level}:{c.changed_on.year}",
        )
        for c in ups
        if rules.level(c.to_level).upgrade_gift
    ]
    if not postings:
        return
    for posting, result in zip(postings, await post_entries(uow, postings, actor=ACTOR, expiry=expiry), strict=True):
        # A member the directory does not know yet (its member.registered is on its way): retry the event. A closed
        # member gets no gift.
        if isinstance(result, DomainError) and retry and not await uow.earning.is_closed(posting.member_id):
            raise GiftRefused(f"upgrade gift for {posting.member_id}: {type(result).__name__}: {result}")


def _changed(change: TierChange, rules: TierRules) -> Event:
    return Event(
        type=TIER_CHANGED,
        aggregate_id=str(change.member_id),
        data={
            "member_id": str(change.member_id),
            "from_level": change.from_level,
            "to_level": change.to_level,
            "direction": change.direction,
            "vip_eligible": rules.level(change.to_level).vip_eligible,
            "changed_at": datetime.now(UTC).isoformat(),
        },
    )


def _require_version(event: Event, version: int) -> None:
    if event.version != version:
        raise UnsupportedEvent(f"{event.type} v{event.version} is not supported (expected v{version})")


# -------------------------------------------------------------------------------------------------- reads


async def tiers_of(
    uow: LoyaltyUnitOfWork, member_ids: Sequence[uuid.UUID], *, as_of: date, rules: TierRules
) -> list[TierView]:
    """Each member's tier and qualifying facts as of `as_of`, in order (two queries)."""
    async with uow:
        rows = await uow.tiers.by_member_ids(member_ids)
        facts = await uow.tiers.facts(member_ids, start=_bounds(as_of)[0], stop=_bounds(as_of)[1])
    lowest = rules.levels[0].name
    return [
        TierView(
            member_id=m,
            level=rows[m].level if m in rows else lowest,
            since=rows[m].since if m in rows else None,
            grace_until=rows[m].grace_until if m in rows else None,
            facts=facts.get(m, Facts()),
            as_of=as_of,
        )
        for m in member_ids
    ]


async def tier_history(uow: LoyaltyUnitOfWork, member_id: uuid.UUID) -> list[ChangeView]:
    """The member's tier changes, newest first (at most 100)."""
    async with uow:
        rows = await uow.tiers.history(member_id)
    return [ChangeView(r.from_level, r.to_level, r.direction, r.reason, r.changed_on) for r in rows]
