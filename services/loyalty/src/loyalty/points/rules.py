"""Pure rules for points adjustments."""

from __future__ import annotations

import re
import unicodedata

from loyalty.points.errors import InvalidAdjustment

REASON_MAX = 200
KEY_PATTERN = re.compile(r"^[A-Za-z0-9:._/-]{1,128}$")


def check_adjustment(*, points: int, reason: str, idempotency_key: str, max_points: int) -> str:
    """Validate an adjustment; return the reason trimmed. Raises InvalidAdjustment."""
    if points == 0:
        raise InvalidAdjustment("points must not be zero")
    if abs(points) > max_points:
        raise InvalidAdjustment(f"an adjustment is at most {max_points} points either way")
    if not KEY_PATTERN.match(idempotency_key):
        raise InvalidAdjustment("idempotencyKey must be 1–128 characters of letters, digits and : . _ / -")
    cleaned = reason.strip()
    if not cleaned or len(cleaned) > REASON_MAX:
        raise InvalidAdjustment(f"reason must be 1–{REASON_MAX} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in cleaned):
        raise InvalidAdjustment("reason must not contain control characters")
    return cleaned
