"""The body of every service's Alembic env.py: one schema, its own version table, async engine."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from typing import Any

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel


def _filters(schema: str) -> dict[str, Any]:
    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        return name == schema if type_ == "schema" else True

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return obj.schema == schema if type_ == "table" else True

    return {
        "target_metadata": SQLModel.metadata,
        "version_table_schema": schema,
        "include_schemas": True,
        "include_name": include_name,
        "include_object": include_object,
        "compare_type": True,
        "compare_server_default": True,
    }


def import_models(package: str) -> None:
    """Import every `models` module of a service's feature packages, so their tables are in the MetaData."""
    root = importlib.import_module(package)
    for module in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if module.name.rsplit(".", 1)[-1] == "models":
            importlib.import_module(module.name)


def run_migrations(*, schema: str, package: str, database_url: str) -> None:
    """Run Alembic for `schema` only; other services' tables in the shared MetaData are ignored."""
    import_models(package)
    if context.is_offline_mode():
        context.configure(url=database_url, literal_binds=True, **_filters(schema))
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: Connection) -> None:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        connection.commit()
        context.configure(connection=connection, **_filters(schema))
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(database_url, poolclass=NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(main())
