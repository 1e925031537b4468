"""Check-in in the loyalty subgraph: checkIn, makeUpCheckIn and checkInCalendar."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

import strawberry

from loyalty.checkin.errors import AlreadyCheckedIn, CheckInErrorCode, MakeUpNotAllowed
from loyalty.checkin.service import calendar, check_in, make_up
from loyalty.checkin.views import Calendar, CheckedIn
from loyalty.context import LoyaltyInfo
from loyalty.dates import local_day
from loyalty.points.graphql import InsufficientPointsError, UnknownMemberError
from loyalty.scopes import Scope, self_or
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.auth import Role
from yutang_shared.context import principal_of
from yutang_shared.enums import graphql_enum
from yutang_shared.errors import Error, Forbidden, error_handlers

graphql_enum(
    CheckInErrorCode,
    "Codes of check-in's expected errors.",
    {
        "LOYALTY_ALREADY_CHECKED_IN": "The member already checked in on that day (concurrent taps count once).",
        "LOYALTY_MAKE_UP_NOT_ALLOWED": "Make-up check-in is disabled, or the day is outside its window.",
    },
)

MemberId = Annotated[uuid.UUID, strawberry.argument(description="The member checking in.")]
AsOf = Annotated[
    date | None,
    strawberry.argument(
        description="The local (Asia/Shanghai) day to act as today; default today. Only staff, operations and "
        "services (points:write) may set it; a member always checks in for today."
    ),
]


@strawberry.type(description="The member already checked in on that day; nothing was changed.")
class AlreadyCheckedInError(Error):
    code: CheckInErrorCode = strawberry.field(description="LOYALTY_ALREADY_CHECKED_IN.")


@strawberry.type(description="Make-up check-in is disabled or the day is outside its window; nothing was changed.")
class MakeUpNotAllowedError(Error):
    code: CheckInErrorCode = strawberry.field(description="LOYALTY_MAKE_UP_NOT_ALLOWED.")


HANDLERS = error_handlers({AlreadyCheckedIn: AlreadyCheckedInError, MakeUpNotAllowed: MakeUpNotAllowedError})


@strawberry.type(description="A check-in done.")
class CheckInSuccess:
    day: date = strawberry.field(description="The local day checked in.")
    streak: int = strawberry.field(description="Consecutive days checked in, up to and including this one.")
    points: int = strawberry.field(description="Points earned (a make-up: negative, what it cost).")
    makeup: bool = strawberry.field(description="True for a make-up check-in (补签).")
    balance: int = strawberry.field(description="The available balance right after.")

    @classmethod
    def of(cls, view: CheckedIn) -> CheckInSuccess:
        return cls(day=view.day, streak=view.streak, points=view.points, makeup=view.makeup, balance=view.balance)


@strawberry.type(description="One day of the check-in calendar.")
class CheckInDay:
    day: date = strawberry.field(description="The local day.")
    streak: int = strawberry.field(description="The streak that day made.")
    points: int = strawberry.field(description="Points earned that day (0 for a make-up).")
    makeup: bool = strawberry.field(description="True when the day was made up (补签).")


@strawberry.type(description="A themed day (solar term, brand event) and its bonus.")
class ThemedDay:
    day: date = strawberry.field(description="The local day.")
    bonus: int = strawberry.field(description="Points added to that day's check-in reward.")


@strawberry.type(description="A member's check-in month (签到日历).")
class CheckInCalendar:
    month: date = strawberry.field(description="The first day of the month shown.")
    days: list[CheckInDay] = strawberry.field(description="The days checked in, in order.")
    streak: int = strawberry.field(description="The current streak (0 when neither today nor yesterday).")
    checked_in_today: bool = strawberry.field(description="Whether the member already checked in today.")
    next_reward: int = strawberry.field(description="What the next check-in (today, else tomorrow) earns.")
    themed_days: list[ThemedDay] = strawberry.field(description="The month's themed days.")

    @classmethod
    def of(cls, view: Calendar) -> CheckInCalendar:
        return cls(
            month=view.month,
            days=[CheckInDay(day=d.day, streak=d.streak, points=d.points, makeup=d.makeup) for d in view.days],
            streak=view.streak,
            checked_in_today=view.checked_in_today,
            next_reward=view.next_reward,
            themed_days=[ThemedDay(day=d, bonus=b) for d, b in sorted(view.themed.items())],
        )


CheckInPayload = Annotated[
    CheckInSuccess | AlreadyCheckedInError | UnknownMemberError,
    strawberry.union("CheckInPayload", description="The outcome of a check-in."),
]
MakeUpCheckInPayload = Annotated[
    CheckInSuccess | AlreadyCheckedInError | MakeUpNotAllowedError | InsufficientPointsError | UnknownMemberError,
    strawberry.union("MakeUpCheckInPayload", description="The outcome of a make-up check-in."),
]


def _today(info: LoyaltyInfo, as_of: date | None) -> date:
    if as_of is not None and principal_of(info).role is Role.MEMBER:
        raise Forbidden("members check in for today; asOf is for staff, operations and services")
    return local_day(as_of)


@strawberry.type
class Query:
    @strawberry.field(
        description="A member's check-ins in the month of `month` (any day of it), the streak and the next reward. "
        "Members read their own; others need points:read.",
        permission_classes=[self_or(Scope.POINTS_READ, argument="member_id")],
    )
    async def check_in_calendar(
        self,
        info: LoyaltyInfo,
        member_id: MemberId,
        month: Annotated[date, strawberry.argument(description="Any day of the month to show.")],
        as_of: AsOf = None,
    ) -> CheckInCalendar:
        view = await calendar(
            LoyaltyUnitOfWork(info.context.sessions),
            member_id=member_id,
            month=local_day(month),
            as_of=_today(info, as_of),
            rules=info.context.settings.checkin_rules(),
        )
        return CheckInCalendar.of(view)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Check in (签到) for today (Asia/Shanghai), once a day: concurrent taps count once. Serves the "
        "mini-program and the official account's keyword handler. The member themselves, or points:write.",
        permission_classes=[self_or(Scope.POINTS_WRITE, argument="member_id")],
    )
    async def check_in(self, info: LoyaltyInfo, member_id: MemberId, as_of: AsOf = None) -> CheckInPayload:
        settings = info.context.settings
        done = await check_in(
            LoyaltyUnitOfWork(info.context.sessions),
            member_id=member_id,
            day=_today(info, as_of),
            rules=settings.checkin_rules(),
            expiry=settings.expiry_policies(),
        )
        return CheckInSuccess.of(done)

    @strawberry.mutation(
        description="Make up (补签) a missed day within the make-up window before today, for its points cost (no "
        "reward); mends the streak. The member themselves, or points:write.",
        permission_classes=[self_or(Scope.POINTS_WRITE, argument="member_id")],
    )
    async def make_up_check_in(
        self,
        info: LoyaltyInfo,
        member_id: MemberId,
        day: Annotated[date, strawberry.argument(description="The missed local day.")],
        as_of: AsOf = None,
    ) -> MakeUpCheckInPayload:
        done = await make_up(
            LoyaltyUnitOfWork(info.context.sessions),
            member_id=member_id,
            day=local_day(day),
            as_of=_today(info, as_of),
            rules=info.context.settings.checkin_rules(),
        )
        return CheckInSuccess.of(done)
