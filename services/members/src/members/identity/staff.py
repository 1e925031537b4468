"""The staff directory identity logs staff in with: the organisation feature's `staff_claims`."""

from __future__ import annotations

import uuid

from members.identity.ports import StaffClaims
from members.organisation import views
from members.organisation.errors import UnknownStaff
from members.organisation.service import staff_claims
from members.uow import MembersUnitOfWork
from yutang_shared.db import SessionFactory


class OrganisationStaff:
    """StaffDirectory over the organisation's staff records (each lookup is a unit of work of its own)."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    async def by_wecom_userid(self, userid: str) -> StaffClaims | None:
        try:
            return _claims(await staff_claims(MembersUnitOfWork(self.sessions), wecom_userid=userid))
        except UnknownStaff:
            return None

    async def by_id(self, staff_id: str) -> StaffClaims | None:
        try:
            found = await staff_claims(MembersUnitOfWork(self.sessions), staff_id=uuid.UUID(staff_id))
        except (ValueError, UnknownStaff):  # ValueError: not a staff id (a refresh token of another kind)
            return None
        return _claims(found)


def _claims(found: views.StaffClaims) -> StaffClaims:
    return StaffClaims(
        staff_id=str(found.staff_id),
        roles=frozenset(found.roles),
        stores=frozenset(found.stores),
        regions=frozenset(found.regions),
        active=found.active,
    )
