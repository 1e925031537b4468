"""the insights refresh's own functions: members.premium_amount_fen and the aggregate members.bigint_sum

- `members.premium_amount_fen(prices, amounts, threshold)`: an order's line amount at or above a unit price. The
  refresh's facts sum each order's premium amount inline for orders of up to three lines; longer orders took a
  second parallel scan of every order (a subquery per order in the aggregate would keep the whole statement out of
  parallel workers). A function marked PARALLEL SAFE lets the one scan do both.
- `members.bigint_sum(bigint)`: the sum of bigints as a bigint, an overflow being an error (`int8pl`).
  PostgreSQL's `sum(bigint)` returns numeric through a 128-bit state allocated per group and serialised between
  parallel workers; amounts in fen never come near 2⁶³, and a state passed by value makes the facts' per-member
  aggregate smaller (no spill to disk at 1 000 000 members) and cheaper.

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
    op.execute(
        "CREATE AGGREGATE members.bigint_sum(bigint) "
        "(SFUNC = int8pl, STYPE = bigint, COMBINEFUNC = int8pl, PARALLEL = SAFE)"
    )
    op.execute(
        "COMMENT ON AGGREGATE members.bigint_sum(bigint) IS "
        "'The sum as a bigint (an overflow is an error); NULL when no row is summed, as sum.'"
    )


def downgrade() -> None:
    op.execute("DROP AGGREGATE members.bigint_sum(bigint)")
    op.execute("DROP FUNCTION members.premium_amount_fen(bigint[], bigint[], bigint)")
