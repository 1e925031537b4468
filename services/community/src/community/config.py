"""Community service settings (`COMMUNITY_*`), built by the app factory and carried in the request context."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from community.groups.models import GroupType
from community.groups.rules import WECOM_MAX_MEMBERS
from yutang_shared.settings import ServiceSettings


class CommunitySettings(ServiceSettings):
    """`COMMUNITY_DATABASE_URL` (else `DATABASE_URL`), the brand in generated group names, default capacities, the
    VIP entry rule and review grace, and task deadlines."""

    model_config = SettingsConfigDict(env_prefix="COMMUNITY_", extra="ignore", frozen=True)

    brand_name: str = Field(default="Yutang", min_length=1, max_length=32)
    capacity_basic: int = Field(default=400, ge=1, le=WECOM_MAX_MEMBERS)
    capacity_vip: int = Field(default=200, ge=1, le=WECOM_MAX_MEMBERS)
    capacity_buffer: int = Field(default=500, ge=1, le=WECOM_MAX_MEMBERS)
    capacity_distributor: int = Field(default=400, ge=1, le=WECOM_MAX_MEMBERS)

    # The VIP entry rule (also what the monthly review re-checks): spend, net of refunds, of at least
    # vip_min_spend_fen within the last vip_spend_window_days, or a loyalty tier of at least vip_min_tier (when
    # loyalty has told community the member's tier; empty: tiers do not qualify anyone).
    vip_min_spend_fen: int = Field(default=50_000, ge=0)
    vip_spend_window_days: int = Field(default=90, ge=1, le=3660)
    vip_min_tier: Literal["", "silver", "gold", "diamond"] = "silver"
    # Monthly review: days between a warning and the removal; where removed VIPs go.
    vip_review_grace_days: int = Field(default=30, ge=0, le=366)
    vip_removed_to_buffer: bool = True
    # Operator tasks: days a task has before it is due; weeks over which month 8 dissolves a group's members.
    task_due_days: int = Field(default=3, ge=0, le=90)
    dissolve_weeks: int = Field(default=4, ge=1, le=4)

    def default_capacity(self, group_type: GroupType) -> int:
        """The capacity a new group of this type gets when none is asked for."""
        capacities: dict[GroupType, int] = {
            GroupType.BASIC: self.capacity_basic,
            GroupType.VIP: self.capacity_vip,
            GroupType.BUFFER: self.capacity_buffer,
            GroupType.DISTRIBUTOR: self.capacity_distributor,
        }
        return capacities[group_type]
