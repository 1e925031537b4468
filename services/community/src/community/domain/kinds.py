"""The closed vocabularies of the community domain: group types, scopes, roles and join channels."""

from enum import StrEnum


class GroupType(StrEnum):
    """What a group is for."""

    BASIC = "basic"  # 基础群: per region / store / residential community
    VIP = "vip"  # VIP群: invitation only
    BUFFER = "buffer"  # 缓冲群: one per warehouse, takes members of dissolving basic groups
    DISTRIBUTOR = "distributor"  # 分销员群: members who share and sell


class ScopeKind(StrEnum):
    """What kind of place a group serves."""

    REGION = "region"
    STORE = "store"
    COMMUNITY = "community"  # 小区: a residential community
    WAREHOUSE = "warehouse"


class GroupRole(StrEnum):
    """A person's role inside one group."""

    OWNER = "owner"  # 群主 (staff)
    OPINION_LEADER = "opinion_leader"  # 意见领袖 (a member)
    ADMIN = "admin"  # 管理员
    STEWARD = "steward"  # 小管家: the staff member measured on the group's orders
    MEMBER = "member"


class JoinChannel(StrEnum):
    """How a member came into a group; channels differ in speed and member quality."""

    STREET_PROMOTION = "street_promotion"  # 地推
    STORE_QR = "store_qr"  # 门店扫码
    DM_FLYER_QR = "dm_flyer_qr"  # DM 单页扫码
    FRIEND_INVITE = "friend_invite"
    ACTIVITY_PAGE = "activity_page"
    ADS = "ads"
    OFFICIAL_ACCOUNT_MENU = "official_account_menu"  # 公众号菜单
