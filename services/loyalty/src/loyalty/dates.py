"""The `asOf` dates resolvers take: today in Asia/Shanghai by default, and only where date arithmetic is safe."""

from __future__ import annotations

from datetime import UTC, date, datetime

from loyalty.points.lots import local_date
from yutang_shared.errors import BadUserInput

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def local_day(as_of: date | None) -> date:
    """`asOf` as given (BadUserInput outside 2000–2999), else today in Asia/Shanghai."""
    if as_of is not None and not FIRST_DAY <= as_of <= LAST_DAY:
        raise BadUserInput("dates are 2000-01-01 to 2999-12-31")
    return as_of or local_date(datetime.now(UTC))
