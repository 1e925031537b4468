"""Community service settings (`COMMUNITY_*`), built by the app factory and carried in the request context."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from community.groups.models import GroupType
from community.groups.rules import WECOM_MAX_MEMBERS
from yutang_shared.settings import ServiceSettings


class CommunitySettings(ServiceSettings):
    """`COMMUNITY_DATABASE_URL` (else `DATABASE_URL`), the brand in generated group names, default capacities."""

    model_config = SettingsConfigDict(env_prefix="COMMUNITY_", extra="ignore", frozen=True)

    brand_name: str = Field(default="Yutang", min_length=1, max_length=32)
    capacity_basic: int = Field(default=400, ge=1, le=WECOM_MAX_MEMBERS)
    capacity_vip: int = Field(default=200, ge=1, le=WECOM_MAX_MEMBERS)
    capacity_buffer: int = Field(default=500, ge=1, le=WECOM_MAX_MEMBERS)
    capacity_distributor: int = Field(default=400, ge=1, le=WECOM_MAX_MEMBERS)

    def default_capacity(self, group_type: GroupType) -> int:
        """The capacity a new group of this type gets when none is asked for."""
        capacities: dict[GroupType, int] = {
            GroupType.BASIC: self.capacity_basic,
            GroupType.VIP: self.capacity_vip,
            GroupType.BUFFER: self.capacity_buffer,
            GroupType.DISTRIBUTOR: self.capacity_distributor,
        }
        return capacities[group_type]
