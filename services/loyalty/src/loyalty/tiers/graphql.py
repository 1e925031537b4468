"""The tiers feature in the loyalty subgraph: the levels, a member's tier and history, and the review."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

import strawberry

from loyalty.context import LoyaltyInfo
from loyalty.dates import local_day
from loyalty.scopes import Scope, requires
from loyalty.tiers.rules import TierLevel, TierRules, next_review, to_next_fen
from loyalty.tiers.service import MAX_BATCH, review_tiers
from loyalty.tiers.views import ChangeView, TierView
from loyalty.uow import LoyaltyUnitOfWork


@strawberry.type(description="What a tier level gives, and what qualifies for it over a rolling 12 months.")
class TierLevelInfo:
    name: str = strawberry.field(description="The level, lower-case (normal, silver, gold, diamond by default).")
    min_spend_fen: int = strawberry.field(description="Qualifying spend (paid less refunded, fen); 0: not used.")
    min_orders: int = strawberry.field(description="Qualifying orders (not wholly refunded); 0: not used.")
    min_points: int = strawberry.field(description="Points earned from orders; 0: not used.")
    earn_multiplier: str = strawberry.field(description="Multiplier on points earned from purchases (e.g. 1.5).")
    upgrade_gift: int = strawberry.field(description="Points given once when a member reaches the level (升级礼).")
    birthday_points: int = strawberry.field(description="Birthday points of the level.")
    vip_eligible: bool = strawberry.field(description="Whether members of the level may join VIP groups.")
    discounts: list[str] = strawberry.field(description="Listed discounts of the level.")
    coupons: list[str] = strawberry.field(description="Exclusive coupon codes of the level.")

    @classmethod
    def of(cls, level: TierLevel) -> TierLevelInfo:
        return cls(
            name=level.name,
            min_spend_fen=level.min_spend_fen,
            min_orders=level.min_orders,
            min_points=level.min_points,
            earn_multiplier=str(level.multiplier),
            upgrade_gift=level.upgrade_gift,
            birthday_points=level.birthday_points,
            vip_eligible=level.vip_eligible,
            discounts=list(level.discounts),
            coupons=list(level.coupons),
        )


@strawberry.type(description="A member's tier (会员等级) as of a date, with the facts it rests on.")
class MemberTierInfo:
    level: str = strawberry.field(description="The level held, lower-case.")
    since: date | None = strawberry.field(description="When the member reached it (null: never changed).")
    qualifying_spend_fen: int = strawberry.field(description="Spend, less refunds, over the 12 months to asOf.")
    qualifying_orders: int = strawberry.field(description="Orders over the 12 months to asOf.")
    qualifying_points: int = strawberry.field(description="Points earned from orders over the 12 months to asOf.")
    next_level: str | None = strawberry.field(description="The next level up (null at the top).")
    to_next_level_fen: int | None = strawberry.field(
        description="Spend still needed for the next level (null at the top or when it has no spend threshold)."
    )
    review_at: date = strawberry.field(description="The next monthly review (the 1st of next month).")
    grace_until: date | None = strawberry.field(
        description="Set when the last review found the member below their level: the level is kept until this "
        "date, then the next review moves them down unless they qualify again (the notice)."
    )
    benefits: TierLevelInfo = strawberry.field(description="The level's benefits.")

    @classmethod
    def of(cls, view: TierView, rules: TierRules) -> MemberTierInfo:
        nxt = rules.next_level(view.level)
        return cls(
            level=view.level,
            since=view.since,
            qualifying_spend_fen=view.facts.spend_fen,
            qualifying_orders=view.facts.orders,
            qualifying_points=view.facts.points,
            next_level=nxt.name if nxt else None,
            to_next_level_fen=to_next_fen(rules, view.level, view.facts),
            review_at=next_review(view.as_of),
            grace_until=view.grace_until,
            benefits=TierLevelInfo.of(rules.level(view.level)),
        )


@strawberry.type(description="One change of a member's tier.")
class TierChangeInfo:
    from_level: str = strawberry.field(description="The level before.")
    to_level: str = strawberry.field(description="The level after.")
    direction: str = strawberry.field(description="`up` or `down`.")
    reason: str = strawberry.field(description="`qualified` (an order lifted them) or `review` (the monthly review).")
    changed_on: date = strawberry.field(description="The local date of the change.")

    @classmethod
    def of(cls, view: ChangeView) -> TierChangeInfo:
        return cls(
            from_level=view.from_level,
            to_level=view.to_level,
            direction=view.direction,
            reason=view.reason,
            changed_on=view.changed_on,
        )


@strawberry.type(description="One batch of the tier review done.")
class ReviewTiersSuccess:
    as_of: date = strawberry.field(description="The date reviewed for (its month is the review period).")
    reviewed: int = strawberry.field(description="Members reviewed now (members already reviewed this period skip).")
    upgraded: int = strawberry.field(description="Members moved up.")
    downgraded: int = strawberry.field(description="Members moved down (their grace had ended).")
    grace_started: int = strawberry.field(description="Members found below their level: grace period started.")
    next_after: uuid.UUID | None = strawberry.field(
        description="Pass as `after` for the next batch; null when this was the last."
    )


@strawberry.type
class Query:
    @strawberry.field(description="The configured tier levels, lowest first. Public.")
    def tier_levels(self, info: LoyaltyInfo) -> list[TierLevelInfo]:
        return [TierLevelInfo.of(level) for level in info.context.settings.tier_rules().levels]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description=f"Review one batch of members (by id after `after`, up to `members`, at most {MAX_BATCH}) on the "
        "12 months up to asOf (default today): upgrade, start grace for those below their level, downgrade those "
        "whose grace ended. Idempotent per review period (the month of asOf). Needs tiers:review.",
        permission_classes=[requires(Scope.TIERS_REVIEW)],
    )
    async def review_tiers(
        self,
        info: LoyaltyInfo,
        as_of: Annotated[date | None, strawberry.argument(description="The local date; default today.")] = None,
        after: Annotated[uuid.UUID | None, strawberry.argument(description="Start after this member id.")] = None,
        members: Annotated[int, strawberry.argument(description="Members in this batch.")] = 200,
    ) -> ReviewTiersSuccess:
        settings = info.context.settings
        reviewed = await review_tiers(
            LoyaltyUnitOfWork(info.context.sessions),
            as_of=local_day(as_of),
            rules=settings.tier_rules(),
            after=after,
            limit=members,
            expiry=settings.expiry_policies(),
        )
        return ReviewTiersSuccess(
            as_of=reviewed.as_of,
            reviewed=reviewed.reviewed,
            upgraded=reviewed.upgraded,
            downgraded=reviewed.downgraded,
            grace_started=reviewed.grace_started,
            next_after=reviewed.next_after,
        )
