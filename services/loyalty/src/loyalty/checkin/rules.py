"""Pure check-in rules: the reward of a streak day, themed bonus days, the make-up window and cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class CheckInRules:
    """Rewards by streak day over a cycle (7 values: weekly; up to 31: monthly), bonus points on themed days
    (solar terms, brand events), and make-up check-in (补签): within `makeup_days` days before today for
    `makeup_cost` points (0 days: disabled)."""

    rewards: tuple[int, ...] = (5, 5, 10, 5, 5, 10, 30)
    themed: dict[date, int] = field(default_factory=dict)
    makeup_days: int = 3
    makeup_cost: int = 20

    def __post_init__(self) -> None:
        if not 1 <= len(self.rewards) <= 31 or any(r < 0 for r in self.rewards):
            raise ValueError("check-in rewards: 1 to 31 values, none negative")
        if self.makeup_days < 0 or self.makeup_cost < 0 or any(b < 0 for b in self.themed.values()):
            raise ValueError("make-up days, make-up cost and themed bonuses cannot be negative")

    @classmethod
    def parse(cls, rewards: str, themed: str, *, makeup_days: int, makeup_cost: int) -> CheckInRules:
        """`5,5,10,5,5,10,30` and `2026-12-21=50,2027-02-04=30`; ValueError when malformed."""
        values = tuple(int(v) for v in rewards.split(",") if v.strip()) if rewards.strip() else cls().rewards
        days: dict[date, int] = {}
        for item in (p.strip() for p in themed.split(",")):
            if item:
                day, _, bonus = item.partition("=")
                days[date.fromisoformat(day.strip())] = int(bonus)
        return cls(values, days, makeup_days, makeup_cost)

    def streak_after(self, previous: int | None) -> int:
        """The streak a check-in makes when the day before had `previous` (None: not checked in)."""
        return (previous or 0) + 1

    def reward(self, streak: int, day: date) -> int:
        """The points of a check-in on `day` making `streak`: the cycle's value for the streak day, plus the
        themed bonus of the day."""
        return self.rewards[(streak - 1) % len(self.rewards)] + self.themed.get(day, 0)

    def makeup_allowed(self, day: date, as_of: date) -> bool:
        """Whether `day` may be made up on `as_of`: enabled, and within the window before it."""
        return self.makeup_days > 0 and as_of - timedelta(days=self.makeup_days) <= day < as_of
