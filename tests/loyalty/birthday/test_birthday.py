"""Birthday points on the real database: the tier's birthday points once a year on the member's birthday (month-day
from members' events), nothing on other days, for closed members or for levels without birthday points; 29 February
birthdays on 28 February in other years; paged by member id."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.birthday.rules import birthdays_on
from loyalty.birthday.service import grant_birthday_points
from loyalty.birthday.views import BirthdayGrants
from loyalty.directory.service import on_member_closed, on_member_updated
from loyalty.points.lots import LOCAL, ExpiryPolicies
from loyalty.tiers import service as tiers
from loyalty.tiers.rules import TierRules
from tests.loyalty.earning.factories import paid
from tests.loyalty.factories import known_member
from tests.loyalty.lots.support import uow
from tests.support import SubgraphClient, Tokens
from yutang_shared.outbox import Event

RULES = TierRules()
BIRTHDAY = date(2026, 5, 1)


async def member_born(
    engine: AsyncEngine, month_day: str, *, level_spend_fen: int = 0, on: date = BIRTHDAY
) -> uuid.UUID:
    """A registered member whose birthday arrived in a member.updated event; an order of `level_spend_fen` on `on`
    lifts them to its level (gold for 500 000 fen) with its upgrade gift."""
    member = await known_member(engine)
    data = {"member_id": str(member), "changed": ["birthday"], "birthday_md": month_day}
    async with uow(engine) as u:
        await on_member_updated(u, Event(type="member.updated", aggregate_id=str(member), data=data))
        await u.commit()
    if level_spend_fen:
        order = paid(member, level_spend_fen, occurred_at=datetime.combine(on, time(12), LOCAL))
        async with uow(engine) as u:
            await tiers.on_order_paid(u, order, rules=RULES, expiry=ExpiryPolicies())
            await u.commit()
    return member


async def grant(engine: AsyncEngine, as_of: date, first: int = 200) -> BirthdayGrants:
    return await grant_birthday_points(uow(engine), as_of=as_of, rules=RULES, first=first)


async def birthday_entries(engine: AsyncEngine) -> list[tuple[uuid.UUID, int, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT member_id, points, idempotency_key FROM loyalty.ledger_entries WHERE kind = 'birthday' "
                "ORDER BY member_id"
            )
        )
        return [(row[0], row[1], row[2]) for row in rows]


async def test_a_member_gets_their_tiers_birthday_points_once_on_their_birthday(engine: AsyncEngine) -> None:
    # given: a gold member born on 1 May, a normal one born on 1 May, a gold one born on 2 May
    gold = await member_born(engine, "05-01", level_spend_fen=500_000, on=date(2026, 1, 5))
    await member_born(engine, "05-01")
    await member_born(engine, "05-02", level_spend_fen=500_000, on=date(2026, 1, 5))

    # when: the grant runs the day before, on the day twice, and again later that year on another birthday date
    before = await grant(engine, date(2026, 4, 30))
    first = await grant(engine, BIRTHDAY)
    again = await grant(engine, BIRTHDAY)
    next_year = await grant(engine, date(2027, 5, 1))

    # then: only the gold member born that day gets gold's 500 birthday points, once that year, and again next year
    assert (before.members, before.granted) == (0, 0)
    assert (first.members, first.granted, first.points, first.no_points, first.next_after) == (2, 1, 500, 1, None)
    assert (again.granted, again.already, again.points) == (0, 1, 0)
    assert (next_year.granted, next_year.points) == (1, 500)
    assert await birthday_entries(engine) == sorted(
        [(gold, 500, f"birthday:{gold}:2026"), (gold, 500, f"birthday:{gold}:2027")]
    )


async def test_the_level_held_on_the_birthday_counts_not_a_later_one(engine: AsyncEngine) -> None:
    # given: a member born on 1 May, silver since January, who reached gold only on 10 May
    member = await member_born(engine, "05-01", level_spend_fen=100_000, on=date(2026, 1, 5))
    order = paid(member, 400_000, occurred_at=datetime.combine(date(2026, 5, 10), time(12), LOCAL))
    async with uow(engine) as u:
        await tiers.on_order_paid(u, order, rules=RULES, expiry=ExpiryPolicies())
        await u.commit()

    # when: the grant for 1 May runs late, after the upgrade
    late = await grant(engine, BIRTHDAY)

    # then: silver's 200 points, the level held that day
    assert (late.granted, late.points) == (1, 200)


async def test_closed_members_get_nothing(engine: AsyncEngine) -> None:
    # given: a gold member born on 1 May who closed their account
    member = await member_born(engine, "05-01", level_spend_fen=500_000, on=date(2026, 1, 5))
    async with uow(engine) as u:
        closed = {"member_id": str(member), "closed_at": datetime.now(LOCAL).isoformat()}
        await on_member_closed(u, Event(type="member.closed", aggregate_id=str(member), data=closed))
        await u.commit()

    # when
    granted = await grant(engine, BIRTHDAY)

    # then
    assert (granted.members, granted.granted) == (0, 0)
    assert await birthday_entries(engine) == []


async def test_a_29_february_birthday_is_granted_on_28_february_in_other_years(engine: AsyncEngine) -> None:
    # given: a gold member born on 29 February
    member = await member_born(engine, "02-29", level_spend_fen=500_000, on=date(2026, 1, 5))

    # when: 28 February and 1 March of 2027 (no 29th), then 28 and 29 February of 2028 (a leap year)
    outcomes = [(await grant(engine, day)).granted for day in (date(2027, 2, 28), date(2027, 3, 1))]
    outcomes += [(await grant(engine, day)).granted for day in (date(2028, 2, 28), date(2028, 2, 29))]

    # then: once on 28 February 2027, once on 29 February 2028
    assert outcomes == [1, 0, 0, 1]
    assert [key for _, _, key in await birthday_entries(engine)] == [
        f"birthday:{member}:2027",
        f"birthday:{member}:2028",
    ]
    assert birthdays_on(date(2027, 2, 28)) == ("02-28", "02-29")
    assert birthdays_on(date(2028, 2, 28)) == ("02-28",)


async def test_pages_by_member_id_until_none_remain(engine: AsyncEngine) -> None:
    # given: five gold members born on 1 May
    members = sorted(
        [await member_born(engine, "05-01", level_spend_fen=500_000, on=date(2026, 1, 5)) for _ in range(5)]
    )

    # when: pages of two, following next_after, then the whole run again
    pages: list[BirthdayGrants] = []
    after = None
    while True:
        page = await grant_birthday_points(uow(engine), as_of=BIRTHDAY, rules=RULES, after=after, first=2)
        pages.append(page)
        if page.next_after is None:
            break
        after = page.next_after
    rerun = await grant(engine, BIRTHDAY, first=2)

    # then: 2 + 2 + 1 members, each granted once, in id order
    assert [(p.members, p.granted) for p in pages] == [(2, 2), (2, 2), (1, 1)]
    assert [p.next_after for p in pages] == [members[1], members[3], None]
    assert [m for m, _, _ in await birthday_entries(engine)] == members
    assert (rerun.granted, rerun.already) == (0, 2)


async def test_concurrent_runs_grant_once(engine: AsyncEngine) -> None:
    # given: three gold members born on 1 May
    for _ in range(3):
        await member_born(engine, "05-01", level_spend_fen=500_000, on=date(2026, 1, 5))

    # when: four runs for the day at once (a retried flow racing the scheduled one)
    runs = await asyncio.gather(*(grant(engine, BIRTHDAY) for _ in range(4)))

    # then: three grants in all, 500 points each
    assert sum(r.granted for r in runs) == 3
    assert [p for _, p, _ in await birthday_entries(engine)] == [500, 500, 500]


GRANT = """
mutation($asOf: Date, $first: Int!) {
  grantBirthdayPoints(asOf: $asOf, first: $first) { asOf members granted points already noPoints more nextAfter }
}
"""


async def test_the_mutation_needs_tiers_review_and_a_page_size_in_range(
    loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    # given: a gold member born on 1 May
    await member_born(engine, "05-01", level_spend_fen=500_000, on=date(2026, 1, 5))
    variables = {"asOf": BIRTHDAY.isoformat(), "first": 10}

    # when
    as_flows = await loyalty_api(GRANT, variables, token=tokens.service("tiers:review"))
    as_staff = await loyalty_api(GRANT, variables, token=tokens.staff())
    too_big = await loyalty_api(GRANT, {**variables, "first": 501}, token=tokens.ops())

    # then
    assert as_flows["data"]["grantBirthdayPoints"] == {
        "asOf": "2026-05-01",
        "members": 1,
        "granted": 1,
        "points": 500,
        "already": 0,
        "noPoints": 0,
        "more": False,
        "nextAfter": None,
    }
    assert as_staff["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert too_big["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert len(await birthday_entries(engine)) == 1
