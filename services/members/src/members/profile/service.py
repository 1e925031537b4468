"""Profile use cases: reading members (by id, mobile, WeChat ids, in pages within the caller's scope), changing
their profile, guide, consent and status, and closing them (erasing their personal data).

Every change is audited in its own transaction and publishes `member.updated` (non-personal facts: status, home
store, guide, consent) or `member.closed` through the outbox in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from members.audit.service import Actor, record
from members.authorization import MemberScope
from members.identity.logins import forget_member
from members.organisation.errors import NotAGuide, StaffInactive, UnknownStaff, UnknownStore
from members.organisation.models import Staff, StaffRole
from members.pii import MobileVault
from members.profile import events
from members.profile.errors import (
    InvalidProfile,
    MemberClosed,
    MemberFrozen,
    MobileTaken,
    UnknownMember,
    WechatIdTaken,
)
from members.profile.models import ConsentChannel, ConsentState, Gender, Member, MemberStatus
from members.profile.repository import MemberFilter
from members.profile.rules import check_birthday, clean_avatar_url, clean_text
from members.profile.views import LoginState, MemberView, WechatOpenidView
from members.registration.errors import InvalidNickname
from members.registration.rules import clean_nickname, mask_mobile, normalise_mobile
from members.uow import MembersUnitOfWork

# ------------------------------------------------------------------------------------------------- reads


async def members_by_ids(uow: MembersUnitOfWork, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, MemberView]:
    """The members among `ids` that exist, keyed by id, in one query."""
    async with uow:
        return {row.id: MemberView.of(row) for row in await uow.members.rows_by_ids(ids)}


async def list_members(
    uow: MembersUnitOfWork,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None = None,
    where: MemberFilter | None = None,
    scope: MemberScope | None = None,
) -> list[MemberView]:
    """Up to `limit` members in registration order after a position, matching `where`, within `scope`."""
    async with uow:
        rows = await uow.members.page(limit=limit, after=after, where=where, scope=scope)
        return [MemberView.of(row) for row in rows]


async def count(uow: MembersUnitOfWork, where: MemberFilter | None = None, scope: MemberScope | None = None) -> int:
    """How many members match `where` within `scope`, in one query."""
    async with uow:
        return await uow.members.count(where, scope)


async def openids_by_member(
    uow: MembersUnitOfWork, member_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[WechatOpenidView]]:
    """Each member's openids (per WeChat app), in one query."""
    found: dict[uuid.UUID, list[WechatOpenidView]] = {member_id: [] for member_id in member_ids}
    async with uow:
        for row in await uow.members.openids_of(member_ids):
            found[row.member_id].append(WechatOpenidView(app_id=row.app_id, openid=row.openid))
    return found


async def member_by_mobile(uow: MembersUnitOfWork, vault: MobileVault, mobile: str) -> MemberView | None:
    """The member registered with `mobile` (normalised, then looked up by its keyed fingerprint: an index
    lookup, never a scan). Raises InvalidMobile for a malformed number."""
    fingerprint = vault.fingerprint(normalise_mobile(mobile))
    async with uow:
        row = await uow.members.find_by_fingerprint(fingerprint)
        return None if row is None else MemberView.of(row)


async def member_by_wechat(
    uow: MembersUnitOfWork, *, unionid: str | None = None, app_id: str | None = None, openid: str | None = None
) -> MemberView | None:
    """The member with that WeChat unionid, or that openid in that app (identity finds members at login so)."""
    async with uow:
        row = None
        if unionid:
            row = await uow.members.by_unionid(unionid)
        elif app_id and openid:
            row = await uow.members.by_openid(app_id, openid)
        return None if row is None else MemberView.of(row)


async def link_wechat(
    uow: MembersUnitOfWork,
    *,
    member_id: uuid.UUID,
    unionid: str | None = None,
    app_id: str | None = None,
    openid: str | None = None,
) -> MemberView:
    """Attach WeChat ids to a member (identity calls this at login). Raises UnknownMember, MemberClosed, or
    WechatIdTaken when an id belongs to another member; nothing changes then."""
    async with uow:
        row = await _changeable(uow, member_id, frozen_ok=True)
        if unionid:
            if await uow.members.unionid_taken(unionid, member_id):
                raise WechatIdTaken("the unionid belongs to another member")
            row.wechat_unionid = unionid
        if app_id and openid and not await uow.members.add_openid(member_id, app_id, openid):
            raise WechatIdTaken("the openid belongs to another member")
        await uow.members.flush()
        view = MemberView.of(row)
        await uow.commit()
    return view


