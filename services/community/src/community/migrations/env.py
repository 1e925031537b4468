"""Alembic environment of the community service."""

from community.config import CommunitySettings
from yutang_shared.migrations import run_migrations

run_migrations(schema="community", package="community", database_url=CommunitySettings().database_url)
