"""idempotency keys belong to the caller: unique per (actor, key) instead of globally

Revision ID: 3f1d2c9a7b10
Revises: 8c9bfb182c17
Create Date: 2026-12-02 01:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3f1d2c9a7b10"
down_revision: str | None = "8c9bfb182c17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_unique_constraint(
        op.f("uq_ledger_entries_actor_idempotency_key"),
        "ledger_entries",
        ["actor", "idempotency_key"],
        schema="loyalty",
    )
    op.drop_constraint(op.f("uq_ledger_entries_idempotency_key"), "ledger_entries", schema="loyalty", type_="unique")


def downgrade() -> None:
    # Fails if two callers have used the same key since the upgrade; that is the point of the upgrade.
    op.create_unique_constraint(
        op.f("uq_ledger_entries_idempotency_key"), "ledger_entries", ["idempotency_key"], schema="loyalty"
    )
    op.drop_constraint(
        op.f("uq_ledger_entries_actor_idempotency_key"), "ledger_entries", schema="loyalty", type_="unique"
    )