async def member_login_state(uow: MembersUnitOfWork, member_id: uuid.UUID) -> LoginState | None:
    """Whether the member may log in: only active members may (frozen and closed ones are refused). None for an
    unknown member."""
    async with uow:
        rows = await uow.members.by_ids([member_id])
        if not rows:
            return None
        status = MemberStatus(rows[0].status)
    return LoginState(member_id=member_id, status=status, can_log_in=status is MemberStatus.ACTIVE)


# ------------------------------------------------------------------------------------------------ writes


async def _changeable(uow: MembersUnitOfWork, member_id: uuid.UUID, *, frozen_ok: bool = False) -> Member:
    row = await uow.members.for_update(member_id)
    if row is None:
        raise UnknownMember(f"no member has the id {member_id}")
    if row.status == MemberStatus.CLOSED:
        raise MemberClosed("the member's account is closed")
    if row.status == MemberStatus.FROZEN and not frozen_ok:
        raise MemberFrozen("the member is frozen")
    return row


async def _finish(
    uow: MembersUnitOfWork, actor: Actor, action: str, row: Member, changed: list[str], extra: list[Any] | None = None
) -> MemberView:
    """Flush, publish the events, audit and commit; the member as committed."""
    if extra is None:
        extra = []
    await uow.members.flush()
    published = ([events.updated(row, changed)] if changed else []) + extra
    await events.publish(uow.session, published)
    await record(uow, actor, action=action, target_type="member", target_ids=(row.id,))
    view = MemberView.of(row)
    await uow.commit()
    return view


# What a member may change about themself; staff may also move the home store.
MEMBER_EDITABLE = frozenset({"nickname", "avatar_url", "gender", "birthday", "city", "occupation"})
STAFF_EDITABLE = MEMBER_EDITABLE | {"home_store_code"}


def _nickname(raw: str | None) -> str | None:
    try:
        return clean_nickname(raw)
    except InvalidNickname as error:
        raise InvalidProfile(error.message) from error


def _cleaned(changes: Mapping[str, Any]) -> dict[str, Any]:
    cleaners: dict[str, Any] = {
        "nickname": _nickname,
        "avatar_url": clean_avatar_url,
        "gender": lambda g: (g or Gender.UNKNOWN).value,
        "birthday": check_birthday,
        "city": lambda v: clean_text(v, "city"),
        "occupation": lambda v: clean_text(v, "occupation"),
        "home_store_code": lambda v: v,
    }
    return {name: cleaners[name](value) for name, value in changes.items()}


async def update_profile(
    uow: MembersUnitOfWork, actor: Actor, *, member_id: uuid.UUID, changes: Mapping[str, Any]
) -> MemberView:
    """Change the given profile fields (names in STAFF_EDITABLE; None clears one). The caller decides which
    fields it may change. Raises InvalidNickname, InvalidProfile, InvalidBirthday, UnknownStore, UnknownMember,
    MemberFrozen or MemberClosed; nothing changes then."""
    values = _cleaned(changes)
    async with uow:
        row = await _changeable(uow, member_id)
        store = values.get("home_store_code")
        if store is not None and await uow.organisation.store_by_code(store) is None:
            raise UnknownStore(f"no store has the code {store!r}")
        changed = (
            ["home_store"] if "home_store_code" in values and values["home_store_code"] != row.home_store_code else []
        )
        if "birthday" in values and values["birthday"] != row.birthday:
            changed.append("birthday")
        for name, value in values.items():
            setattr(row, name, value)
        return await _finish(uow, actor, "updateMemberProfile", row, changed)


async def change_mobile(
    uow: MembersUnitOfWork, vault: MobileVault, actor: Actor, *, member_id: uuid.UUID, mobile: str
) -> MemberView:
    """Bind a new mobile to a member (the number WeChat confirmed for them): its ciphertext, mask and keyed
    fingerprint replace the old ones, so the old number may register again. One member per mobile: a number
    registered to another member raises MobileTaken (also when a concurrent change takes it first: the unique
    fingerprint decides). The same number again changes nothing. Publishes `member.updated` with `changed:
    ["mobile"]` (the number itself is not in the event). Raises InvalidMobile, MobileTaken, UnknownMember,
    MemberFrozen or MemberClosed; nothing changes then."""
    normalised = normalise_mobile(mobile)
    fingerprint = vault.fingerprint(normalised)
    async with uow:
        row = await _changeable(uow, member_id)
        if row.mobile_fingerprint == fingerprint:
            return await _finish(uow, actor, "changeMyMobile", row, [])
        holder = await uow.members.find_by_fingerprint(fingerprint)
        if holder is not None:
            raise MobileTaken("the mobile number is registered to another member")
        row.mobile_fingerprint = fingerprint
        row.mobile_ciphertext = vault.seal(normalised)
        row.mobile_masked = mask_mobile(normalised)
        try:
            await uow.members.flush()
        except IntegrityError as error:  # registered by someone else between our read and this write
            raise MobileTaken("the mobile number is registered to another member") from error
        return await _finish(uow, actor, "changeMyMobile", row, ["mobile"])


