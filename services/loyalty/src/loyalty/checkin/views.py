"""What check-in use cases return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class CheckedIn:
    """A check-in done: the day, the streak it made, the points earned (or, negative, what a make-up cost), and
    the available balance after."""

    day: date
    streak: int
    points: int
    makeup: bool
    balance: int


@dataclass(frozen=True, slots=True)
class Calendar:
    """A month of a member's check-ins as of a date: the days checked in, the current streak, whether today is
    done, the next check-in's reward, and the month's themed days."""

    month: date
    days: list[CheckedIn]
    streak: int
    checked_in_today: bool
    next_reward: int
    themed: dict[date, int]
