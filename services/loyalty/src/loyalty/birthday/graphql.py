"""The birthday feature in the loyalty subgraph: granting a day's birthday points, a page at a time."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

import strawberry

from loyalty.birthday.service import MAX_PAGE, grant_birthday_points
from loyalty.context import LoyaltyInfo
from loyalty.dates import local_day
from loyalty.scopes import Scope, requires
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.errors import BadUserInput


@strawberry.type(description="One page of birthday points granted for a date.")
class GrantBirthdayPointsSuccess:
    as_of: date = strawberry.field(description="The local (Asia/Shanghai) date whose birthdays were granted.")
    members: int = strawberry.field(description="Active members of this page whose birthday is asOf.")
    granted: int = strawberry.field(description="Members given their birthday points now.")
    points: int = strawberry.field(description="Points given now, in all.")
    already: int = strawberry.field(description="Members who had their birthday points this year already.")
    no_points: int = strawberry.field(description="Members whose tier level gives no birthday points.")
    refused: int = strawberry.field(description="Members the ledger refused (closed meanwhile); nothing written.")
    next_after: uuid.UUID | None = strawberry.field(
        description="Pass as `after` for the next page; null when this was the last."
    )

    @strawberry.field(description="True when more members may remain: call again with after = nextAfter.")
    def more(self) -> bool:
        return self.next_after is not None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description=f"Grant birthday points (生日积分) to one page of active members (by id after `after`, up to "
        f"`first`, 1 to {MAX_PAGE}) whose birthday (month-day) is asOf (default today, Asia/Shanghai; 29 February "
        "birthdays on 28 February in other years): the birthday points of the tier level each holds on asOf. Once per "
        "member and year (ledger key birthday:<member>:<year>): re-runs and retries grant nothing more. Closed "
        "members and levels without birthday points get nothing. Needs tiers:review.",
        permission_classes=[requires(Scope.TIERS_REVIEW)],
    )
    async def grant_birthday_points(
        self,
        info: LoyaltyInfo,
        as_of: Annotated[date | None, strawberry.argument(description="The local date; default today.")] = None,
        after: Annotated[uuid.UUID | None, strawberry.argument(description="Start after this member id.")] = None,
        first: Annotated[int, strawberry.argument(description=f"Members in this page, 1 to {MAX_PAGE}.")] = 200,
    ) -> GrantBirthdayPointsSuccess:
        if not 1 <= first <= MAX_PAGE:
            raise BadUserInput(f"first is 1 to {MAX_PAGE}")
        settings = info.context.settings
        page = await grant_birthday_points(
            LoyaltyUnitOfWork(info.context.sessions),
            as_of=local_day(as_of),
            rules=settings.tier_rules(),
            after=after,
            first=first,
            expiry=settings.expiry_policies(),
        )
        return GrantBirthdayPointsSuccess(
            as_of=page.as_of,
            members=page.members,
            granted=page.granted,
            points=page.points,
            already=page.already,
            no_points=page.no_points,
            refused=page.refused,
            next_after=page.next_after,
        )
