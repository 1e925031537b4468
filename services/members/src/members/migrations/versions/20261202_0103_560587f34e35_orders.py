"""orders, refunds and behaviour events

Revision ID: 560587f34e35
Revises: 8b9b1bffb211
Create Date: 2026-12-02 01:03:14.205820+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "560587f34e35"
down_revision: str | None = "8b9b1bffb211"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "behaviour_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client", sa.String(length=128), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("activity", sa.String(length=64), nullable=True),
        sa.Column("page", sa.String(length=256), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('visit', 'add_to_cart', 'follow_official_account', 'activity_participation', 'message_click')",
            name=op.f("ck_behaviour_events_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.members.id"], name=op.f("fk_behaviour_events_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_behaviour_events")),
        sa.UniqueConstraint("client", "external_id", name=op.f("uq_behaviour_events_client_external_id")),
        schema="members",
    )
    op.create_index(
        "ix_behaviour_events_member_id_occurred_at",
        "behaviour_events",
        ["member_id", "occurred_at"],
        unique=False,
        schema="members",
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client", sa.String(length=128), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("store_code", sa.String(length=32), nullable=False),
        sa.Column("guide", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("discount_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("lines", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("earns_points", sa.Boolean(), nullable=False),
        sa.Column("imported", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "channel IN ('in_store', 'mini_program', 'delivery_platform', 'live_stream', 'community_group', 'e_commerce', 'other')",
            name=op.f("ck_orders_channel"),
        ),
        sa.CheckConstraint("jsonb_typeof(lines) = 'array'", name=op.f("ck_orders_lines_array")),
        sa.CheckConstraint("discount_fen >= 0", name=op.f("ck_orders_discount_not_negative")),
        sa.CheckConstraint("paid_fen > 0", name=op.f("ck_orders_paid_positive")),
        sa.CheckConstraint(
            "refunded_fen >= 0 AND refunded_fen <= paid_fen", name=op.f("ck_orders_refunded_within_paid")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.members.id"], name=op.f("fk_orders_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("client", "external_id", name=op.f("uq_orders_client_external_id")),
        schema="members",
    )
    op.create_index(
        "ix_orders_member_id_occurred_at", "orders", ["member_id", "occurred_at"], unique=False, schema="members"
    )
    op.create_index("ix_orders_occurred_at_id", "orders", ["occurred_at", "id"], unique=False, schema="members")
    op.create_index(
        "ix_orders_store_code_occurred_at", "orders", ["store_code", "occurred_at"], unique=False, schema="members"
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client", sa.String(length=128), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("lines", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_refunds_amount_positive")),
        sa.ForeignKeyConstraint(["order_id"], ["members.orders.id"], name=op.f("fk_refunds_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("client", "external_id", name=op.f("uq_refunds_client_external_id")),
        schema="members",
    )
    op.create_index("ix_refunds_order_id", "refunds", ["order_id"], unique=False, schema="members")


def downgrade() -> None:
    op.drop_index("ix_refunds_order_id", table_name="refunds", schema="members")
    op.drop_table("refunds", schema="members")
    op.drop_index("ix_orders_store_code_occurred_at", table_name="orders", schema="members")
    op.drop_index("ix_orders_occurred_at_id", table_name="orders", schema="members")
    op.drop_index("ix_orders_member_id_occurred_at", table_name="orders", schema="members")
    op.drop_table("orders", schema="members")
    op.drop_index("ix_behaviour_events_member_id_occurred_at", table_name="behaviour_events", schema="members")
    op.drop_table("behaviour_events", schema="members")
