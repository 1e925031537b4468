"""The only SQL of identity: OAuth clients, refresh-token families, WeChat logins."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from members.identity.models import OAuthClient, RefreshToken, WechatLogin


def _now() -> datetime:
    return datetime.now(UTC)


class IdentityRepository:
    """Clients, refresh tokens and WeChat logins."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------------------------------ clients

    async def add_client(self, client: OAuthClient) -> OAuthClient:
        self.session.add(client)
        await self.session.flush()
        return client

    async def client(self, client_id: str, *, lock: bool = False) -> OAuthClient | None:
        """The client with that id, revoked or not."""
        statement = select(OAuthClient).where(col(OAuthClient.client_id) == client_id)
        if lock:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def clients(self, *, include_revoked: bool) -> list[OAuthClient]:
        statement = select(OAuthClient).order_by(col(OAuthClient.created_at), col(OAuthClient.client_id))
        if not include_revoked:
            statement = statement.where(col(OAuthClient.revoked_at).is_(None))
        return list((await self.session.execute(statement)).scalars())

    # ------------------------------------------------------------------------------------ refresh tokens

    async def add_refresh_token(self, token: RefreshToken) -> None:
        self.session.add(token)
        await self.session.flush()

    async def refresh_token(self, token_hash: str) -> RefreshToken | None:
        """The token with that hash, locked for this transaction (two refreshes with one token serialise)."""
        statement = select(RefreshToken).where(col(RefreshToken.token_hash) == token_hash).with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def mark_used(self, token_id: uuid.UUID) -> None:
        statement = update(RefreshToken).where(col(RefreshToken.id) == token_id).values(used_at=_now())
        await self.session.execute(statement)

    async def revoke_family(self, family_id: uuid.UUID) -> int:
        """Revoke every live token of the family; how many were live."""
        statement = (
            update(RefreshToken)
            .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
            .values(revoked_at=_now())
        )
        result = await self.session.execute(statement)
        return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE

    # ------------------------------------------------------------------------------------ WeChat logins

    async def wechat_login(self, app_id: str, openid: str, unionid: str | None) -> WechatLogin | None:
        """This app's login for the openid, else (with a unionid) any app's login of that unionid with a member."""
        statement = select(WechatLogin).where(col(WechatLogin.app_id) == app_id, col(WechatLogin.openid) == openid)
        found = (await self.session.execute(statement.with_for_update())).scalar_one_or_none()
        if found is not None or unionid is None:
            return found
        linked = (
            select(WechatLogin)
            .where(col(WechatLogin.unionid) == unionid, col(WechatLogin.member_id).is_not(None))
            .limit(1)
        )
        return (await self.session.execute(linked)).scalar_one_or_none()

    async def add_wechat_login(self, login: WechatLogin) -> WechatLogin:
        self.session.add(login)
        await self.session.flush()
        return login

    async def wechat_login_by_ticket(self, ticket_hash: str) -> WechatLogin | None:
        statement = select(WechatLogin).where(col(WechatLogin.ticket_hash) == ticket_hash).with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def forget_member(self, member_id: uuid.UUID) -> None:
        """Delete the member's WeChat logins and revoke their live refresh tokens."""
        await self.session.execute(delete(WechatLogin).where(col(WechatLogin.member_id) == member_id))
        statement = (
            update(RefreshToken)
            .where(
                col(RefreshToken.role) == "member",
                col(RefreshToken.subject) == str(member_id),
                col(RefreshToken.revoked_at).is_(None),
            )
            .values(revoked_at=_now())
        )
        await self.session.execute(statement)
