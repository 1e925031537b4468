"""orders carry a typed summary of their lines, written with the order by a trigger

The refresh of member insights used to parse every order's JSON lines; each order now carries its line gross,
discounted gross, whether it has a gift line, and its lines' unit prices and amounts (quantity × unit price) as
arrays, filled by a BEFORE INSERT OR UPDATE OF lines trigger, so every writer (recordOrder(s), the bulk import, the
seed, tests' builders) writes them and none can forget. Existing orders are back-filled.

Revision ID: 3c9e1f4a7b21
Revises: ba45bdab5d1f
Create Date: 2026-12-02 11:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "3c9e1f4a7b21"
down_revision: str | None = "ba45bdab5d1f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUMMARISE = """
CREATE FUNCTION members.summarise_order_lines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT coalesce(sum(x.quantity * x.unit_price_fen), 0),
           coalesce(sum(x.quantity * x.unit_price_fen) FILTER (WHERE x.discounted), 0),
           coalesce(bool_or(x.category IN ('gift_card', 'gift_wrap')), false),
           coalesce(array_agg(x.unit_price_fen ORDER BY x.n), '{}'),
           coalesce(array_agg(x.quantity * x.unit_price_fen ORDER BY x.n), '{}')
    INTO NEW.lines_gross_fen, NEW.lines_discounted_fen, NEW.gift_lines, NEW.line_prices_fen, NEW.line_amounts_fen
    FROM ROWS FROM (
        jsonb_to_recordset(NEW.lines) AS (quantity bigint, unit_price_fen bigint, discounted boolean, category text)
    ) WITH ORDINALITY AS x(quantity, unit_price_fen, discounted, category, n);
    RETURN NEW;
END
$$
"""
TRIGGER = """
CREATE TRIGGER summarise_lines BEFORE INSERT OR UPDATE OF lines ON members.orders
FOR EACH ROW EXECUTE FUNCTION members.summarise_order_lines()
"""
COLUMNS = {
    "lines_gross_fen": sa.BigInteger(),
    "lines_discounted_fen": sa.BigInteger(),
    "gift_lines": sa.Boolean(),
    "line_prices_fen": postgresql.ARRAY(sa.BigInteger()),
    "line_amounts_fen": postgresql.ARRAY(sa.BigInteger()),
}


def upgrade() -> None:
    for name, kind in COLUMNS.items():
        op.add_column("orders", sa.Column(name, kind, nullable=True), schema="members")
    op.execute(SUMMARISE)
    op.execute(TRIGGER)
    op.execute("UPDATE members.orders SET lines = lines")  # the back-fill, by the trigger
    for name in COLUMNS:
        op.alter_column("orders", name, nullable=False, schema="members")


def downgrade() -> None:
    op.execute("DROP TRIGGER summarise_lines ON members.orders")
    op.execute("DROP FUNCTION members.summarise_order_lines()")
    for name in COLUMNS:
        op.drop_column("orders", name, schema="members")
