"""`python -m yutang_dev reconcile points [--as-of DATE]`: members' orders beside loyalty's entries, every difference,
and loyalty's lots beside its balances and entries (`lotMismatches`).

Both sides are read through the gateway with an ops token (services never read each other's tables): members'
`orders` (paid, refunded, whether they earn) and loyalty's `orderPoints` (its record of each order and the sums
of the ledger entries naming it). The expected points come from loyalty's own rules (`loyalty.earning.rules`,
configured by the same `LOYALTY_*` variables as the service), with the tier multiplier loyalty recorded when the
order earned.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx

from loyalty.config import LoyaltySettings
from loyalty.earning.rules import EarnRules, local_date, reversed_through
from loyalty.earning.service import rules_of
from yutang_dev.tokens import load_private_key, mint_token
from yutang_shared.auth import Role

ORDERS = """query($after: Cursor) { orders(first: 100, after: $after) {
  edges { node { id memberId paidFen refundedFen occurredAt earnsPoints } } pageInfo { hasNextPage endCursor } } }"""
LOT_MISMATCHES = "query { lotMismatches { kind subjectId expected found } }"
ORDER_POINTS = """query($after: Cursor) { orderPoints(first: 100, after: $after) {
  edges { node { orderId memberId recorded paidFen refundedFen points tierMultiplier status releaseOn
    ledgerEarned ledgerReleased ledgerReversed } } pageInfo { hasNextPage endCursor } } }"""


@dataclass(frozen=True, slots=True)
class Difference:
    """One way an order's points differ from what its order says."""

    order_id: str
    member_id: str
    kind: str  # missing earn, wrong amount, missing reversal, wrong reversal, release due, orphan entry, lots: …
    expected: int
    found: int


class ReconcileError(RuntimeError):
    """The gateway refused or failed a read."""


def reconcile_points(
    gateway: str, token: str, *, as_of: date | None = None, rules: EarnRules | None = None
) -> list[Difference]:
    """Every difference between members' orders and loyalty's entries; orders paid after `as_of` (a local date)
    are left out, and with `as_of` pending points due by then count as a difference."""
    rules = rules or rules_of(LoyaltySettings(database_url="postgresql+asyncpg://unused"))
    with httpx.Client(timeout=60, headers={"authorization": f"Bearer {token}"}) as client:
        orders = {o["id"]: o for o in _pages(client, gateway, ORDERS, "orders")}
        loyalty = {o["orderId"]: o for o in _pages(client, gateway, ORDER_POINTS, "orderPoints")}
        differences = list(_lot_mismatches(client, gateway))
    for order_id, order in orders.items():
        paid_at = datetime.fromisoformat(order["occurredAt"])
        if as_of is not None and local_date(paid_at) > as_of:
            continue
        differences.extend(order_differences(order, loyalty.get(order_id), rules, as_of))
    for order_id, seen in loyalty.items():
        if order_id not in orders and (seen["ledgerEarned"] or seen["ledgerReleased"] or seen["ledgerReversed"]):
            differences.append(Difference(order_id, seen["memberId"], "orphan entry", 0, seen["ledgerEarned"]))
    return differences


def _lot_mismatches(client: httpx.Client, gateway: str) -> Iterator[Difference]:
    """Loyalty's own check of its lots: balances against lots, lots against their consumptions, entries against
    the lots they moved (`lotMismatches`). The subject (member, lot or entry) is in the member column."""
    response = client.post(gateway, json={"query": LOT_MISMATCHES})
    body = response.json() if response.headers.get("content-type", "").startswith("application/") else {}
    if response.status_code != 200 or body.get("errors") or "data" not in body:
        raise ReconcileError(f"lotMismatches: HTTP {response.status_code}: {response.text[:500]}")
    for m in body["data"]["lotMismatches"]:
        yield Difference("-", m["subjectId"], f"lots: {m['kind']}", m["expected"], m["found"])


