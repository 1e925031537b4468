"""`migrate check` compares every constraint of the migrated schemas with the models', CHECKs included."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import CheckConstraint, Constraint, MetaData, Table, UniqueConstraint, text

from yutang_dev import migrate
from yutang_dev.constraints import constraint_drift, model_modules, service_metadata


@pytest.fixture
def metadata() -> MetaData:
    """The services' shared metadata, as `migrate check` loads it (module paths are discovered, not hard-coded)."""
    return service_metadata(migrate.SERVICES)


def named(table: Table, name: str) -> Constraint:
    return next(c for c in table.constraints if c.name == name)


def with_value_added(check: CheckConstraint, value: str) -> str:
    """`kind IN ('a', 'b')` → `kind IN ('a', 'b', '<value>')`: an enum grew a member without a migration."""
    source = str(check.sqltext)
    assert source.endswith(")"), source
    return f"{source[:-1]}, '{value}')"


def test_a_clean_tree_has_no_constraint_drift(database_url: str, metadata: MetaData) -> None:
    assert constraint_drift(database_url, migrate.SERVICES, metadata=metadata) == []


@pytest.mark.parametrize(
    ("table_name", "constraint_name"),
    [("loyalty.ledger_entries", "ck_ledger_entries_kind"), ("community.groups", "ck_groups_type")],
)
def test_an_enum_value_added_without_a_migration_is_drift(
    database_url: str, metadata: MetaData, monkeypatch: pytest.MonkeyPatch, table_name: str, constraint_name: str
) -> None:
    # given: the model's CHECK accepts one more value; the migrations do not know
    table = metadata.tables[table_name]
    check = named(table, constraint_name)
    assert isinstance(check, CheckConstraint)
    before = constraint_drift(database_url, migrate.SERVICES, metadata=metadata)  # unrelated work in progress
    monkeypatch.setattr(check, "sqltext", text(with_value_added(check, "new_value")))

    # when
    drift = [d for d in constraint_drift(database_url, migrate.SERVICES, metadata=metadata) if d not in before]

    # then: exactly that constraint, with both definitions
    schema, table_only = table_name.split(".")
    assert [(d.schema, d.table, d.name) for d in drift] == [(schema, table_only, constraint_name)]
    assert drift[0].migrated is not None
    assert drift[0].models is not None
    assert "new_value" in drift[0].models
    assert "new_value" not in drift[0].migrated
    assert f"{table_name} {constraint_name}: migrations say CHECK" in str(drift[0])


def test_a_constraint_missing_from_the_models_is_drift(
    database_url: str, metadata: MetaData, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the ledger's unique constraint is gone from the model, still in the migrations
    table = metadata.tables["loyalty.ledger_entries"]
    unique = min((c for c in table.constraints if isinstance(c, UniqueConstraint)), key=lambda c: str(c.name))
    before = constraint_drift(database_url, migrate.SERVICES, metadata=metadata)
    monkeypatch.setattr(table, "constraints", table.constraints - {unique})

    drift = [d for d in constraint_drift(database_url, migrate.SERVICES, metadata=metadata) if d not in before]

    assert [(d.name, d.models) for d in drift] == [(unique.name, None)]
    assert drift[0].migrated is not None
    assert drift[0].migrated.startswith("UNIQUE (")


def test_the_metadata_is_restored_after_a_drift_test(database_url: str, metadata: MetaData) -> None:
    """Guards the tests above: monkeypatch put the original constraints back, so later tests see the real models."""
    drift = constraint_drift(database_url, migrate.SERVICES, metadata=metadata)
    assert not [d for d in drift if d.name in {"ck_ledger_entries_kind", "ck_groups_type"}]
    assert not [d for d in drift if d.table == "ledger_entries" and d.models is None]


def test_migrate_check_fails_and_names_the_constraint(
    database_url: str, metadata: MetaData, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given: alembic check is satisfied (it ignores CHECKs) but a CHECK changed in the models
    check = named(metadata.tables["loyalty.ledger_entries"], "ck_ledger_entries_kind")
    assert isinstance(check, CheckConstraint)
    monkeypatch.setattr(check, "sqltext", text(with_value_added(check, "expiry")))

    # when / then: `python -m yutang_dev migrate check` (make drift) exits non-zero through this error
    with caplog.at_level(logging.ERROR, logger="yutang_dev.migrate"), pytest.raises(migrate.MigrationError) as error:
        migrate.check_drift()

    assert "loyalty" in str(error.value)
    assert any("loyalty.ledger_entries ck_ledger_entries_kind" in r.getMessage() for r in caplog.records)


@pytest.fixture
def forget_fakeservice() -> Iterator[None]:
    yield
    for name in [n for n in sys.modules if n == "fakeservice" or n.startswith("fakeservice.")]:
        del sys.modules[name]


@pytest.mark.usefixtures("forget_fakeservice")
def test_models_modules_are_found_wherever_a_feature_keeps_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a service package laid out by feature, with a models module in migrations that must be skipped
    root = tmp_path / "fakeservice"
    for module in ("points/models.py", "groups/models/__init__.py", "migrations/models.py", "models.py"):
        (root / module).parent.mkdir(parents=True, exist_ok=True)
        (root / module).write_text("")
    for package in ("", "points", "groups", "migrations"):
        (root / package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()

    assert model_modules("fakeservice") == [
        "fakeservice.groups.models",
        "fakeservice.models",
        "fakeservice.points.models",
    ]


@pytest.mark.parametrize("service", migrate.SERVICES)
def test_every_service_has_models_in_the_shared_metadata(service: str, metadata: MetaData) -> None:
    assert all(module.endswith(".models") for module in model_modules(service))
    assert any(table.schema == service for table in metadata.tables.values())
