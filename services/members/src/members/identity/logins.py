"""Logins of members (WeChat mini-program, H5) and staff (WeCom), and the refresh-token families they start.

A login answers an access token (15 minutes) and a refresh token (30 days). Refreshing uses the refresh token up
and answers a new pair in the same family; presenting a used refresh token again means it was copied, so every
token of the family is revoked. Refresh re-reads the member or staff member, so a frozen member or a staff member
who left stops getting tokens at the next refresh.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from members.audit.models import OK
from members.audit.service import Actor, AuditAction, record, record_refusal
from members.identity.config import IdentitySettings
from members.identity.errors import (
    CodeUsed,
    InvalidCode,
    InvalidGrant,
    InvalidRequest,
    LoginRefused,
    MemberClosed,
    MemberFrozen,
    StaffInactive,
    UnknownStaff,
    UpstreamUnavailable,
)
from members.identity.models import RefreshToken, WechatLogin
from members.identity.ports import StaffClaims, StaffDirectory
from members.identity.rules import new_secret, token_hash
from members.identity.signing import Signer
from members.identity.views import PhoneRequired, TokenPair
from members.identity.wechat import (
    WechatClient,
    WechatCodeUsed,
    WechatError,
    WechatInvalidCode,
    WechatSession,
    WecomClient,
)
from members.pii import MobileVault
from members.profile.models import MemberStatus, SourceChannel
from members.registration.errors import InvalidMobile
from members.registration.service import register_member
from members.uow import MembersUnitOfWork
from yutang_shared.auth import Principal, Role
from yutang_shared.db import SessionFactory
from yutang_shared.logging import request_id_var

log = logging.getLogger(__name__)
T = TypeVar("T")


async def upstream(call: Awaitable[T]) -> T:
    """A WeChat/WeCom call with its errors as login refusals (the code is never part of a message or log)."""
    try:
        return await call
    except WechatInvalidCode as exc:
        raise InvalidCode("the code is invalid or expired; get a new one") from exc
    except WechatCodeUsed as exc:
        raise CodeUsed("the code was already used; get a new one") from exc
    except WechatError as exc:
        log.warning("wechat call failed: %s %s", type(exc).__name__, exc.errcode)
        raise UpstreamUnavailable("WeChat is not answering; try again shortly") from exc


@dataclass
class Logins:
    """The login use cases with what they need: sessions, the vault, the signer, the staff directory, the apps."""

    sessions: SessionFactory
    vault: MobileVault
    signer: Signer
    settings: IdentitySettings
    staff: StaffDirectory
    mini_program: WechatClient | None
    official_account: WechatClient | None
    wecom: WecomClient | None

    def uow(self) -> MembersUnitOfWork:
        return MembersUnitOfWork(self.sessions)

    # --------------------------------------------------------------------------------------------- members

    async def wechat_login(self, client: WechatClient | None, code: str, *, h5: bool) -> TokenPair | PhoneRequired:
        """Log a WeChat user in: tokens when they are a member, else a ticket to bind their phone with.

        Raises InvalidCode, CodeUsed, UpstreamUnavailable, MemberClosed, MemberFrozen; then nothing is written.
        """
        if client is None:
            raise UpstreamUnavailable("WeChat login is not configured")
        try:
            session: WechatSession = await upstream(client.oauth_code(code) if h5 else client.code_to_session(code))
        except LoginRefused as error:
            error.by(client.app_id)
            raise
        async with self.uow() as uow:
            login = await uow.identity.wechat_login(client.app_id, session.openid, session.unionid)
            if login is not None and login.member_id is not None:
                principal = await self._member(uow, login.member_id)
                if login.app_id != client.app_id:  # known through the unionid from another app: remember this one
                    await uow.identity.add_wechat_login(
                        WechatLogin(
                            app_id=client.app_id,
                            openid=session.openid,
                            unionid=session.unionid,
                            member_id=login.member_id,
                        )
                    )
                await link_profile(uow, login.member_id, client.app_id, session.openid, session.unionid)
                pair = await self._start_family(uow, principal)
                await audit(uow, principal, AuditAction.LOGIN)
                await uow.commit()
                log.info("member logged in", extra={"member_id": principal.subject, "via": "h5" if h5 else "mp"})
                return pair
            if login is None:
                login = await uow.identity.add_wechat_login(
                    WechatLogin(app_id=client.app_id, openid=session.openid, unionid=session.unionid)
                )
            ticket = new_secret()
            login.ticket_hash = token_hash(ticket)
            login.unionid = login.unionid or session.unionid
            ttl = timedelta(minutes=self.settings.login_ticket_minutes)
            login.ticket_expires_at = datetime.now(UTC) + ttl
            await uow.commit()
        return PhoneRequired(login_ticket=ticket, expires_in=int(ttl.total_seconds()))

    async def bind_phone(self, *, login_ticket: str, code: str, source_channel: SourceChannel) -> TokenPair:
        """Finish a first login: the phone number WeChat gives for `code` registers the member (or finds the member
        already registered with it), the WeChat login is linked to them, and tokens are answered.

        Raises InvalidGrant (unknown or expired ticket), InvalidCode, CodeUsed, UpstreamUnavailable, InvalidRequest
        (not a mainland mobile), MemberClosed, MemberFrozen.
        """
        if self.mini_program is None:
            raise UpstreamUnavailable("WeChat login is not configured")
        app, hashed = self.mini_program.app_id, token_hash(login_ticket)
        try:
            async with self.uow() as uow:
                openid = (await self._pending(uow, hashed)).openid
        except LoginRefused as error:
            error.by(app)
            raise
        caller = self.vault.pseudonym("wechat-openid", openid)
        try:
            phone = await upstream(self.mini_program.phone_number(code))
            registration = await register_member(
                self.uow(), self.vault, mobile=phone.number, nickname=None, source_channel=source_channel
            )
        except InvalidMobile as exc:
            raise InvalidRequest("only mainland China mobile numbers can register").by(app, caller) from exc
        except LoginRefused as error:
            error.by(app, caller)
            raise
        async with self.uow() as uow:
            login = await self._pending(uow, hashed)
            principal = await self._member(uow, registration.member.id)
            login.member_id = registration.member.id
            await link_profile(uow, registration.member.id, login.app_id, login.openid, login.unionid)
            login.ticket_hash = None
            login.ticket_expires_at = None
            pair = await self._start_family(uow, principal)
            await audit(uow, principal, AuditAction.LOGIN)
            await uow.commit()
        log.info("member bound a phone", extra={"member_id": principal.subject, "new_member": registration.created})
        return pair

    async def _pending(self, uow: MembersUnitOfWork, hashed: str) -> WechatLogin:
        login = await uow.identity.wechat_login_by_ticket(hashed)
        expires = login.ticket_expires_at if login is not None else None
        if login is None or login.member_id is not None or expires is None or expires <= datetime.now(UTC):
            raise InvalidGrant("the login ticket is unknown or expired; log in again")
        return login

    async def _member(self, uow: MembersUnitOfWork, member_id: uuid.UUID) -> Principal:
        principal = Principal(subject=str(member_id), role=Role.MEMBER)
        rows = await uow.members.by_ids([member_id])
        if not rows or rows[0].status == MemberStatus.CLOSED.value:
            raise MemberClosed("this membership is closed").of(principal)
        if rows[0].status == MemberStatus.FROZEN.value:
            raise MemberFrozen("this membership is frozen; contact the store").of(principal)
        return principal

    # ----------------------------------------------------------------------------------------------- staff

    async def wecom_login(self, code: str) -> TokenPair:
        """Log a staff member in with a WeCom OAuth code. Raises InvalidCode, CodeUsed, UpstreamUnavailable,
        UnknownStaff (not staff of the brand), StaffInactive (left or deactivated)."""
        if self.wecom is None:
            raise UpstreamUnavailable("WeCom login is not configured")
        corp = self.wecom.corp_id
        try:
            userid = await upstream(self.wecom.user_id(code))
        except LoginRefused as error:
            error.by(corp)
            raise
        if userid is None:
            raise UnknownStaff("this WeCom user is not a member of the brand's corp").by(corp)
        try:
            principal = self._staff(await self.staff.by_wecom_userid(userid))
        except LoginRefused as error:
            error.by(corp, self.vault.pseudonym("wecom-userid", userid))
            raise
        async with self.uow() as uow:
            pair = await self._start_family(uow, principal)
            await audit(uow, principal, AuditAction.LOGIN)
            await uow.commit()
        log.info("staff logged in", extra={"staff_id": principal.subject})
        return pair

    @staticmethod
    def _staff(claims: StaffClaims | None) -> Principal:
        if claims is None:
            raise UnknownStaff("this WeCom user is not staff of the brand")
        if not claims.active:
            raise StaffInactive("this staff member is no longer active").of(
                Principal(subject=claims.staff_id, role=Role.STAFF)
            )
        return Principal(
            subject=claims.staff_id,
            role=Role.STAFF,
            stores=claims.stores,
            regions=claims.regions,
            staff_roles=claims.roles,
        )

    # ------------------------------------------------------------------------------------ refresh, logout

    async def refresh(self, refresh_token: str) -> TokenPair:
        """A new pair for a live refresh token, which is used up. A used token presented again revokes its whole
        family (and is refused); unknown, expired or revoked tokens are refused with InvalidGrant."""
        async with self.uow() as uow:
            row = await uow.identity.refresh_token(token_hash(refresh_token))
            if row is None or row.revoked_at is not None:
                raise InvalidGrant("the refresh token is unknown or revoked; log in again")
            if row.used_at is not None:
                revoked = await uow.identity.revoke_family(row.family_id)
                await audit(uow, _holder(row), AuditAction.REFRESH, outcome="refresh_token_reused")
                await uow.commit()
                log.warning("refresh token reused: family revoked", extra={"family": str(row.family_id), "n": revoked})
                reused = InvalidGrant("the refresh token was already used; every token of this login is revoked")
                reused.audited = True  # above, as refresh_token_reused, with the revocation
                raise reused.of(_holder(row))
            if row.expires_at <= datetime.now(UTC):
                raise InvalidGrant("the refresh token expired; log in again").of(_holder(row))
            principal = await self._current(uow, row)
            await uow.identity.mark_used(row.id)
            pair = await self._issue(uow, principal, family_id=row.family_id, parent_id=row.id)
            await audit(uow, principal, AuditAction.REFRESH)
            await uow.commit()
        return pair

    async def logout(self, refresh_token: str) -> None:
        """Revoke the refresh token's family; unknown tokens change nothing (logout is idempotent)."""
        async with self.uow() as uow:
            row = await uow.identity.refresh_token(token_hash(refresh_token))
            if row is not None:
                await uow.identity.revoke_family(row.family_id)
                await audit(uow, _holder(row), AuditAction.LOGOUT)
                await uow.commit()

    async def _current(self, uow: MembersUnitOfWork, row: RefreshToken) -> Principal:
        if row.role == Role.MEMBER.value:
            return await self._member(uow, uuid.UUID(row.subject))
        return self._staff(await self.staff.by_id(row.subject))

    async def _start_family(self, uow: MembersUnitOfWork, principal: Principal) -> TokenPair:
        return await self._issue(uow, principal, family_id=uuid.uuid4(), parent_id=None)

    async def _issue(
        self, uow: MembersUnitOfWork, principal: Principal, *, family_id: uuid.UUID, parent_id: uuid.UUID | None
    ) -> TokenPair:
        access_ttl = timedelta(minutes=self.settings.access_token_minutes)
        refresh_ttl = timedelta(days=self.settings.refresh_token_days)
        refresh = new_secret()
        await uow.identity.add_refresh_token(
            RefreshToken(
                token_hash=token_hash(refresh),
                family_id=family_id,
                parent_id=parent_id,
                subject=principal.subject,
                role=principal.role.value,
                expires_at=datetime.now(UTC) + refresh_ttl,
            )
        )
        return TokenPair(
            access_token=self.signer.sign(principal, access_ttl),
            expires_in=int(access_ttl.total_seconds()),
            refresh_token=refresh,
            refresh_expires_in=int(refresh_ttl.total_seconds()),
            subject=principal.subject,
        )


