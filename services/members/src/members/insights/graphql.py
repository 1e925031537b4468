"""The insights feature in the members subgraph: Member.insights, lifecycleSummary and refreshInsights."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Annotated

import strawberry

from members.access import AuditRefusals, Authorized, member_scope
from members.audit.service import Actor, AuditAs
from members.context import MembersInfo
from members.insights.errors import InsightsErrorCode, InvalidAsOf, InvalidShard
from members.insights.rules import MAX_SHARDS, ConsumerType, Segment, Stage
from members.insights.service import (
    InsightView,
    LifecycleSummary,
    insights_by_member_ids,
    lifecycle_summary,
    refresh_insights,
)
from members.uow import MembersUnitOfWork
from yutang_shared.context import principal_of
from yutang_shared.db import SessionFactory
from yutang_shared.enums import graphql_enum
from yutang_shared.errors import Error, error_handlers

graphql_enum(
    Stage,
    "A member's lifecycle stage (生命周期), recomputed from orders by each refresh; where several rules match, the "
    "first of closed, won back, churned, dormant, at risk, high value, loyal, repeat, new, prospect wins.",
    {
        "PROSPECT": "潜客: registered, never bought.",
        "NEW": "新客: one order, the last within 90 days.",
        "REPEAT": "复购: two or more orders, the last within 90 days.",
        "LOYAL": "忠诚: four or more orders in 365 days, the last within 90 days.",
        "HIGH_VALUE": "高价值: loyal and in the top 20 % of spend.",
        "AT_RISK": "预警: last order 91–180 days ago.",
        "DORMANT": "沉睡: last order 181–365 days ago.",
        "CHURNED": "流失: last order more than 365 days ago.",
        "WON_BACK": "回流: bought again after 181 or more days away; holds 90 days.",
        "CLOSED": "注销: account closed or marketing consent withdrawn.",
    },
)
graphql_enum(
    Segment,
    "An RFM segment: R, F and M compared with the averages of the window's buyers (R↑: more recent than average).",
    {
        "IMPORTANT_VALUE": "重要价值: R↑ F↑ M↑.",
        "IMPORTANT_DEVELOP": "重要发展: R↑ F↓ M↑.",
        "IMPORTANT_KEEP": "重要保持: R↓ F↑ M↑.",
        "IMPORTANT_RETAIN": "重要挽留: R↓ F↓ M↑.",
        "GENERAL_VALUE": "一般价值: R↑ F↑ M↓.",
        "GENERAL_DEVELOP": "一般发展: R↑ F↓ M↓.",
        "GENERAL_KEEP": "一般保持: R↓ F↑ M↓.",
        "GENERAL_RETAIN": "一般挽留: R↓ F↓ M↓.",
    },
)
graphql_enum(
    ConsumerType,
    "A consumer type (消费者类型), computed by its default rule at each refresh.",
    {
        "DISCOUNT": "优惠敏感·折扣型: more than 80 % of spend in the window on discounted lines.",
        "STOCK_UP": "优惠敏感·屯货型: 1–2 orders in the window, average order at least twice the brand's.",
        "CAMPAIGN": "优惠敏感·招徕型: half or more of the window's orders discounted, average order at least the "
        "brand's.",
        "HONOUR": "玩乐·荣誉型: joined a contest (an activity whose code starts with `contest`).",
        "CURIOUS": "玩乐·好奇型: joined a quiz or a new-product activity (`quiz…`, `new_product…`).",
        "UNDECIDED": "从众·犹豫型: added to cart within 90 days with at most one order in the window.",
        "SEEDED": "从众·种草型: came through short video or live streams (KOL content).",
        "GIFTING": "社交·礼赠型: bought a gift card or gift wrap (line category `gift_card` / `gift_wrap`) in the "
        "window.",
        "CIRCLE": "社交·圈子型: gave feedback (`feedback…`) or follows two or more official accounts.",
        "ANXIOUS": "焦虑型: joined a paid course or a health talk (`course…`, `health_talk…`).",
        "SPREADER": "低敏传播: joined a bring-a-friend activity (`bring_friend…`) or came by referral or invitation.",
    },
)
graphql_enum(
    InsightsErrorCode,
    "Codes of the expected errors of member insights.",
    {
        "MEMBERS_INVALID_AS_OF": "The refresh date is after today (Asia/Shanghai).",
        "MEMBERS_INVALID_SHARD": f"shard is not in 0…shards−1, or shards is not in 1…{MAX_SHARDS}.",
    },
)


async def insights_by_member_id(sessions: SessionFactory, ids: Sequence[uuid.UUID]) -> list[InsightView | None]:
    """Members' insights for a batch of members, in one SELECT."""
    return await insights_by_member_ids(MembersUnitOfWork(sessions), ids)


