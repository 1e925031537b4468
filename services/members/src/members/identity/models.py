"""Identity tables (schema `members`): OAuth clients, refresh tokens and WeChat logins linked to members."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "members"


class ClientRole(StrEnum):
    """Who an OAuth client speaks for: a partner system (POS, ERP, …) or one of our own services (flows)."""

    PARTNER = "partner"
    SERVICE = "service"


def _now() -> datetime:
    return datetime.now(UTC)


def _timestamp(nullable: bool) -> Column[datetime]:
    if nullable:
        return Column(DateTime(timezone=True), nullable=True)
    return Column(DateTime(timezone=True), nullable=False, server_default=func.now())


class OAuthClient(Model, table=True):
    """A partner or service client of the token endpoint. Only a slow hash of its secret is stored."""

    __tablename__ = "oauth_clients"
    __table_args__ = (
        CheckConstraint("role IN ('partner', 'service')", name="role"),
        CheckConstraint("rate_limit_per_second > 0 AND rate_limit_per_day > 0", name="rate_limits"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    client_id: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    scopes: list[str] = Field(sa_column=Column(ARRAY(String(64)), nullable=False))
    allowed_stores: list[str] = Field(sa_column=Column(ARRAY(String(64)), nullable=False))
    rate_limit_per_second: int = Field(sa_column=Column(Integer, nullable=False))
    rate_limit_per_day: int = Field(sa_column=Column(Integer, nullable=False))
    secret_hash: str = Field(sa_column=Column(String(256), nullable=False))
    created_at: datetime = Field(default_factory=_now, sa_column=_timestamp(nullable=False))
    secret_rotated_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


class RefreshToken(Model, table=True):
    """One refresh token of a login (a family: the first token and every token rotated from it).

    The token itself is never stored, only its SHA-256. A token is used once (`used_at`); presenting a used token
    again means it leaked, and the whole family is revoked.
    """

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        CheckConstraint("role IN ('member', 'staff')", name="role"),
        Index("ix_refresh_tokens_family_id", "family_id"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    family_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    parent_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.refresh_tokens.id"), nullable=True)
    )
    subject: str = Field(sa_column=Column(String(64), nullable=False))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    issued_at: datetime = Field(default_factory=_now, sa_column=_timestamp(nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


class WechatLogin(Model, table=True):
    """A WeChat identity (an openid of one app, and the brand-wide unionid when WeChat gives it) and the member it
    logs in as. Without a member yet it is a pending login: the mini-program binds a phone (ticket) to finish."""

    __tablename__ = "wechat_logins"
    __table_args__ = (
        UniqueConstraint("app_id", "openid"),
        Index("ix_wechat_logins_unionid", "unionid"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    app_id: str = Field(sa_column=Column(String(64), nullable=False))
    openid: str = Field(sa_column=Column(String(128), nullable=False))
    unionid: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    member_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.members.id", ondelete="CASCADE"), nullable=True),
    )
    ticket_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=True, unique=True))
    ticket_expires_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    created_at: datetime = Field(default_factory=_now, sa_column=_timestamp(nullable=False))
