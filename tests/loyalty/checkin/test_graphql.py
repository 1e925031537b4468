"""Check-in and points as cash over GraphQL: members check in for themselves and only for today, refusals are
typed union members, and another member's check-in is forbidden."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.loyalty.factories import known_member
from tests.loyalty.lots.support import post
from tests.support import SubgraphClient, Tokens

CHECK_IN = """mutation($m: UUID!, $d: Date) { checkIn(memberId: $m, asOf: $d) {
  __typename ... on CheckInSuccess { streak points balance } ... on AlreadyCheckedInError { code } } }"""
CALENDAR = """query($m: UUID!, $d: Date!) { checkInCalendar(memberId: $m, month: $d) {
  streak checkedInToday nextReward days { day points } } }"""
QUOTE = """mutation($m: UUID!, $a: Int!, $k: String!, $p: Int) {
  quotePointsPayment(memberId: $m, orderAmountFen: $a, storeCode: "S1", idempotencyKey: $k, points: $p) {
    __typename ... on PointsPayment { id points amountFen status } ... on QuoteRefusedError { code } } }"""
CAPTURE = """mutation($q: UUID!) { capturePointsPayment(quoteId: $q, idempotencyKey: "cap-1") {
  __typename ... on PointsPayment { status replayed } ... on PaymentClosedError { code } } }"""
VOID = """mutation($q: UUID!) { voidPointsPayment(quoteId: $q) {
  __typename ... on PointsPayment { status } ... on PaymentClosedError { code } } }"""


async def test_a_member_checks_in_once_for_today(
    loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    member = await known_member(engine)
    token = tokens.member(member)

    first = await loyalty_api(CHECK_IN, {"m": str(member)}, token=token)
    second = await loyalty_api(CHECK_IN, {"m": str(member)}, token=token)
    other_day = await loyalty_api(CHECK_IN, {"m": str(member), "d": "2030-01-01"}, token=token)
    someone_else = await loyalty_api(CHECK_IN, {"m": str(await known_member(engine))}, token=token)
    calendar = await loyalty_api(CALENDAR, {"m": str(member), "d": "2030-01-01"}, token=token)

    assert first["data"]["checkIn"] == {"__typename": "CheckInSuccess", "streak": 1, "points": 5, "balance": 5}
    assert second["data"]["checkIn"] == {"__typename": "AlreadyCheckedInError", "code": "LOYALTY_ALREADY_CHECKED_IN"}
    assert other_day["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert someone_else["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert calendar["data"]["checkInCalendar"]["checkedInToday"] is True


async def test_staff_may_check_in_for_a_given_day(
    loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    member = await known_member(engine)

    done = await loyalty_api(CHECK_IN, {"m": str(member), "d": "2030-01-01"}, token=tokens.ops())
    out_of_range = await loyalty_api(CHECK_IN, {"m": str(member), "d": "1999-12-31"}, token=tokens.ops())
    calendar = await loyalty_api(CALENDAR, {"m": str(member), "d": "2030-01-15"}, token=tokens.ops())

    assert done["data"]["checkIn"]["__typename"] == "CheckInSuccess"
    assert out_of_range["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert calendar["data"]["checkInCalendar"]["days"] == [{"day": "2030-01-01", "points": 5}]


async def test_points_pay_at_the_till(loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await post(engine, member, 3_000, "g")
    ops = tokens.ops()

    held = (await loyalty_api(QUOTE, {"m": str(member), "a": 10_000, "k": "q-1"}, token=ops))["data"]
    over = (await loyalty_api(QUOTE, {"m": str(member), "a": 10_000, "k": "q-2", "p": 5_001}, token=ops))["data"]
    quote_id = held["quotePointsPayment"]["id"]
    captured = (await loyalty_api(CAPTURE, {"q": quote_id}, token=ops))["data"]["capturePointsPayment"]
    voided = (await loyalty_api(VOID, {"q": quote_id}, token=ops))["data"]["voidPointsPayment"]

    assert held["quotePointsPayment"]["points"] == 3_000
    assert held["quotePointsPayment"]["status"] == "HELD"
    assert over["quotePointsPayment"] == {"__typename": "QuoteRefusedError", "code": "LOYALTY_QUOTE_REFUSED"}
    assert captured == {"__typename": "PointsPayment", "status": "CAPTURED", "replayed": False}
    assert voided == {"__typename": "PaymentClosedError", "code": "LOYALTY_PAYMENT_CLOSED"}
