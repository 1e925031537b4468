"""Alembic environment of the community service."""

import community.domain.models  # noqa: F401  (registers the tables)
from community.config import get_settings
from yutang_shared.migrations import run_migrations

run_migrations(schema="community", database_url=get_settings().database_url)
