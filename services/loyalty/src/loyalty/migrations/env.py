"""Alembic environment of the loyalty service."""

from loyalty.config import LoyaltySettings
from yutang_shared.migrations import run_migrations

run_migrations(schema="loyalty", package="loyalty", database_url=LoyaltySettings().database_url)
