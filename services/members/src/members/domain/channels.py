"""Source channels (客户来源): where a member was recruited; a dimension of every report."""

from enum import StrEnum


class SourceChannel(StrEnum):
    """How the member first reached the brand."""

    STREET_PROMOTION = "street_promotion"  # 地推
    STORE_QR = "store_qr"  # 门店物料扫码
    DELIVERY_PLATFORM = "delivery_platform"  # 美团 / 京东到家
    LOCAL_LIFE = "local_life"  # 同城
    SHORT_VIDEO_LIVE = "short_video_live"  # 短视频直播
    REFERRAL_CAMPAIGN = "referral_campaign"  # 裂变
    PAY_TO_FOLLOW = "pay_to_follow"  # 支付即关注
    ADS = "ads"  # 广告投放
    OFFICIAL_ACCOUNT_MENU = "official_account_menu"  # 公众号菜单
    FRIEND_INVITE = "friend_invite"
    OTHER = "other"


class MemberStatus(StrEnum):
    """Whether the member can be served."""

    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"
