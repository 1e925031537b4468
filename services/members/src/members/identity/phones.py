"""A logged-in member binds or changes their mobile with the code of the mini-program's `getPhoneNumber` button:
WeChat's `getuserphonenumber` confirms the number, and the profile keeps one member per mobile."""

from __future__ import annotations

import logging
import uuid

from members.audit.service import Actor
from members.identity.errors import WechatCodeAlreadyUsed, WechatCodeRefused, WechatUnavailable
from members.identity.wechat import WechatClient, WechatCodeUsed, WechatError, WechatInvalidCode
from members.pii import MobileVault
from members.profile import service as profile
from members.profile.errors import InvalidProfile, MemberClosed, MemberFrozen, UnknownMember
from members.profile.models import MemberStatus
from members.profile.views import MemberView
from members.registration.errors import InvalidMobile
from members.uow import MembersUnitOfWork
from yutang_shared.db import SessionFactory

log = logging.getLogger(__name__)


async def change_my_mobile(
    sessions: SessionFactory,
    vault: MobileVault,
    client: WechatClient | None,
    actor: Actor,
    *,
    member_id: uuid.UUID,
    phone_code: str,
) -> MemberView:
    """Give the member the mobile WeChat confirms for `phone_code` (their own number, which they agreed to
    share). The member's state is checked before the code is spent, and again under the row lock when the number
    is written. Raises UnknownMember, MemberFrozen, MemberClosed (checked first), WechatCodeRefused,
    WechatCodeAlreadyUsed, WechatUnavailable, InvalidProfile (not a mainland China mobile) or MobileTaken
    (another member's number); nothing changes then. The code is never logged."""
    state = await profile.member_login_state(MembersUnitOfWork(sessions), member_id)
    if state is None:
        raise UnknownMember(f"no member has the id {member_id}")
    if state.status is MemberStatus.CLOSED:
        raise MemberClosed("the member's account is closed")
    if state.status is MemberStatus.FROZEN:
        raise MemberFrozen("the member is frozen")
    if client is None:
        raise WechatUnavailable("WeChat is not configured for this service")
    try:
        phone = await client.phone_number(phone_code)
    except WechatInvalidCode as error:
        raise WechatCodeRefused("WeChat does not know this phone code; ask the member again") from error
    except WechatCodeUsed as error:
        raise WechatCodeAlreadyUsed("this phone code was already used; ask the member again") from error
    except WechatError as error:
        log.warning("wechat phone number failed: %s %s", type(error).__name__, error.errcode)
        raise WechatUnavailable("WeChat is not answering; try again shortly") from error
    try:
        if phone.country_code not in ("86", "+86"):
            raise InvalidMobile("only mainland China mobile numbers can be bound")
        return await profile.change_mobile(
            MembersUnitOfWork(sessions), vault, actor, member_id=member_id, mobile=phone.number
        )
    except InvalidMobile as error:  # the profile's error, so the payload's errors share one code enum
        raise InvalidProfile("only mainland China mobile numbers can be bound") from error
