"""What identity needs from the organisation feature, as a small interface (wired in http.py; the organisation's
implementation is `identity.staff.OrganisationStaff`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StaffClaims:
    """A staff member as a token carries them: id, organisation roles, store and region codes, and whether active."""

    staff_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    stores: frozenset[str] = field(default_factory=frozenset)
    regions: frozenset[str] = field(default_factory=frozenset)
    active: bool = True


class StaffDirectory(Protocol):
    """Finds staff for WeCom logins and token refreshes (None: nobody has that WeCom userid or staff id).

    A lookup reads in a transaction of its own: it is a single read, and the login's own transaction only
    writes the refresh token afterwards."""

    async def by_wecom_userid(self, userid: str) -> StaffClaims | None: ...

    async def by_id(self, staff_id: str) -> StaffClaims | None: ...
