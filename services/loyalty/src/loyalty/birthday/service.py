"""Birthday points: on a member's birthday (Asia/Shanghai), the birthday points of the tier level they hold that day.

The daily `points-expiry` flow calls it page by page. Every grant is a `birthday` ledger entry through
`points.service.post_entries`, keyed `birthday:<member>:<year>`, so a re-run, a retried page or a second date in the
same year grants nothing more. A member born on 29 February celebrates on 28 February in other years. Closed
members, and members whose level gives no birthday points, get nothing.
"""

from __future__ import annotations

import uuid
from datetime import date

from loyalty.birthday.rules import birthdays_on, grant_key
from loyalty.birthday.views import BirthdayGrants
from loyalty.points.errors import IdempotencyKeyReused
from loyalty.points.lots import ExpiryPolicies
from loyalty.points.models import EntryKind
from loyalty.points.service import DEFAULT_EXPIRY, post_entries
from loyalty.points.views import Posted, Posting
from loyalty.tiers.rules import TierRules
from loyalty.uow import LoyaltyUnitOfWork

ACTOR = "loyalty-birthday"
MAX_PAGE = 500


async def grant_birthday_points(
    uow: LoyaltyUnitOfWork,
    *,
    as_of: date,
    rules: TierRules,
    after: uuid.UUID | None = None,
    first: int = 200,
    expiry: ExpiryPolicies = DEFAULT_EXPIRY,
) -> BirthdayGrants:
    """Grant the birthday points of one page of members (by id after `after`, up to `first`, 1 to MAX_PAGE) whose
    birthday is `as_of`, in one transaction. Idempotent per member and year."""
    first = max(1, min(first, MAX_PAGE))
    async with uow:
        members = await uow.birthdays.celebrating(days=birthdays_on(as_of), as_of=as_of, after=after, limit=first)
    lowest = rules.levels[0].name
    postings = [
        Posting(member_id, points, EntryKind.BIRTHDAY, f"生日积分 birthday ({name})", grant_key(member_id, as_of))
        for member_id, level in members
        if (points := rules.level(name := level or lowest).birthday_points) > 0
    ]
    results = await post_entries(uow, postings, actor=ACTOR, expiry=expiry) if postings else []
    fresh = [r for r in results if isinstance(r, Posted) and not r.replayed]
    # A replay, or the key taken by another amount (their level or birthday changed since this year's grant).
    already = sum(1 for r in results if (isinstance(r, Posted) and r.replayed) or isinstance(r, IdempotencyKeyReused))
    return BirthdayGrants(
        as_of=as_of,
        members=len(members),
        granted=len(fresh),
        points=sum(r.entry.points for r in fresh),
        already=already,
        no_points=len(members) - len(postings),
        refused=len(results) - len(fresh) - already,
        next_after=members[-1][0] if len(members) == first else None,
    )
