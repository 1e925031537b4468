"""Pure rules for groups: the naming template, scope names and capacities."""

from __future__ import annotations

import unicodedata

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
