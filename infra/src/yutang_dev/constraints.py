"""Constraint drift that `alembic check` misses: compare every constraint of the migrated schemas with the models'.

Alembic's autogenerate does not compare CHECK constraints, so a CHECK built from an enum (`kind IN (...)`) can
change in a model without a migration and `alembic check` stays silent. This module builds the models' tables with
the DDL `metadata.create_all` would emit into a second scratch database on the same server, reads every constraint
of both databases with `pg_get_constraintdef` (PostgreSQL's canonical form, so no hand-compiled SQL is compared),
and reports each difference by schema, table and constraint name.

The models are found the way the services' Alembic environments find them (every module named `models` in the
service's package), not by fixed module paths, so moving `loyalty.domain.models` to `loyalty.points.models` needs
no change here.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_mock_engine

from yutang_dev import sql

__all__ = [
    "MODELS_DATABASE",
    "ConstraintDrift",
    "constraint_drift",
    "create_model_tables",
    "import_models",
    "models_database",
    "read_constraints",
    "service_metadata",
]

MODELS_DATABASE = "yutang_drift_models"
_SKIPPED_DIRS = {"migrations", "tests", "__pycache__"}

# One JSON array of every constraint in the given schemas (alembic's own version tables aside). Constraint
# triggers (contype 't', e.g. loyalty's deferred balance-is-lots checks) are left out: like plain triggers, they
# live in migrations only (SQL functions), and models cannot declare them.
_READ = """
SELECT coalesce(json_agg(json_build_object(
         'schema', n.nspname, 'table', t.relname, 'name', c.conname,
         'definition', pg_get_constraintdef(c.oid, true))
       ORDER BY n.nspname, t.relname, c.conname), '[]')
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname IN ({schemas}) AND t.relname <> 'alembic_version' AND c.contype <> 't'
"""

Key = tuple[str, str, str]  # schema, table, constraint name


@dataclass(frozen=True, slots=True)
class ConstraintDrift:
    """One constraint that differs: absent on one side (definition None) or defined differently."""

    schema: str
    table: str
    name: str
    migrated: str | None
    models: str | None

    def __str__(self) -> str:
        where = f"{self.schema}.{self.table} {self.name}"
        if self.models is None:
            return f"{where}: only in the migrations: {self.migrated}"
        if self.migrated is None:
            return f"{where}: only in the models: {self.models}"
        return f"{where}: migrations say {self.migrated}\n    but the models say {self.models}"


def model_modules(service: str) -> list[str]:
    """The dotted names of `service`'s table modules: every module named `models` in the package (a `models.py`
    or a `models/` package, at the top or in any feature package), migrations and tests aside."""
    spec = importlib.util.find_spec(service)
    if spec is None or not spec.submodule_search_locations:
        raise LookupError(f"{service}: no importable package named {service!r}")
    found: set[str] = set()
    for location in spec.submodule_search_locations:
        root = Path(location)
        for path in root.rglob("models*"):
            relative = path.relative_to(root)
            if _SKIPPED_DIRS & set(relative.parts) or not _is_models_module(path):
                continue
            found.add(".".join((service, *relative.with_suffix("").parts)))
    if not found:
        raise LookupError(f"{service}: no module named `models` under {', '.join(spec.submodule_search_locations)}")
    return sorted(found)


def _is_models_module(path: Path) -> bool:
    return (path.name == "models.py" and path.is_file()) or (path.name == "models" and (path / "__init__.py").is_file())


def import_models(services: Iterable[str]) -> None:
    """Import every table module of each service, registering its tables in SQLModel's shared metadata.

    Uses the function the services' Alembic environments use (`yutang_shared.migrations.import_models`), so the
    comparison sees exactly the tables `alembic check` sees; looked up at run time, so that a rename there falls
    back to `model_modules` instead of breaking `migrate check`.
    """
    shared = _shared_importer()
    for service in services:
        if shared is not None:
            shared(service)
            continue
        for module in model_modules(service):
            importlib.import_module(module)


def _shared_importer() -> Callable[[str], object] | None:
    alembic_log = logging.getLogger("alembic")
    level = alembic_log.level
    alembic_log.setLevel(logging.WARNING)  # importing alembic logs each plugin it sets up, at INFO
    try:
        module = importlib.import_module("yutang_shared.migrations")
    except ImportError:
        return None
    finally:
        alembic_log.setLevel(level)
    importer = getattr(module, "import_models", None)
    return importer if callable(importer) else None


def service_metadata(services: Iterable[str]) -> MetaData:
    """SQLModel's shared metadata, which every service's tables join once their models are imported."""
    names = list(services)
    import_models(names)
    from sqlmodel import SQLModel

    metadata: MetaData = SQLModel.metadata
    return metadata


def model_ddl(metadata: MetaData, schemas: Iterable[str]) -> list[str]:
    """The PostgreSQL DDL `metadata.create_all` emits for the tables in `schemas`, preceded by CREATE SCHEMA."""
    wanted = list(schemas)
    tables = [table for table in metadata.sorted_tables if table.schema in wanted]
    statements = [f'CREATE SCHEMA IF NOT EXISTS "{sql.validate_name(schema)}"' for schema in wanted]

    def collect(ddl: Any, *_: Any, **__: Any) -> None:
        statements.append(str(ddl.compile(dialect=engine.dialect)).strip())

    engine = create_mock_engine("postgresql://", collect)
    metadata.create_all(engine, tables=tables, checkfirst=False)
    return statements


def create_model_tables(database_url: str, metadata: MetaData, schemas: Iterable[str]) -> None:
    """Create the models' tables of `schemas` in the (empty) database `database_url`, in one transaction."""
    sql.psql(database_url, ";\n".join(model_ddl(metadata, schemas)))


