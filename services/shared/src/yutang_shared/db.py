"""Engine and session factory, and the constraint naming convention every schema uses."""

from __future__ import annotations

import weakref

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# All services' tables live in one MetaData, each table in its own service's schema; Alembic filters by schema.
SQLModel.metadata.naming_convention = NAMING_CONVENTION


class Model(SQLModel):
    """Base of every table: subclassing it guarantees the naming convention is in place first."""


SessionFactory = async_sessionmaker[AsyncSession]


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An asyncpg engine with a fixed pool: requests beyond `pool_size` wait for a connection rather than open
    and close one each (overflow), and no ping precedes each checkout (it cost a round trip per transaction).
    After a database restart the first use of each stale connection fails and the pool replaces it.

    `pool_size=0` opens a connection per session (for callers that run each request on a new event loop, like
    synchronous test clients)."""
    if pool_size == 0:
        return create_async_engine(url, poolclass=NullPool)
    return create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=30, pool_recycle=3600)


def session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that keep loaded attributes after commit, so results can be read once the unit of work ends."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


# Keyed by the factory itself, weakly: an id() key could be reused by another engine's factory once one is gone.
_READ_ONLY: weakref.WeakKeyDictionary[SessionFactory, SessionFactory] = weakref.WeakKeyDictionary()


def read_only(sessions: SessionFactory) -> SessionFactory:
    """Sessions on the same engine that read without a transaction (autocommit): a single-statement read needs
    no BEGIN and ROLLBACK around it, two round trips saved. For loaders and other reads only: a write through
    such a session commits statement by statement."""
    found = _READ_ONLY.get(sessions)
    if found is None:
        engine: AsyncEngine = sessions.kw["bind"]
        found = async_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False, autoflush=False
        )
        _READ_ONLY[sessions] = found
    return found
