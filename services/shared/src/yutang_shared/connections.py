"""Lists as keyset connections: the Cursor scalar, one generic Connection[T], page sizes and validated cursors."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Generic, NewType, TypeVar

import strawberry
import strawberry.federation

from yutang_shared.errors import BadUserInput

MAX_PAGE = 100
DEFAULT_PAGE = 20
# Positions outside these years cannot come from a row we wrote; asyncpg would overflow on some of them.
_EARLIEST_YEAR, _LATEST_YEAR = 1970, 9000

T = TypeVar("T")
R = TypeVar("R")


def encode_cursor(*parts: str) -> str:
    """An opaque cursor from a list's name and the sort key of the last row on a page."""
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[str, ...]:
    """The parts a cursor carries; ValueError when it was not made by encode_cursor."""
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
    description="An opaque position in one list; pass a page's `endCursor` as `after` to get the next page of "
    "the same list. A cursor of another list is refused.",
    serialize=lambda value: encode_cursor(*value),
    parse_value=lambda value: CursorValue(decode_cursor(value)),
)

PageSize = Annotated[int, strawberry.argument(description=f"Page size, 1 to {MAX_PAGE}.")]
After = Annotated[CursorValue | None, strawberry.argument(description="Continue after this cursor of the same list.")]


def page_size(first: int) -> int:
    """A requested page size, checked: 1..MAX_PAGE, else BadUserInput (nothing is clamped silently)."""
    if not 1 <= first <= MAX_PAGE:
        raise BadUserInput(f"first must be between 1 and {MAX_PAGE}")
    return first


class Keyset:
    """The (timestamp, id) sort key of one named list, written into its cursors and read back checked.

    A cursor carries the list's name, so one list's cursor is refused by another instead of silently paging
    from a position that means something else there.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def cursor(self, at: datetime, id_: uuid.UUID) -> CursorValue:
        """The cursor of a row of this list."""
        return CursorValue((self.name, at.isoformat(), str(id_)))

    def position(self, after: CursorValue | None) -> tuple[datetime, uuid.UUID] | None:
        """The sort key a cursor of this list carries; BadUserInput for any other cursor."""
        if after is None:
            return None
        if len(after) != 3 or after[0] != self.name:
            raise BadUserInput(f"cursor does not belong to the {self.name} list")
        try:
            at, id_ = datetime.fromisoformat(after[1]), uuid.UUID(after[2])
        except ValueError as exc:
            raise BadUserInput("cursor is not valid") from exc
        if at.tzinfo is None or not _EARLIEST_YEAR <= at.year <= _LATEST_YEAR:
            raise BadUserInput("cursor is not valid")
        return at, id_


@strawberry.federation.type(shareable=True, description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when another page follows this one.")
    end_cursor: CursorValue | None = strawberry.field(description="Pass as `after` to fetch the next page.")


@strawberry.type(description="An item of a list and its position in it.")
class Edge(Generic[T]):
    node: T = strawberry.field(description="The item.")
    cursor: CursorValue = strawberry.field(description="Pass as `after` to continue after this item.")


@strawberry.type(description=f"One page of a list, at most {MAX_PAGE} items.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items on this page, in the list's order.")
    page_info: PageInfo = strawberry.field(description="Whether more items follow, and from where.")
    counter: strawberry.Private[Callable[[], Awaitable[int]] | None] = None

    @strawberry.field(
        description="How many items the whole list holds across all pages; counted only when asked for, "
        "null where counting is too costly."
    )
    async def total_count(self) -> int | None:
        return None if self.counter is None else await self.counter()


def page_of(
    rows: Sequence[R],
    first: int,
    *,
    node: Callable[[R], T],
    cursor: Callable[[R], CursorValue],
    counter: Callable[[], Awaitable[int]] | None = None,
) -> Connection[T]:
    """A connection from up to `first + 1` rows in list order: the extra row only says another page follows."""
    edges = [Edge(node=node(row), cursor=cursor(row)) for row in rows[:first]]
    info = PageInfo(has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None)
    return Connection(edges=edges, page_info=info, counter=counter)
