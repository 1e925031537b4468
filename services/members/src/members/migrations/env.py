"""Alembic environment of the members service."""

from members.config import MembersSettings
from yutang_shared.migrations import run_migrations

run_migrations(schema="members", package="members", database_url=MembersSettings().database_url)
