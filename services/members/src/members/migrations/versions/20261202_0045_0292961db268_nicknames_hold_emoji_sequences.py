"""nicknames hold emoji sequences

Nicknames are limited to 32 user-perceived characters (grapheme clusters), and an emoji such as 👨‍👩‍👧‍👦 is
several code points, so the column (which counts code points) widens from 32 to 400.

Revision ID: 0292961db268
Revises: 6d0588315cfd
Create Date: 2026-12-02 00:45:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0292961db268"
down_revision: str | None = "6d0588315cfd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Widening a varchar is a catalog change in PostgreSQL: no table rewrite, no long lock.
    op.alter_column(
        "members",
        "nickname",
        existing_type=sa.String(length=32),
        type_=sa.String(length=400),
        existing_nullable=True,
        schema="members",
    )


def downgrade() -> None:
    # Fails while a stored nickname is longer than 32 code points; shorten or clear those first.
    op.alter_column(
        "members",
        "nickname",
        existing_type=sa.String(length=400),
        type_=sa.String(length=32),
        existing_nullable=True,
        schema="members",
    )
