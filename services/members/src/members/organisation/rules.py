"""Pure rules for organisation input: codes, names, staff placements and communities."""

from __future__ import annotations

import re
from collections.abc import Iterable

from members.organisation.errors import InvalidOrganisationInput
from members.organisation.models import CODE_LENGTH, NAME_LENGTH, StaffRole

_CODE = re.compile(rf"^[A-Za-z0-9_-]{{1,{CODE_LENGTH}}}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_COMMUNITIES = 100
STORE_ROLES = frozenset({StaffRole.GUIDE, StaffRole.STORE_MANAGER})


def clean_code(raw: str) -> str:
    """A brand code: 1–32 letters, digits, `_` or `-`, as given (codes are case-sensitive)."""
    code = raw.strip()
    if not _CODE.match(code):
        raise InvalidOrganisationInput(f"a code is 1–{CODE_LENGTH} letters, digits, _ or -")
    return code


def clean_name(raw: str, what: str = "name") -> str:
    """A trimmed display name of 1–64 characters without control characters."""
    name = raw.strip()
    if not name or len(name) > NAME_LENGTH or _CONTROL.search(name):
        raise InvalidOrganisationInput(f"{what} must be 1–{NAME_LENGTH} characters without control characters")
    return name


def clean_communities(raw: Iterable[str]) -> list[str]:
    """Distinct community names, at most MAX_COMMUNITIES, in the order given."""
    names = list(dict.fromkeys(clean_name(name, "community") for name in raw))
    if len(names) > MAX_COMMUNITIES:
        raise InvalidOrganisationInput(f"a warehouse serves at most {MAX_COMMUNITIES} communities")
    return names


def check_placement(roles: Iterable[StaffRole], *, store: bool, region: bool) -> list[StaffRole]:
    """Roles, checked against where the staff member works: guides and store managers need a store,
    supervisors a region; nobody has both."""
    distinct = sorted(set(roles), key=list(StaffRole).index)
    if not distinct:
        raise InvalidOrganisationInput("a staff member needs at least one role")
    if store and region:
        raise InvalidOrganisationInput("a staff member works for a store or a region, not both")
    if STORE_ROLES & set(distinct) and not store:
        raise InvalidOrganisationInput("guides and store managers need a store")
    if StaffRole.SUPERVISOR in distinct and not region:
        raise InvalidOrganisationInput("supervisors need a region")
    return distinct
