"""Pure rules of VIP entry: the entry rule from settings, the spend window, and the verdict for one member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BUSINESS_ZONE = ZoneInfo("Asia/Shanghai")  # a day, for spend windows, is a day in China
TIER_RANK = {"normal": 0, "silver": 1, "gold": 2, "diamond": 3}


@dataclass(frozen=True, slots=True)
class EntryRule:
    """Spend of at least `min_spend_fen` over the last `window_days` days, or a tier of at least `min_tier`."""

    min_spend_fen: int
    window_days: int
    min_tier: str | None

    def window(self, as_of: date) -> tuple[datetime, datetime]:
        """[start, end) of the spend window that ends with the day `as_of`."""
        end = datetime.combine(as_of + timedelta(days=1), time(), BUSINESS_ZONE)
        return end - timedelta(days=self.window_days), end

    def verdict(self, *, spent_fen: int, tier: str | None, exception: str | None) -> Verdict:
        """Whether a member with this spend, tier and logged exception qualifies, and why (not)."""
        by_tier = self.min_tier is not None and tier is not None and TIER_RANK.get(tier, 0) >= TIER_RANK[self.min_tier]
        if exception is not None:
            return Verdict(True, f"entry exception: {exception}", spent_fen, tier)
        if spent_fen >= self.min_spend_fen:
            return Verdict(True, f"spent {spent_fen} fen in {self.window_days} days", spent_fen, tier)
        if by_tier:
            return Verdict(True, f"tier {tier}", spent_fen, tier)
        needs = f"spent {spent_fen} of {self.min_spend_fen} fen needed in {self.window_days} days"
        tier_part = "" if self.min_tier is None else f"; tier {tier or 'unknown'} below {self.min_tier}"
        return Verdict(False, needs + tier_part, spent_fen, tier)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One member's standing against the entry rule."""

    qualifies: bool
    reason: str
    spent_fen: int
    tier: str | None
