"""Database administration through psql (from the pgserver wheel): create and drop databases on any server.

psql keeps these helpers synchronous and usable from inside a running event loop (pytest fixtures, scripts).
"""

from __future__ import annotations

import re
import subprocess

from sqlalchemy.engine import make_url

from yutang_dev._pgserver import BIN_DIR

__all__ = [
    "DatabaseError",
    "create_database",
    "database_exists",
    "drop_database",
    "libpq_url",
    "psql",
    "validate_name",
    "with_database",
]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_TIMEOUT_SECONDS = 60


class DatabaseError(RuntimeError):
    """A psql command failed; the message carries psql's error output."""


def validate_name(name: str) -> str:
    """Accept only plain identifiers as database names (they are interpolated into SQL)."""
    if not _NAME.match(name):
        raise ValueError(f"invalid database name {name!r}: use letters, digits and underscores")
    return name


def with_database(url: str, database: str) -> str:
    """The same SQLAlchemy URL pointing at another database on the same server."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def libpq_url(url: str, database: str | None = None) -> str:
    """A plain `postgresql://` URL (psql, libpq) from a SQLAlchemy URL such as `postgresql+asyncpg://…`."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def psql(url: str, sql: str) -> str:
    """Run one SQL command with psql against `url` (any driver prefix is dropped); return its unaligned output."""
    argv = [str(BIN_DIR / "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", libpq_url(url), "-c", sql]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise DatabaseError(f"psql timed out after {_TIMEOUT_SECONDS} s running {sql!r}") from exc
    if done.returncode != 0:
        raise DatabaseError(f"psql failed running {sql!r}: {done.stderr.strip()}")
    return done.stdout.strip()


def database_exists(server_url: str, name: str) -> bool:
    """True when database `name` exists on the server `server_url` points at."""
    query = f"SELECT 1 FROM pg_database WHERE datname = '{validate_name(name)}'"  # noqa: S608 (validated name)
    found = psql(libpq_url(server_url, "postgres"), query)
    return found == "1"


def create_database(server_url: str, name: str) -> bool:
    """Create database `name` unless it exists; True when it was created now."""
    if database_exists(server_url, name):
        return False
    try:
        psql(libpq_url(server_url, "postgres"), f'CREATE DATABASE "{validate_name(name)}"')
    except DatabaseError as exc:
        if "already exists" in str(exc):  # another process won the race
            return False
        raise
    return True


def drop_database(server_url: str, name: str) -> None:
    """Drop database `name` if it exists, disconnecting its sessions first."""
    psql(libpq_url(server_url, "postgres"), f'DROP DATABASE IF EXISTS "{validate_name(name)}" WITH (FORCE)')