async def assign_guide(
    uow: MembersUnitOfWork, actor: Actor, *, member_id: uuid.UUID, guide_id: uuid.UUID | None
) -> MemberView:
    """Make a staff member the member's exclusive guide (专属导购), or none. Raises UnknownStaff, StaffInactive,
    NotAGuide, UnknownMember, MemberFrozen, MemberClosed."""
    async with uow:
        row = await _changeable(uow, member_id)
        if guide_id is not None:
            guide = await uow.organisation.get(Staff, guide_id)
            if guide is None:
                raise UnknownStaff(f"no staff member has the id {guide_id}")
            if not guide.active:
                raise StaffInactive("the guide has left")
            if StaffRole.GUIDE.value not in guide.roles:
                raise NotAGuide("the staff member is not a guide")
        changed = ["guide"] if row.guide_id != guide_id else []
        row.guide_id = guide_id
        return await _finish(uow, actor, "assignGuide", row, changed)


async def set_marketing_consent(
    uow: MembersUnitOfWork, actor: Actor, *, member_id: uuid.UUID, given: bool, channel: ConsentChannel
) -> MemberView:
    """Record marketing consent given or withdrawn, when and through which channel. Frozen members may still
    withdraw or give consent. Raises UnknownMember or MemberClosed."""
    async with uow:
        row = await _changeable(uow, member_id, frozen_ok=True)
        row.consent = (ConsentState.GIVEN if given else ConsentState.WITHDRAWN).value
        row.consent_at = datetime.now(UTC)
        row.consent_channel = channel.value
        return await _finish(uow, actor, "setMarketingConsent", row, ["consent"])


async def set_status(
    uow: MembersUnitOfWork, actor: Actor, *, member_id: uuid.UUID, status: MemberStatus, action: str
) -> MemberView:
    """Freeze (ACTIVE → FROZEN) or unfreeze (FROZEN → ACTIVE) a member; doing it twice changes nothing more.
    Raises UnknownMember or MemberClosed."""
    async with uow:
        row = await _changeable(uow, member_id, frozen_ok=True)
        changed = ["status"] if row.status != status else []
        row.status = status.value
        return await _finish(uow, actor, action, row, changed)


async def close_member(uow: MembersUnitOfWork, actor: Actor, *, member_id: uuid.UUID) -> MemberView:
    """Close a member's account and erase their personal data (PIPL deletion): mobile (ciphertext, mask and
    fingerprint, so the number can register again as a new member), nickname, avatar, gender, birthday, city,
    occupation, WeChat ids; the guide link is dropped and marketing consent withdrawn. The id and the anonymous
    facts (source channel, registration time and store, home store, orders and points history elsewhere) stay.
    Raises UnknownMember or MemberClosed."""
    async with uow:
        row = await _changeable(uow, member_id, frozen_ok=True)
        now = datetime.now(UTC)
        changed = ["status", "guide", "consent"] + (["birthday"] if row.birthday is not None else [])
        for name in (
            "mobile_fingerprint",
            "mobile_ciphertext",
            "mobile_masked",
            "nickname",
            "avatar_url",
            "birthday",
            "city",
            "occupation",
            "wechat_unionid",
            "guide_id",
        ):
            setattr(row, name, None)
        row.gender = Gender.UNKNOWN.value
        row.status = MemberStatus.CLOSED.value
        row.closed_at = now
        if row.consent is not None:
            row.consent, row.consent_at = ConsentState.WITHDRAWN.value, now
        await uow.members.erase_wechat_ids(member_id)
        await forget_member(uow, member_id)  # their WeChat logins go, their refresh tokens stop working
        return await _finish(uow, actor, "closeMember", row, changed, [events.closed(row, now)])
