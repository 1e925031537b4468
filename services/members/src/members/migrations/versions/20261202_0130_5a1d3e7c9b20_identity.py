"""identity: oauth clients, refresh tokens, wechat logins

Revision ID: 5a1d3e7c9b20
Revises: 560587f34e35
Create Date: 2026-12-02 01:30:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5a1d3e7c9b20"
down_revision: str | None = "560587f34e35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool) -> sa.Column:  # type: ignore[type-arg]
    default = {} if nullable else {"server_default": sa.text("now()")}
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, **default)


def upgrade() -> None:
    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("allowed_stores", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("rate_limit_per_second", sa.Integer(), nullable=False),
        sa.Column("rate_limit_per_day", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=256), nullable=False),
        _timestamp("created_at", nullable=False),
        _timestamp("secret_rotated_at", nullable=True),
        _timestamp("revoked_at", nullable=True),
        sa.CheckConstraint("role IN ('partner', 'service')", name=op.f("ck_oauth_clients_role")),
        sa.CheckConstraint(
            "rate_limit_per_second > 0 AND rate_limit_per_day > 0", name=op.f("ck_oauth_clients_rate_limits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_oauth_clients_client_id")),
        schema="members",
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        _timestamp("issued_at", nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _timestamp("used_at", nullable=True),
        _timestamp("revoked_at", nullable=True),
        sa.CheckConstraint("role IN ('member', 'staff')", name=op.f("ck_refresh_tokens_role")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["members.refresh_tokens.id"], name=op.f("fk_refresh_tokens_parent_id_refresh_tokens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
        schema="members",
    )
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"], unique=False, schema="members")
    op.create_table(
        "wechat_logins",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("openid", sa.String(length=128), nullable=False),
        sa.Column("unionid", sa.String(length=128), nullable=True),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("ticket_hash", sa.String(length=64), nullable=True),
        _timestamp("ticket_expires_at", nullable=True),
        _timestamp("created_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.members.id"],
            name=op.f("fk_wechat_logins_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_logins")),
        sa.UniqueConstraint("app_id", "openid", name=op.f("uq_wechat_logins_app_id_openid")),
        sa.UniqueConstraint("ticket_hash", name=op.f("uq_wechat_logins_ticket_hash")),
        schema="members",
    )
    op.create_index("ix_wechat_logins_unionid", "wechat_logins", ["unionid"], unique=False, schema="members")


def downgrade() -> None:
    op.drop_index("ix_wechat_logins_unionid", table_name="wechat_logins", schema="members")
    op.drop_table("wechat_logins", schema="members")
    op.drop_index("ix_refresh_tokens_family_id", table_name="refresh_tokens", schema="members")
    op.drop_table("refresh_tokens", schema="members")
    op.drop_table("oauth_clients", schema="members")
