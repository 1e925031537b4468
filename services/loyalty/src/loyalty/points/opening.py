"""Opening balances of a brand moving in: each member's points from its previous system, posted once as one
`opening` ledger entry through the one write path (a lot expiring when the old system said, the balance, the
`points.balance-changed` event)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from loyalty.points.errors import InvalidAdjustment
from loyalty.points.lots import ExpiryPolicies, local_date
from loyalty.points.models import EntryKind
from loyalty.points.rules import check_adjustment
from loyalty.points.service import DEFAULT_EXPIRY, post_entries
from loyalty.points.views import Posted, Posting
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.errors import DomainError

OPENING_ACTOR = "loyalty-import"
"""The ledger's actor of opening entries: their keys (`opening:<member id>`) are unique per member under it."""
OPENING_MAX = 1_000_000_000
DEFAULT_NOTE = "opening balance"


@dataclass(frozen=True, slots=True)
class OpeningBalance:
    """A member's points in the previous system: how many, the date they stop being spendable (the lot's
    `expires_on`; None: the `opening` kind's expiry policy) and a note for the ledger's reason."""

    member_id: uuid.UUID
    points: int
    expires_on: date | None = None
    note: str = ""


def opening_key(member_id: uuid.UUID) -> str:
    """The idempotency key of a member's opening entry: one per member, ever."""
    return f"opening:{member_id}"


def check_opening(balance: OpeningBalance, *, today: date) -> Posting:
    """The posting of a valid opening balance. Raises InvalidAdjustment: points not 1–OPENING_MAX, an expiry date
    that is not after `today` (the points would have lapsed), a note over 200 characters or with control
    characters."""
    if balance.expires_on is not None and balance.expires_on <= today:
        raise InvalidAdjustment(f"expiry date {balance.expires_on} has passed")
    if balance.points < 0:
        raise InvalidAdjustment("opening points must not be negative")
    key = opening_key(balance.member_id)
    reason = check_adjustment(
        points=balance.points, reason=balance.note or DEFAULT_NOTE, idempotency_key=key, max_points=OPENING_MAX
    )
    return Posting(balance.member_id, balance.points, EntryKind.OPENING, reason, key, expires_on=balance.expires_on)


async def post_opening_balances(
    uow: LoyaltyUnitOfWork, balances: Sequence[OpeningBalance], *, expiry: ExpiryPolicies = DEFAULT_EXPIRY
) -> list[Posted | DomainError]:
    """Post members' opening balances in one transaction, one result per balance, in order.

    Each is an `opening` entry (actor `loyalty-import`, key `opening:<member id>`) through `post_entries`, so
    it creates a lot (expiring on the given date, else as `expiry` says for `opening`), moves the balance and
    writes one `points.balance-changed` event per member. Posting the same balance again replays it
    (`replayed`); another amount or note for a member who has one is IdempotencyKeyReused; an invalid one is
    InvalidAdjustment; a member the directory does not hold as active is UnknownMember. Refused balances write
    nothing and do not hold back the others.
    """
    today = local_date(datetime.now(UTC))
    results: list[Posted | DomainError | None] = []
    postings: list[Posting] = []
    for balance in balances:
        try:
            postings.append(check_opening(balance, today=today))
        except DomainError as exc:
            results.append(exc)
            continue
        results.append(None)
    posted = iter(await post_entries(uow, postings, actor=OPENING_ACTOR, expiry=expiry) if postings else [])
    return [next(posted) if result is None else result for result in results]
