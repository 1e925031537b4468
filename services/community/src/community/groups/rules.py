"""Pure rules for groups: the naming template, scope names and capacities."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta
from enum import StrEnum

from community.groups.errors import InvalidGroup

WECOM_MAX_MEMBERS = 500  # WeCom's hard cap on a customer group
NAME_MAX = 64
SCOPE_NAME_MAX = 64
_FORBIDDEN_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn")


def _clean_text(raw: str, *, what: str, limit: int) -> str:
    text = unicodedata.normalize("NFC", raw).strip()
    if not text:
        raise InvalidGroup(f"{what} must not be empty")
    if len(text) > limit:
        raise InvalidGroup(f"{what} must be at most {limit} characters")
    if any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in text):
        raise InvalidGroup(f"{what} must not contain control or unassigned characters")
    return text


def clean_scope_name(raw: str) -> str:
    """The trimmed name of the region, store, community or warehouse a group serves (1..64 characters)."""
    return _clean_text(raw, what="scope name", limit=SCOPE_NAME_MAX)


def clean_group_name(raw: str) -> str:
    """A trimmed explicit group name (1..64 characters, no control characters)."""
    return _clean_text(raw, what="name", limit=NAME_MAX)


def check_capacity(requested: int | None, default: int) -> int:
    """The capacity to use: the requested one, else the type's default; either must be 1..500 (WeCom's cap)."""
    capacity = default if requested is None else requested
    if not 1 <= capacity <= WECOM_MAX_MEMBERS:
        raise InvalidGroup(f"capacity must be between 1 and {WECOM_MAX_MEMBERS}")
    return capacity


def numbered_name(sequence: int, scope_name: str, brand: str) -> str:
    """The name by the house template "number·scope·brand", e.g. "012·翠湖小区·BrandX"."""
    name = f"{sequence:03d}·{scope_name}·{brand}"
    if len(name) > NAME_MAX:
        raise InvalidGroup(f"the generated name {name!r} is longer than {NAME_MAX} characters: give a name")
    return name


QR_JOIN_LIMIT = 200  # WeCom stops honouring a group's QR code at 200 members (then: invite link or staff)
QR_CODE_MAX_GROUPS = 5  # one join QR code (活码) serves at most 5 groups


class Phase(StrEnum):
    """Where a basic group is in its life, by whole months since it opened."""

    BUILD = "build"  # 0–3 建群
    LAYER = "layer"  # 4–6 分层
    NOTICE = "notice"  # 7 通知
    DISSOLVE = "dissolve"  # 8 and later 解散


def months_between(start: date, as_of: date) -> int:
    """Whole calendar months from `start` to `as_of` (0 before the first monthly anniversary; never negative)."""
    months = (as_of.year - start.year) * 12 + as_of.month - start.month
    if as_of.day < start.day and not _is_last_day(as_of):
        months -= 1
    return max(months, 0)


def _is_last_day(day: date) -> bool:
    return (day + timedelta(days=1)).month != day.month


def phase_of(months: int) -> Phase:
    """The lifecycle phase of a basic group `months` whole months after it opened."""
    if months <= 3:
        return Phase.BUILD
    if months <= 6:
        return Phase.LAYER
    return Phase.NOTICE if months == 7 else Phase.DISSOLVE


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the month's last day (Jan 31 + 1 month = Feb 28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = (date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month + 1, min(day.day, last))


def dissolve_week(opened_on: date, as_of: date, weeks: int) -> int:
    """Which weekly batch of the dissolution `as_of` falls in (0 = the first week of month 8), at most weeks − 1."""
    start = add_months(opened_on, 8)
    return min(max((as_of - start).days // 7, 0), weeks - 1)


CHAT_ID_MAX = 128


def clean_chat_id(raw: str) -> str:
    """A WeCom chat id as a steward confirms it: 1..128 printable ASCII characters, trimmed."""
    chat = raw.strip()
    if not chat or len(chat) > CHAT_ID_MAX or not all("!" <= ch <= "~" for ch in chat):
        raise InvalidGroup(f"a chat id is 1 to {CHAT_ID_MAX} printable ASCII characters without spaces")
    return chat
