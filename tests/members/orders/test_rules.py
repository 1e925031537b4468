"""Unit tests of the orders rules: well-formed orders, refunds and events, hashes, refund amounts, summaries."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from members.orders.errors import (
    InvalidAmount,
    InvalidBehaviour,
    InvalidOccurredAt,
    InvalidOrder,
    InvalidRefund,
    LinesMismatch,
    UnknownStore,
)
from members.orders.rules import (
    CLOCK_SKEW,
    check_behaviour,
    check_order,
    check_refund,
    lines_summary,
    order_hash,
    plan_refund,
)
from members.orders.views import Line, MemberRef
from tests.members.orders.factories import lines, make_behaviour, make_order, make_refund, refund_lines

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MEMBER = uuid.uuid4()


def test_a_well_formed_order_passes_and_its_mobile_is_normalised() -> None:
    order = make_order(MemberRef(mobile="+86 138-0013-8000"), occurred_at=NOW)

    checked = check_order(order, now=NOW)

    assert checked.member == MemberRef(mobile="13800138000")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"paid_fen": 0}, InvalidAmount),
        ({"paid_fen": -5}, InvalidAmount),
        ({"discount_fen": -1}, InvalidAmount),
        ({"paid_fen": 1300}, LinesMismatch),
        ({"discount_fen": 0}, LinesMismatch),
        ({"lines": ()}, InvalidOrder),
        ({"lines": (Line("SKU1", "tea", 0, 1500),)}, InvalidOrder),
        ({"lines": (Line("", "tea", 1, 1500),)}, InvalidOrder),
        ({"lines": (Line("SKU\x00", "tea", 1, 1500),)}, InvalidOrder),
        ({"external_id": ""}, InvalidOrder),
        ({"external_id": "has space"}, InvalidOrder),
        ({"external_id": "x" * 65}, InvalidOrder),
        ({"store_code": "S 1"}, UnknownStore),
        ({"store_code": ""}, UnknownStore),
        ({"guide": "g" * 65}, InvalidOrder),
        ({"member": MemberRef()}, InvalidOrder),
        ({"member": MemberRef(member_id=MEMBER, mobile="13800138000")}, InvalidOrder),
        ({"member": MemberRef(mobile="12345")}, InvalidOrder),
        ({"member": MemberRef(unionid="bad id!")}, InvalidOrder),
        ({"occurred_at": NOW + CLOCK_SKEW + timedelta(seconds=1)}, InvalidOccurredAt),
        ({"occurred_at": datetime(1999, 12, 31, 23, 59, tzinfo=UTC)}, InvalidOccurredAt),
        ({"occurred_at": datetime(2026, 12, 1, 11, 0)}, InvalidOccurredAt),
    ],
)
def test_each_broken_rule_is_its_error(overrides: dict[str, object], error: type[Exception]) -> None:
    values = {"occurred_at": NOW, **overrides}
    member = values.pop("member", MEMBER)
    with pytest.raises(error):
        check_order(make_order(member, **values), now=NOW)  # type: ignore[arg-type]


def test_a_till_clock_slightly_ahead_is_accepted() -> None:
    check_order(make_order(MEMBER, occurred_at=NOW + CLOCK_SKEW), now=NOW)


def test_the_same_instant_in_another_zone_hashes_the_same() -> None:
    order = make_order(MEMBER, occurred_at=NOW)
    shanghai = replace(order, occurred_at=NOW.astimezone(timezone(timedelta(hours=8))))

    assert order_hash(order, MEMBER) == order_hash(shanghai, MEMBER)
    assert order_hash(order, MEMBER) != order_hash(replace(order, paid_fen=1100, discount_fen=400), MEMBER)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"order_id": None}, InvalidRefund),
        ({"external_order_id": "POS-1"}, InvalidRefund),
        ({"amount_fen": 0}, InvalidRefund),
        ({"amount_fen": 100, "lines": refund_lines((1, 1))}, InvalidRefund),
        ({"lines": refund_lines((1, 1), (1, 1))}, InvalidRefund),
        ({"lines": refund_lines((0, 1))}, InvalidRefund),
        ({"lines": refund_lines((1, 0))}, InvalidRefund),
        ({"external_id": "a b"}, InvalidRefund),
        ({"occurred_at": NOW + timedelta(days=1)}, InvalidOccurredAt),
    ],
)
def test_each_broken_refund_rule_is_its_error(overrides: dict[str, object], error: type[Exception]) -> None:
    values = {"occurred_at": NOW, **overrides}
    order_id = values.pop("order_id", uuid.uuid4())
    with pytest.raises(error):
        check_refund(make_refund(order_id, **values), now=NOW)  # type: ignore[arg-type]


def test_a_refund_by_lines_spreads_the_discount_and_the_last_one_takes_what_is_left() -> None:
    bought = lines(1000, 500, quantity=3)  # 4 500 gross; 4 000 paid
    first = make_refund(uuid.uuid4(), lines=refund_lines((1, 1)))
    rest = make_refund(uuid.uuid4(), lines=refund_lines((1, 2), (2, 3)))

    one = plan_refund(first, paid_fen=4000, refunded_fen=0, lines=bought, returned={})
    last = plan_refund(rest, paid_fen=4000, refunded_fen=one.amount_fen, lines=bought, returned={1: 1})

    assert one.amount_fen == 889  # 1 000 × 4 000 / 4 500
    assert last.amount_fen == 4000 - 889


def test_a_full_refund_takes_what_is_left_and_by_amount_takes_the_amount() -> None:
    full = plan_refund(make_refund(uuid.uuid4()), paid_fen=1200, refunded_fen=200, lines=lines(1500), returned={})
    part = plan_refund(
        make_refund(uuid.uuid4(), amount_fen=300), paid_fen=1200, refunded_fen=0, lines=lines(1500), returned={}
    )

    assert (full.amount_fen, part.amount_fen) == (1000, 300)


def test_a_refund_of_a_line_the_order_does_not_have_is_invalid() -> None:
    with pytest.raises(InvalidRefund):
        plan_refund(
            make_refund(uuid.uuid4(), lines=refund_lines((3, 1))),
            paid_fen=1200,
            refunded_fen=0,
            lines=lines(1000, 500),
            returned={},
        )


def test_behaviour_rules() -> None:
    check_behaviour(make_behaviour(MEMBER, occurred_at=NOW), now=NOW)
    with pytest.raises(InvalidBehaviour):
        check_behaviour(make_behaviour(MEMBER, occurred_at=NOW, page="p" * 257), now=NOW)
    with pytest.raises(InvalidOccurredAt):
        check_behaviour(make_behaviour(MEMBER, occurred_at=datetime(1990, 1, 1, tzinfo=UTC)), now=NOW)


def test_the_lines_summary_gives_categories_and_the_discounted_share() -> None:
    summary = lines_summary(
        (Line("A", "tea", 2, 1000, discounted=True), Line("B", "snacks", 1, 2000), Line("C", "tea", 1, 1000))
    )

    assert summary["categories"] == [
        {"category": "snacks", "gross_fen": 2000},
        {"category": "tea", "gross_fen": 3000},
    ]
    assert summary["discounted_share"] == 0.4
    assert (summary["item_count"], summary["line_count"]) == (4, 3)
