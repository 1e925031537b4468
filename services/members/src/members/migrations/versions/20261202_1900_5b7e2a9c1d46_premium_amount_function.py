"""members.premium_amount_fen: an order's line amount at or above a unit price, as a parallel-safe function

The refresh's facts sum each order's premium amount inline for orders of up to three lines; longer orders took a
second parallel scan of every order (a subquery per order in the aggregate would keep the whole statement out of
parallel workers). A function marked PARALLEL SAFE lets the one scan do both.

Revision ID: 5b7e2a9c1d46
Revises: 7d2b8e0c4f13
Create Date: 2026-12-02 19:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5b7e2a9c1d46"
down_revision: str | None = "7d2b8e0c4f13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE FUNCTION members.premium_amount_fen(prices bigint[], amounts bigint[], threshold bigint) "
        "RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE "
        "RETURN (SELECT coalesce(sum(x.amount), 0) FROM unnest(prices, amounts) AS x(unit, amount) "
        "WHERE x.unit >= threshold)"
    )
    op.execute(
        "COMMENT ON FUNCTION members.premium_amount_fen(bigint[], bigint[], bigint) IS "
        "'The sum of the amounts whose unit price is at or above threshold (an order''s premium spend).'"
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION members.premium_amount_fen(bigint[], bigint[], bigint)")
