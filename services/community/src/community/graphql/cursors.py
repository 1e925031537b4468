"""Keyset cursors of the community lists: (timestamp, id) pairs."""

from __future__ import annotations

import uuid
from datetime import datetime

from yutang_shared.errors import BadUserInput
from yutang_shared.pagination import CursorValue


def cursor_of(at: datetime, id_: uuid.UUID) -> CursorValue:
    """The cursor of a row sorted by (at, id)."""
    return CursorValue((at.isoformat(), str(id_)))


def position_of(after: CursorValue | None) -> tuple[datetime, uuid.UUID] | None:
    """The (at, id) sort key a cursor carries; BadUserInput for a cursor we did not make."""
    if after is None:
        return None
    try:
        at, id_ = after
        return datetime.fromisoformat(at), uuid.UUID(id_)
    except ValueError as exc:
        raise BadUserInput("cursor is not valid") from exc
