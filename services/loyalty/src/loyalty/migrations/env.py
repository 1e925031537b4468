"""Alembic environment of the loyalty service."""

import loyalty.domain.models  # noqa: F401  (registers the tables)
from loyalty.config import get_settings
from yutang_shared.migrations import run_migrations

run_migrations(schema="loyalty", database_url=get_settings().database_url)
