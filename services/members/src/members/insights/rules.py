"""Pure rules of member insights: the ten lifecycle stages, the eight RFM segments, the consumer types, and the
thresholds the refresh uses (defaults of DOMAIN.md, configurable)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

BRAND_ZONE = "Asia/Shanghai"  # days are counted in local dates
MAX_SHARDS = 1024


class Stage(StrEnum):
    """The lifecycle stages; where several rules match, the first of `PRECEDENCE` wins."""

    PROSPECT = "prospect"  # 潜客: registered, never bought
    NEW = "new"  # 新客: one order, last ≤ 90 days
    REPEAT = "repeat"  # 复购: ≥ 2 orders, last ≤ 90 days
    LOYAL = "loyal"  # 忠诚: ≥ 4 orders in 365 days, last ≤ 90 days
    HIGH_VALUE = "high_value"  # 高价值: loyal and top 20 % spend
    AT_RISK = "at_risk"  # 预警: last order 91–180 days ago
    DORMANT = "dormant"  # 沉睡: 181–365 days
    CHURNED = "churned"  # 流失: > 365 days
    WON_BACK = "won_back"  # 回流: bought again after ≥ 181 days away; holds 90 days
    CLOSED = "closed"  # 注销: account closed or marketing consent withdrawn


PRECEDENCE = (
    Stage.CLOSED,
    Stage.WON_BACK,
    Stage.CHURNED,
    Stage.DORMANT,
    Stage.AT_RISK,
    Stage.HIGH_VALUE,
    Stage.LOYAL,
    Stage.REPEAT,
    Stage.NEW,
    Stage.PROSPECT,
)


class Segment(StrEnum):
    """The eight RFM segments: each of R, F, M above (↑) or not above (↓) the average of the window's buyers;
    R↑ means more recent than average."""

    IMPORTANT_VALUE = "important_value"  # 重要价值 R↑F↑M↑
    IMPORTANT_DEVELOP = "important_develop"  # 重要发展 R↑F↓M↑
    IMPORTANT_KEEP = "important_keep"  # 重要保持 R↓F↑M↑
    IMPORTANT_RETAIN = "important_retain"  # 重要挽留 R↓F↓M↑
    GENERAL_VALUE = "general_value"  # 一般价值 R↑F↑M↓
    GENERAL_DEVELOP = "general_develop"  # 一般发展 R↑F↓M↓
    GENERAL_KEEP = "general_keep"  # 一般保持 R↓F↑M↓
    GENERAL_RETAIN = "general_retain"  # 一般挽留 R↓F↓M↓


def segment_of(recent: bool, frequent: bool, spends: bool) -> Segment:
    """The segment of R↑/↓, F↑/↓, M↑/↓."""
    table = {
        (True, True, True): Segment.IMPORTANT_VALUE,
        (True, False, True): Segment.IMPORTANT_DEVELOP,
        (False, True, True): Segment.IMPORTANT_KEEP,
        (False, False, True): Segment.IMPORTANT_RETAIN,
        (True, True, False): Segment.GENERAL_VALUE,
        (True, False, False): Segment.GENERAL_DEVELOP,
        (False, True, False): Segment.GENERAL_KEEP,
        (False, False, False): Segment.GENERAL_RETAIN,
    }
    return table[(recent, frequent, spends)]


class ConsumerType(StrEnum):
    """Consumer types (DOMAIN.md's table), each computed by a default rule over the member's facts."""

    DISCOUNT = "discount"  # 优惠敏感·折扣型: > 80 % of spend on discounted lines
    STOCK_UP = "stock_up"  # 优惠敏感·屯货型: ≤ 2 orders in the window, average order ≥ 2 × the brand's
    CAMPAIGN = "campaign"  # 优惠敏感·招徕型: ≥ 50 % of orders with an order discount, average order ≥ the brand's
    HONOUR = "honour"  # 玩乐·荣誉型: joined a contest
    CURIOUS = "curious"  # 玩乐·好奇型: joined a quiz or bought a new product
    UNDECIDED = "undecided"  # 从众·犹豫型: added to cart in 90 days and at most one order in the window
    SEEDED = "seeded"  # 从众·种草型: came through short video / live (KOL content)
    GIFTING = "gifting"  # 社交·礼赠型: bought a gift card or gift wrap, or two orders on holidays
    CIRCLE = "circle"  # 社交·圈子型: gave feedback or follows two or more official accounts
    ANXIOUS = "anxious"  # 焦虑型: joined a paid course or a health talk
    SPREADER = "spreader"  # 低敏传播: joined a bring-a-friend activity or came by referral


@dataclass(frozen=True, slots=True)
class LifecycleConfig:
    """The refresh's thresholds (DOMAIN.md's defaults)."""

    window_days: int = 365  # the RFM window
    active_days: int = 90  # last order within: new / repeat / loyal
    at_risk_days: int = 180  # 91–180: at risk
    dormant_days: int = 365  # 181–365: dormant; beyond: churned
    away_days: int = 181  # a return after this many days away is a win-back
    won_back_days: int = 90  # a win-back holds this long
    loyal_orders: int = 4  # orders in 365 days to be loyal
    top_share: float = 0.2  # high value: the top 20 % spend
    discount_share: float = 0.8  # discount type
    campaign_share: float = 0.5  # campaign type
    stock_up_orders: int = 2  # stock-up type: at most this many orders in the window
    stock_up_factor: float = 2.0  # … and an average order at least this many times the brand's
    undecided_days: int = 90  # undecided type: carted within


DEFAULT_CONFIG = LifecycleConfig()


class ShardOutOfRange(ValueError):
    """`shard` is not in 0 … shards − 1, or `shards` is out of 1 … MAX_SHARDS."""


def check_shard(shard: int, shards: int) -> None:
    """Raises ShardOutOfRange unless 1 ≤ shards ≤ MAX_SHARDS and 0 ≤ shard < shards."""
    if not 1 <= shards <= MAX_SHARDS or not 0 <= shard < shards:
        raise ShardOutOfRange(f"shard must be in 0…shards−1 and shards in 1…{MAX_SHARDS}")


def window_start(as_of: date, config: LifecycleConfig = DEFAULT_CONFIG) -> date:
    """The first local date of the RFM window ending on `as_of` (inclusive)."""
    return as_of - timedelta(days=config.window_days - 1)
