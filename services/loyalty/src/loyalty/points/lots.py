"""Pure lot rules: when a grant expires, and which lots a batch of available-balance entries creates, consumes
(soonest-expiring first) or restores. No I/O: the repository loads the lots and writes what this computes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from loyalty.points.models import Bucket, EntryKind, bucket_of

LOCAL = ZoneInfo("Asia/Shanghai")
_FAR = date.max


@dataclass(frozen=True, slots=True)
class ExpiryPolicy:
    """When a grant's points expire: at the end of the year after the year earned (`next-year-end`), `days`
    days after the day earned (`<N>d`), or `never`."""

    kind: str = "next-year-end"
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> ExpiryPolicy:
        """`next-year-end`, `never` or `<N>d` (1 ≤ N ≤ 36500); ValueError otherwise."""
        text = text.strip().lower()
        if text in ("next-year-end", "never"):
            return cls(text)
        if (match := re.fullmatch(r"(\d{1,5})d", text)) and 1 <= int(match[1]) <= 36_500:
            return cls("days", int(match[1]))
        raise ValueError(f"expiry policy {text!r} is not next-year-end, never or <N>d")

    def expires_on(self, earned_on: date) -> date | None:
        """The first local date the points are no longer spendable (None: never). `next-year-end`: points earned
        in 2026 are spendable through 2027-12-31 and expire on 2028-01-01; `30d`: earned on the 1st, spendable
        through the 31st."""
        if self.kind == "never":
            return None
        if self.kind == "days":
            return date.fromordinal(earned_on.toordinal() + self.days + 1)
        return date(earned_on.year + 2, 1, 1)


@dataclass(frozen=True, slots=True)
class ExpiryPolicies:
    """The expiry policy per earn source (an entry kind), with a default for the others."""

    default: ExpiryPolicy = ExpiryPolicy()
    by_source: Mapping[str, ExpiryPolicy] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> ExpiryPolicies:
        """`default=next-year-end,checkin=90d,adjustment=never`: source=policy pairs, comma-separated; sources
        are entry kinds that grant points. ValueError on anything else."""
        default = ExpiryPolicy()
        by_source: dict[str, ExpiryPolicy] = {}
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            source, _, policy = item.partition("=")
            source = source.strip().lower()
            if source == "default":
                default = ExpiryPolicy.parse(policy)
            elif source in {k.value for k in EntryKind}:
                by_source[source] = ExpiryPolicy.parse(policy)
            else:
                raise ValueError(f"expiry source {source!r} is neither default nor an entry kind")
        return cls(default, by_source)

    def of(self, source: str) -> ExpiryPolicy:
        return self.by_source.get(source, self.default)


def local_date(at: datetime) -> date:
    """The date in Asia/Shanghai."""
    return at.astimezone(LOCAL).date()


@dataclass(slots=True)
class Lot:
    """A lot as the allocation sees it; `remaining` changes as the batch consumes and restores."""

    id: uuid.UUID
    member_id: uuid.UUID
    remaining: int
    expires_on: date | None
    earned_at: datetime
    order_id: uuid.UUID | None = None
    points: int = 0
    source: str = ""
    entry_id: uuid.UUID | None = None
    new: bool = False

    @property
    def order(self) -> tuple[date, datetime, uuid.UUID]:
        """Soonest-expiring first (never last), then oldest, then by id: the order debits consume lots in."""
        return (self.expires_on or _FAR, self.earned_at, self.id)


@dataclass(frozen=True, slots=True)
class LotEntry:
    """An available-balance entry to place on lots: a grant (positive, new lot), a restore (positive, back to
    the lots `restores` consumed), a targeted debit (`lot_id`: an expiry), or a debit (soonest-expiring first,
    the lots of `order_id` first for a refund's reversal)."""

    entry_id: uuid.UUID
    member_id: uuid.UUID
    points: int
    kind: EntryKind
    at: datetime
    order_id: uuid.UUID | None = None
    lot_id: uuid.UUID | None = None
    restores: uuid.UUID | None = None
    expires_on: date | None = None  # a grant's given expiry date (else its kind's policy)


@dataclass
class Allocation:
    """What a batch does to lots: new lots (with what is left of them after the batch), existing lots' new
    `remaining`, and each entry's consumption per lot (positive taken, negative given back)."""

    new_lots: list[Lot] = field(default_factory=list)
    remaining: dict[uuid.UUID, int] = field(default_factory=dict)
    consumptions: dict[tuple[uuid.UUID, uuid.UUID], int] = field(default_factory=dict)


class LotsDisagree(RuntimeError):
    """The lots cannot cover a debit the balance covers: the ledger invariant is broken (never expected)."""


ORDER_FIRST = frozenset({EntryKind.REVERSAL})
"""Debits that take from their own order's lot first (a refund takes back the points its order earned)."""


def allocate(
    entries: Sequence[LotEntry],
    lots: Iterable[Lot],
    consumed: Mapping[uuid.UUID, Sequence[tuple[uuid.UUID, int]]],
    policies: ExpiryPolicies,
) -> Allocation:
    """Place each entry on lots, in order. `lots` are the members' lots (open ones, and those the restored
    entries used), `consumed` each restored entry's (lot, points) consumptions."""
    by_id = {lot.id: lot for lot in lots}
    out = Allocation()
    for entry in entries:
        if entry.points > 0 and entry.restores is not None:
            _restore(entry, consumed.get(entry.restores, ()), by_id, out, policies)
        elif entry.points > 0:
            _grant(entry, entry.points, by_id, out, policies)
        else:
            _consume(entry, by_id, out)
    for lot in by_id.values():
        if not lot.new and lot.id in out.remaining:
            out.remaining[lot.id] = lot.remaining
    return out


def _grant(entry: LotEntry, points: int, by_id: dict[uuid.UUID, Lot], out: Allocation, p: ExpiryPolicies) -> None:
    lot = Lot(
        id=uuid.uuid4(),
        member_id=entry.member_id,
        remaining=points,
        expires_on=entry.expires_on or p.of(entry.kind.value).expires_on(local_date(entry.at)),
        earned_at=entry.at,
        order_id=entry.order_id,
        points=points,
        source=entry.kind.value,
        entry_id=entry.entry_id,
        new=True,
    )
    by_id[lot.id] = lot
    out.new_lots.append(lot)


def _restore(
    entry: LotEntry,
    consumed: Sequence[tuple[uuid.UUID, int]],
    by_id: dict[uuid.UUID, Lot],
    out: Allocation,
    policies: ExpiryPolicies,
) -> None:
    """Give the points back to the lots the restored entry took them from, latest-expiring first; anything
    beyond what it took becomes a new lot."""
    left = entry.points
    for lot_id, points in sorted(consumed, key=lambda c: by_id[c[0]].order, reverse=True):
        back = min(left, points)
        if back <= 0:
            continue
        _move(entry, by_id[lot_id], -back, out)
        left -= back
    if left:
        _grant(entry, left, by_id, out, policies)


def _consume(entry: LotEntry, by_id: dict[uuid.UUID, Lot], out: Allocation) -> None:
    need = -entry.points
    if entry.lot_id is not None:
        candidates = [by_id[entry.lot_id]] if entry.lot_id in by_id else []
    else:
        open_lots = sorted(
            (lot for lot in by_id.values() if lot.member_id == entry.member_id and lot.remaining > 0),
            key=lambda lot: lot.order,
        )
        own = [lot for lot in open_lots if entry.order_id is not None and lot.order_id == entry.order_id]
        candidates = own + [lot for lot in open_lots if lot not in own] if entry.kind in ORDER_FIRST else open_lots
    for lot in candidates:
        take = min(need, lot.remaining)
        if take > 0:
            _move(entry, lot, take, out)
            need -= take
        if not need:
            return
    raise LotsDisagree(f"member {entry.member_id}'s lots cannot cover {-entry.points} points")


def _move(entry: LotEntry, lot: Lot, points: int, out: Allocation) -> None:
    """Take `points` from `lot` for `entry` (negative: give them back)."""
    lot.remaining -= points
    if not lot.new:
        out.remaining[lot.id] = lot.remaining
    key = (entry.entry_id, lot.id)
    out.consumptions[key] = out.consumptions.get(key, 0) + points
    if not out.consumptions[key]:
        del out.consumptions[key]


def available_bucket(kind: EntryKind) -> bool:
    """Whether entries of `kind` move the available balance (and so lots)."""
    return bucket_of(kind) is Bucket.AVAILABLE
