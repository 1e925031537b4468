"""Unit of work: one transaction per use case, committed explicitly, rolled back on every other exit."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession

from yutang_shared.db import SessionFactory


class UnitOfWork:
    """Owns a session for one use case. Subclasses attach their repositories in `_start`.

    `async with uow: ...; await uow.commit()` — leaving the block without `commit()` rolls everything back,
    so a failed use case never half-writes.
    """

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        """The session of the open unit of work."""
        if self._session is None:
            raise RuntimeError("unit of work is not open: use `async with uow:`")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        self._start(self._session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session, self._session = self.session, None
        try:
            await session.rollback()
        finally:
            await session.close()

    def _start(self, session: AsyncSession) -> None:
        """Hook for subclasses: build repositories over the new session."""

    async def commit(self) -> None:
        """Make the unit's writes durable."""
        await self.session.commit()

    async def rollback(self) -> None:
        """Discard the unit's writes so far and keep the unit open."""
        await self.session.rollback()
