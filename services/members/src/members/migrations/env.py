"""Alembic environment of the members service."""

import members.domain.models  # noqa: F401  (registers the tables)
from members.config import get_settings
from yutang_shared.migrations import run_migrations

run_migrations(schema="members", database_url=get_settings().database_url)