@strawberry.type(description="A member's RFM, lifecycle stage and consumer types as of the last refresh.")
class MemberInsights:
    view: strawberry.Private[InsightView]

    @strawberry.field(description="The date (Asia/Shanghai) of the refresh these figures are as of.")
    def as_of(self) -> date:
        return self.view.as_of

    @strawberry.field(description="R: days since the last order (net of refunds); null when they never bought.")
    def recency_days(self) -> int | None:
        return self.view.recency_days

    @strawberry.field(description="F: orders in the RFM window (365 days by default), fully refunded ones excluded.")
    def frequency(self) -> int:
        return self.view.frequency

    @strawberry.field(description="M: spend in the window in fen, net of refunds.")
    def monetary_fen(self) -> int:
        return self.view.monetary_fen

    @strawberry.field(
        description="R score 1–5 by quintile among the window's buyers (5: most recent); null when "
        "they bought nothing in the window."
    )
    def r_score(self) -> int | None:
        return self.view.r_score

    @strawberry.field(description="F score 1–5 by quintile (5: most orders); null without orders in the window.")
    def f_score(self) -> int | None:
        return self.view.f_score

    @strawberry.field(description="M score 1–5 by quintile (5: most spend); null without orders in the window.")
    def m_score(self) -> int | None:
        return self.view.m_score

    @strawberry.field(description="The RFM segment; null without orders in the window.")
    def segment(self) -> Segment | None:
        return None if self.view.segment is None else Segment(self.view.segment)

    @strawberry.field(description="The lifecycle stage.")
    def lifecycle_stage(self) -> Stage:
        return self.view.stage

    @strawberry.field(description="The refresh date from which the member has been in this stage.")
    def stage_since(self) -> date:
        return self.view.stage_since

    @strawberry.field(description="The largest single order in the window, net, in fen (purchasing power).")
    def largest_order_fen(self) -> int | None:
        return self.view.largest_order_fen

    @strawberry.field(description="Share (0–1) of the window's line spend on discounted lines (price tolerance).")
    def discount_share(self) -> float | None:
        return self.view.discount_share

    @strawberry.field(
        description="Share (0–1) of the window's line spend on premium lines: unit price at or above the brand's "
        "80th percentile of the window."
    )
    def premium_share(self) -> float | None:
        return self.view.premium_share

    @strawberry.field(description="The consumer types the default rules give the member.")
    def consumer_types(self) -> list[ConsumerType]:
        return [ConsumerType(value) for value in self.view.consumer_types]

    @strawberry.field(
        description="Expected repurchase date: the last order plus the member's average interval between orders; "
        "null with fewer than two orders."
    )
    def expected_repurchase_on(self) -> date | None:
        return self.view.expected_repurchase_on


@strawberry.type
class MemberInsightFields:
    """The insights field of Member (a base of profile's Member)."""

    id: uuid.UUID

    @strawberry.field(
        description="The member's RFM, lifecycle stage and consumer types as of the last refresh; null before the "
        "first refresh that included them. Same reach as the member's other fields.",
        permission_classes=[Authorized],
    )
    async def insights(self, info: MembersInfo) -> MemberInsights | None:
        view = await info.context.loaders(insights_by_member_id).load(self.id)
        return None if view is None else MemberInsights(view=view)


@strawberry.type(description="How many members moved between two stages on the last refresh.")
class StageMovement:
    from_stage: Stage | None = strawberry.field(description="The stage they left; null: their first stage.")
    to_stage: Stage = strawberry.field(description="The stage they entered.")
    count: int = strawberry.field(description="How many members.")


@strawberry.type(description="How many members are in one stage.")
class StageCount:
    stage: Stage = strawberry.field(description="The stage.")
    count: int = strawberry.field(description="How many members, within the caller's reach and the filter.")


