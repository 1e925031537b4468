"""Check-in use cases: check in once per local day, make up a missed day for points, and the month's calendar.

The day's row and its ledger entry (actor `loyalty-checkin`, key `checkin:<member>:<day>`) are written in one
transaction: the primary key (member, day) makes concurrent taps count once, and a refused entry (an unknown
member, a make-up the balance cannot pay) rolls the row back.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from loyalty.checkin.errors import AlreadyCheckedIn, MakeUpNotAllowed
from loyalty.checkin.rules import CheckInRules
from loyalty.checkin.views import Calendar, CheckedIn
from loyalty.points.lots import ExpiryPolicies
from loyalty.points.models import EntryKind
from loyalty.points.service import DEFAULT_EXPIRY, post_entries
from loyalty.points.views import Posting
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.errors import DomainError

ACTOR = "loyalty-checkin"


async def check_in(
    uow: LoyaltyUnitOfWork,
    *,
    member_id: uuid.UUID,
    day: date,
    rules: CheckInRules,
    expiry: ExpiryPolicies = DEFAULT_EXPIRY,
) -> CheckedIn:
    """Check the member in on `day` (their local today): the streak goes on from yesterday or starts at 1, and
    the streak day's reward (plus a themed day's bonus) is granted. Raises AlreadyCheckedIn (a second tap, even
    concurrent) or UnknownMember; nothing changes then."""
    async with uow:
        streak = rules.streak_after(await uow.checkin.streak_on(member_id, day - timedelta(days=1)))
        points = rules.reward(streak, day)
        if not await uow.checkin.insert(member_id, day, streak=streak, points=points, makeup=False):
            raise AlreadyCheckedIn(f"already checked in on {day.isoformat()}")
        balance = await _post(uow, member_id, points, EntryKind.CHECKIN, f"签到 check-in day {streak}", day, expiry)
        await uow.commit()
    return CheckedIn(day=day, streak=streak, points=points, makeup=False, balance=balance)


async def make_up(
    uow: LoyaltyUnitOfWork,
    *,
    member_id: uuid.UUID,
    day: date,
    as_of: date,
    rules: CheckInRules,
) -> CheckedIn:
    """补签: check the member in on a missed `day` within the make-up window before `as_of`, for the make-up
    cost (no reward); the streak through that day is mended, so a check-in the day after continues it. Raises
    MakeUpNotAllowed, AlreadyCheckedIn, InsufficientPoints or UnknownMember; nothing changes then."""
    if not rules.makeup_allowed(day, as_of):
        raise MakeUpNotAllowed(
            f"make-up check-in is for the {rules.makeup_days} days before today"
            if rules.makeup_days
            else "make-up check-in is disabled"
        )
    async with uow:
        streak = rules.streak_after(await uow.checkin.streak_on(member_id, day - timedelta(days=1)))
        if not await uow.checkin.insert(member_id, day, streak=streak, points=0, makeup=True):
            raise AlreadyCheckedIn(f"already checked in on {day.isoformat()}")
        balance = await _post(
            uow, member_id, -rules.makeup_cost, EntryKind.CHECKIN_MAKEUP, "补签 make-up check-in", day, DEFAULT_EXPIRY
        )
        await uow.commit()
    return CheckedIn(day=day, streak=streak, points=-rules.makeup_cost, makeup=True, balance=balance)


async def _post(
    uow: LoyaltyUnitOfWork,
    member_id: uuid.UUID,
    points: int,
    kind: EntryKind,
    reason: str,
    day: date,
    expiry: ExpiryPolicies,
) -> int:
    """Write the check-in's entry (none for 0 points); the available balance after. Raises the refusal."""
    if not points:
        states = await uow.ledger.lock_accounts([member_id])
        return states[member_id].balance
    suffix = ":makeup" if kind is EntryKind.CHECKIN_MAKEUP else ""
    posting = Posting(member_id, points, kind, reason, f"checkin:{member_id}:{day.isoformat()}{suffix}")
    (result,) = await post_entries(uow, [posting], actor=ACTOR, expiry=expiry)
    if isinstance(result, DomainError):
        raise result
    return result.balance


async def calendar(
    uow: LoyaltyUnitOfWork, *, member_id: uuid.UUID, month: date, as_of: date, rules: CheckInRules
) -> Calendar:
    """The member's check-ins in the month of `month`, their streak as of `as_of` (alive if they checked in
    that day or the day before), and what the next check-in earns."""
    start = month.replace(day=1)
    stop = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    async with uow:
        rows = await uow.checkin.between(member_id, start, stop)
        today = await uow.checkin.streak_on(member_id, as_of)
        yesterday = await uow.checkin.streak_on(member_id, as_of - timedelta(days=1))
    streak = today or yesterday or 0
    next_day = as_of + timedelta(days=1) if today else as_of
    next_streak = rules.streak_after(today if today else yesterday)
    return Calendar(
        month=start,
        days=[CheckedIn(r.day, r.streak, r.points, r.makeup, 0) for r in rows],
        streak=streak,
        checked_in_today=today is not None,
        next_reward=rules.reward(next_streak, next_day),
        themed={d: b for d, b in rules.themed.items() if start <= d < stop},
    )
