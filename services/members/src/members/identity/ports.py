"""What identity needs from the organisation and audit features, as small interfaces (wired in http.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from members.uow import MembersUnitOfWork


@dataclass(frozen=True, slots=True)
class StaffClaims:
    """A staff member as a token carries them: id, organisation roles, store and region codes, and whether active."""

    staff_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    stores: frozenset[str] = field(default_factory=frozenset)
    regions: frozenset[str] = field(default_factory=frozenset)
    active: bool = True


class StaffDirectory(Protocol):
    """Finds staff for WeCom logins and token refreshes (the organisation feature's `staff_claims`)."""

    async def by_wecom_userid(self, uow: MembersUnitOfWork, userid: str) -> StaffClaims | None: ...

    async def by_id(self, uow: MembersUnitOfWork, staff_id: str) -> StaffClaims | None: ...


class NoStaff:
    """The directory while the organisation feature is absent: nobody is staff, so staff logins are refused."""

    async def by_wecom_userid(self, uow: MembersUnitOfWork, userid: str) -> StaffClaims | None:
        return None

    async def by_id(self, uow: MembersUnitOfWork, staff_id: str) -> StaffClaims | None:
        return None
