"""opening balances: the opening ledger kind (a brand's imported points)

Revision ID: 7c0e5a1d2f3b
Revises: 2b12fda5963d
Create Date: 2026-12-02 11:30:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

OLD_KINDS = (
    "'adjustment', 'earn_pending', 'pending_released', 'earn', 'pending_cancelled', 'reversal', 'owed', "
    "'owed_settlement', 'owed_settled', 'welcome', 'expiry', 'tier_gift', 'checkin', 'checkin_makeup', "
    "'points_payment', 'points_payment_released', 'birthday'"
)
KINDS = OLD_KINDS + ", 'opening'"

revision: str = "7c0e5a1d2f3b"
down_revision: str | None = "2b12fda5963d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_ledger_entries_kind"), "ledger_entries", schema="loyalty", type_="check")
    op.create_check_constraint(op.f("ck_ledger_entries_kind"), "ledger_entries", f"kind IN ({KINDS})", schema="loyalty")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_ledger_entries_kind"), "ledger_entries", schema="loyalty", type_="check")
    op.create_check_constraint(
        op.f("ck_ledger_entries_kind"), "ledger_entries", f"kind IN ({OLD_KINDS})", schema="loyalty"
    )