@strawberry.type(description="The lifecycle table (会员全生命周期表): members per stage and the last refresh's moves.")
class LifecycleSummaryResult:
    summary: strawberry.Private[LifecycleSummary]

    @strawberry.field(description="The date of the latest refresh; null before the first.")
    def as_of(self) -> date | None:
        return self.summary.as_of

    @strawberry.field(description="Every stage with its member count (zero included), in stage order.")
    def stages(self) -> list[StageCount]:
        return [StageCount(stage=stage, count=count) for stage, count in self.summary.counts.items()]

    @strawberry.field(description="Movements between stages on the latest refresh (from null: first stage).")
    def movements(self) -> list[StageMovement]:
        return [
            StageMovement(from_stage=m.from_stage, to_stage=m.to_stage, count=m.count) for m in self.summary.movements
        ]


@strawberry.type(description="A shard of members was refreshed.")
class RefreshInsightsSuccess:
    as_of: date = strawberry.field(description="The refresh date.")
    shard: int = strawberry.field(description="The shard refreshed, 0 … shards − 1.")
    shards: int = strawberry.field(description="How many shards the members are split into.")
    members: int = strawberry.field(description="Members recomputed in this shard.")
    transitions: int = strawberry.field(
        description="Stage transitions written by this call (0 on a re-run of the same date with the same data)."
    )
    events: int = strawberry.field(description="member.stage-changed events written to the outbox.")


@strawberry.type(description="The refresh date is after today (Asia/Shanghai); nothing was written.")
class InvalidAsOfError(Error):
    code: InsightsErrorCode = strawberry.field(description="MEMBERS_INVALID_AS_OF.")
    as_of: date = strawberry.field(description="The refused date.")


@strawberry.type(description="The shard is out of range; nothing was written.")
class InvalidInsightsShardError(Error):
    code: InsightsErrorCode = strawberry.field(description="MEMBERS_INVALID_SHARD.")


RefreshInsightsPayload = Annotated[
    RefreshInsightsSuccess | InvalidAsOfError | InvalidInsightsShardError,
    strawberry.union("RefreshInsightsPayload", description="The outcome of refreshing a shard."),
]

HANDLERS = error_handlers({InvalidAsOf: InvalidAsOfError, InvalidShard: InvalidInsightsShardError})


@strawberry.type
class Query:
    @strawberry.field(
        description="Members per lifecycle stage and the movements of the latest refresh, limited to the members "
        "the caller reaches (staff: their stores; supervisors: their regions; operations: all) and, when given, "
        "to a home store or a region's stores.",
        permission_classes=[Authorized],
    )
    async def lifecycle_summary(
        self,
        info: MembersInfo,
        store_code: Annotated[str | None, strawberry.argument(description="Only members of this home store.")] = None,
        region_code: Annotated[
            str | None, strawberry.argument(description="Only members of this region's stores.")
        ] = None,
    ) -> LifecycleSummaryResult:
        summary = await lifecycle_summary(
            MembersUnitOfWork(info.context.sessions),
            scope=member_scope(info, "Query.lifecycleSummary"),
            store_code=store_code,
            region_code=region_code,
        )
        return LifecycleSummaryResult(summary=summary)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description=f"Recompute RFM, lifecycle stage, stage history and audience facts of one shard of members as of "
        f"a date, set-based in the database, writing member.stage-changed events for the stage changes. Members "
        f"are split by a hash of their id: shards 0 … shards − 1 (1 to {MAX_SHARDS}) cover everyone once. "
        "Idempotent: the same date again gives the same stages and histories and writes no new event. Operations "
        "and services holding insights:write (the lifecycle-refresh flow).",
        permission_classes=[Authorized],
        extensions=[AuditRefusals()],
    )
    async def refresh_insights(
        self,
        info: MembersInfo,
        as_of: Annotated[date, strawberry.argument(description="The date (Asia/Shanghai) to compute as of.")],
        shard: Annotated[int, strawberry.argument(description="This call's shard, 0 … shards − 1.")] = 0,
        shards: Annotated[int, strawberry.argument(description="How many shards in all.")] = 1,
    ) -> RefreshInsightsPayload:
        result = await refresh_insights(
            MembersUnitOfWork(info.context.sessions),
            as_of=as_of,
            shard=shard,
            shards=shards,
            audit=AuditAs(Actor.of(principal_of(info)), info.field_name),
        )
        return RefreshInsightsSuccess(
            as_of=result.as_of,
            shard=result.shard,
            shards=result.shards,
            members=result.members,
            transitions=result.transitions,
            events=result.events,
        )