def order_differences(
    order: dict[str, Any], seen: dict[str, Any] | None, rules: EarnRules, as_of: date | None
) -> Iterator[Difference]:
    """How one of members' orders (`orders` node) and loyalty's record of it (`orderPoints` node, None when loyalty
    has none) differ: the points the rules give the order (with the tier multiplier loyalty applied), what refunds
    take back, and, with `as_of`, pending points due by then."""
    order_id, member_id = order["id"], order["memberId"]
    if not order["earnsPoints"]:
        if seen is not None and (seen["ledgerEarned"] or seen["ledgerReleased"]):
            yield Difference(order_id, member_id, "orphan entry", 0, seen["ledgerEarned"])
        return
    multiplier = Decimal(seen["tierMultiplier"]) if seen is not None and seen["tierMultiplier"] else Decimal(1)
    paid_at = datetime.fromisoformat(order["occurredAt"])
    points = rules.points_for(paid_fen=order["paidFen"], occurred_at=paid_at, tier_multiplier=multiplier)
    if seen is None or (points and not seen["ledgerEarned"]):
        if points:
            yield Difference(order_id, member_id, "missing earn", points, 0)
        return
    if seen["status"] == "FORFEITED":
        return
    if seen["ledgerEarned"] != points:
        yield Difference(order_id, member_id, "wrong amount", points, seen["ledgerEarned"])
    reversed_ = reversed_through(points, paid_fen=order["paidFen"], refunded_fen=order["refundedFen"])
    if seen["ledgerReversed"] < reversed_:
        yield Difference(order_id, member_id, "missing reversal", reversed_, seen["ledgerReversed"])
    elif seen["ledgerReversed"] > reversed_:
        yield Difference(order_id, member_id, "wrong reversal", reversed_, seen["ledgerReversed"])
    due = as_of is not None and seen["status"] == "PENDING" and date.fromisoformat(seen["releaseOn"]) <= as_of
    if due:
        yield Difference(order_id, member_id, "release due", points - reversed_, seen["ledgerReleased"])


def _pages(client: httpx.Client, gateway: str, query: str, field: str) -> Iterator[dict[str, Any]]:
    after: str | None = None
    while True:
        response = client.post(gateway, json={"query": query, "variables": {"after": after}})
        body = response.json() if response.headers.get("content-type", "").startswith("application/") else {}
        if response.status_code != 200 or body.get("errors") or "data" not in body:
            raise ReconcileError(f"{field}: HTTP {response.status_code}: {response.text[:500]}")
        page = body["data"][field]
        yield from (edge["node"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return
        after = page["pageInfo"]["endCursor"]


def add_reconcile_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`reconcile points [--as-of DATE] [--gateway URL] [--token JWT]`."""
    parser = commands.add_parser("reconcile", help="compare services' records: members' orders with loyalty's points")
    actions = parser.add_subparsers(required=True, metavar="what")
    points = actions.add_parser("points", help="every difference between orders and their points")
    points.add_argument("--as-of", type=date.fromisoformat, help="only orders paid up to this local date (YYYY-MM-DD)")
    points.add_argument(
        "--gateway",
        default=os.environ.get("YUTANG_GATEWAY_URL", "http://127.0.0.1:4000/graphql"),
        help="the gateway's GraphQL URL (default $YUTANG_GATEWAY_URL or the make run gateway)",
    )
    points.add_argument("--token", help="an ops token (default: one signed with the development key)")
    points.set_defaults(handler=_points)


def _points(args: argparse.Namespace) -> int:
    token = args.token or mint_token(load_private_key(), role=Role.OPS, subject="reconcile")
    try:
        differences = reconcile_points(args.gateway, token, as_of=args.as_of)
    except (ReconcileError, httpx.HTTPError) as exc:
        raise RuntimeError(f"reconcile: {exc}") from exc
    if not differences:
        print("no differences: every order's points are what its order says, and every balance is its lots")
        return 0
    print(f"{'order':<36}  {'member':<36}  {'difference':<16} {'expected':>9} {'found':>9}")
    for d in differences:
        print(f"{d.order_id:<36}  {d.member_id:<36}  {d.kind:<16} {d.expected:>9} {d.found:>9}")
    print(f"{len(differences)} difference(s)")
    return 1