async def link_profile(
    uow: MembersUnitOfWork, member_id: uuid.UUID, app_id: str, openid: str, unionid: str | None
) -> None:
    """Keep the member's WeChat ids on their profile (in the login's transaction), so memberByWechat finds them
    and staff see them: the openid of this app, and the unionid unless the member has one already or it belongs
    to another member (then it stays where it is, and the login still answers for this member)."""
    row = await uow.members.for_update(member_id)
    if row is None:
        return
    if unionid and row.wechat_unionid is None and not await uow.members.unionid_taken(unionid, member_id):
        row.wechat_unionid = unionid
    await uow.members.add_openid(member_id, app_id, openid)
    await uow.members.flush()


async def audit(uow: MembersUnitOfWork, principal: Principal, action: AuditAction, *, outcome: str = OK) -> None:
    """An audit entry for a login, refresh, logout or token issue, in the caller's transaction: the principal is
    both the actor and the target."""
    await record(
        uow,
        Actor.of(principal),
        action=action,
        target_type=principal.role.value,
        target_ids=(principal.subject,),
        outcome=outcome,
    )


async def audit_refusal(
    sessions: SessionFactory, action: AuditAction, error: LoginRefused, *, target_type: str
) -> None:
    """An audit entry for a refused login, refresh, logout or token request, in a transaction of its own: the
    refused principal when known is actor and target; else the actor is the caller's pseudonym (a keyed hash of
    their openid or WeCom userid) when known, or `anonymous`, with role `anonymous` and the app they came
    through (WeChat app id, WeCom corp id) as client. The outcome is the error code answered. Nothing the caller
    sent (code, ticket, token, secret) and no identifier in clear is recorded."""
    if error.audited:
        return
    who = error.subject
    unknown = Actor(error.caller or "anonymous", "anonymous", error.app, request_id_var.get())
    actor = Actor.of(who) if who is not None else unknown
    await record_refusal(
        sessions,
        actor,
        action=action,
        target_type=who.role.value if who is not None else target_type,
        target_id=who.subject if who is not None else None,
        code=error.code,
    )


def _holder(row: RefreshToken) -> Principal:
    """Whom a refresh token was issued to (its subject and role), as the audit log names them."""
    return Principal(subject=row.subject, role=Role(row.role))


async def forget_member(uow: MembersUnitOfWork, member_id: uuid.UUID) -> None:
    """For closing a member (in the caller's transaction): their WeChat logins are deleted (the ids are personal
    data) and their refresh tokens revoked, so they cannot log in or refresh again."""
    await uow.identity.forget_member(member_id)