def read_constraints(database_url: str, schemas: Iterable[str]) -> dict[Key, str]:
    """Every constraint in `schemas` as `(schema, table, name) -> pg_get_constraintdef` (whitespace collapsed).

    The definition starts with its kind (`CHECK (...)`, `UNIQUE (...)`, `PRIMARY KEY (...)`, `FOREIGN KEY (...)
    REFERENCES ...`), so comparing definitions compares kind, columns, referenced table and actions at once.
    """
    names = ", ".join(f"'{sql.validate_name(schema)}'" for schema in schemas)
    rows: list[dict[str, str]] = json.loads(sql.psql(database_url, _READ.format(schemas=names)) or "[]")
    return {(row["schema"], row["table"], row["name"]): " ".join(row["definition"].split()) for row in rows}


def compare(migrated: dict[Key, str], models: dict[Key, str]) -> list[ConstraintDrift]:
    """Every constraint whose definition differs or that exists on one side only, sorted by place and name."""
    return [
        ConstraintDrift(*key, migrated=migrated.get(key), models=models.get(key))
        for key in sorted(migrated.keys() | models.keys())
        if migrated.get(key) != models.get(key)
    ]


def constraint_drift(
    migrated_url: str, services: Iterable[str], *, metadata: MetaData | None = None
) -> list[ConstraintDrift]:
    """Compare the constraints of the migrated database `migrated_url` with those the models declare.

    The models' tables are created in a scratch database on the same server, dropped afterwards; `metadata`
    defaults to the services' shared metadata (tests pass a changed one).
    """
    schemas = list(services)
    target = metadata if metadata is not None else service_metadata(schemas)
    with models_database(migrated_url) as models_url:
        create_model_tables(models_url, target, schemas)
        models = read_constraints(models_url, schemas)
    return compare(read_constraints(migrated_url, schemas), models)


@contextmanager
def models_database(server_url: str, name: str = MODELS_DATABASE) -> Iterator[str]:
    """A fresh, empty database `name` on the server of `server_url`, dropped afterwards."""
    sql.drop_database(server_url, name)
    sql.create_database(server_url, name)
    try:
        yield sql.with_database(server_url, name)
    finally:
        sql.drop_database(server_url, name)
