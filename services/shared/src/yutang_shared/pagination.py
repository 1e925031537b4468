"""Keyset pagination: opaque cursors as a typed scalar, page sizes capped at MAX_PAGE."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Annotated, NewType

import strawberry
import strawberry.federation

from yutang_shared.errors import BadUserInput

MAX_PAGE = 100
DEFAULT_PAGE = 20


def encode_cursor(*parts: str) -> str:
    """An opaque cursor from the sort key of the last row on a page."""
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[str, ...]:
    """The sort key a cursor carries; ValueError when it was not made by encode_cursor."""
    if not isinstance(value, str) or len(value) > 256:
        raise ValueError("cursor is not valid")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("cursor is not valid") from exc
    if "\x00" in raw or "|" not in raw:
        raise ValueError("cursor is not valid")
    return tuple(raw.split("|"))


CursorValue = NewType("CursorValue", tuple[str, ...])

CURSOR = strawberry.scalar(
    name="Cursor",
    description="An opaque position in a list; pass a page's `endCursor` as `after` to get the next page.",
    serialize=lambda value: encode_cursor(*value),
    parse_value=lambda value: CursorValue(decode_cursor(value)),
)


def cursor_of(at: datetime, id_: uuid.UUID) -> CursorValue:
    """The cursor of a row sorted by (timestamp, id)."""
    return CursorValue((at.isoformat(), str(id_)))


def position_of(after: CursorValue | None) -> tuple[datetime, uuid.UUID] | None:
    """The (timestamp, id) sort key a cursor carries; BadUserInput for a cursor we did not make."""
    if after is None:
        return None
    try:
        at, id_ = after
        return datetime.fromisoformat(at), uuid.UUID(id_)
    except ValueError as exc:
        raise BadUserInput("cursor is not valid") from exc


PageSize = Annotated[int, strawberry.argument(description=f"Page size, 1 to {MAX_PAGE} (clamped).")]
After = Annotated[CursorValue | None, strawberry.argument(description="Continue after this cursor.")]


def page_size(first: int) -> int:
    """Clamp a requested page size to 1..MAX_PAGE."""
    return max(1, min(first, MAX_PAGE))


@strawberry.federation.type(shareable=True, description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when another page follows this one.")
    end_cursor: CursorValue | None = strawberry.field(description="Pass as `after` to fetch the next page.")
