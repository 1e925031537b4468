"""Pure rules of points as cash: the rate, the maximum share of an order, the minimum order, the hold time."""

from __future__ import annotations

from dataclasses import dataclass

from loyalty.payment.errors import QuoteRefused


@dataclass(frozen=True, slots=True)
class CashRules:
    """`points_per_yuan` points pay ¥1 (100 = ¥1); at most `max_share_percent` of an order; orders from
    `min_order_fen`; a hold lasts `hold_minutes`."""

    points_per_yuan: int = 100
    max_share_percent: int = 50
    min_order_fen: int = 1_000
    hold_minutes: int = 15

    def __post_init__(self) -> None:
        if self.points_per_yuan < 1 or not 0 < self.max_share_percent <= 100 or self.min_order_fen < 0:
            raise ValueError("points per yuan ≥ 1, maximum share 1–100 %, minimum order ≥ 0")
        if self.hold_minutes < 1:
            raise ValueError("a hold lasts at least a minute")

    def cap(self, order_amount_fen: int) -> int:
        """The most points an order of `order_amount_fen` may take."""
        return order_amount_fen * self.max_share_percent // 100 * self.points_per_yuan // 100

    def quote(self, *, order_amount_fen: int, balance: int, requested: int | None) -> tuple[int, int]:
        """(points, amount_fen) to hold: what was asked (or as much as allowed), in whole fen. Raises QuoteRefused."""
        if order_amount_fen < self.min_order_fen:
            raise QuoteRefused(f"points pay orders from {self.min_order_fen} fen")
        cap = self.cap(order_amount_fen)
        if requested is not None and (requested < 1 or requested > cap):
            raise QuoteRefused(f"this order takes 1 to {cap} points")
        wanted = requested if requested is not None else min(cap, balance)
        if wanted > balance:
            raise QuoteRefused(f"the balance {balance} cannot cover {wanted} points")
        amount_fen = wanted * 100 // self.points_per_yuan
        points = amount_fen * self.points_per_yuan // 100
        if points < 1 or amount_fen < 1:
            raise QuoteRefused("no points to hold: the balance is below one fen's worth")
        return points, amount_fen
