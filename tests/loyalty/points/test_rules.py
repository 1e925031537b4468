"""Unit tests of the adjustment rules."""

import pytest

from loyalty.points.errors import InvalidAdjustment
from loyalty.points.rules import check_adjustment


def test_a_valid_adjustment_keeps_its_trimmed_reason() -> None:
    assert check_adjustment(points=-5, reason=" 补偿 ", idempotency_key="run:1/m-2", max_points=100) == "补偿"


@pytest.mark.parametrize(
    ("points", "reason", "key"),
    [
        (0, "r", "k"),
        (101, "r", "k"),
        (-101, "r", "k"),
        (1, "   ", "k"),
        (1, "x" * 201, "k"),
        (1, "bad\x00reason", "k"),
        (1, "r", ""),
        (1, "r", "has space"),
        (1, "r", "k" * 129),
    ],
)
def test_malformed_adjustments_are_refused(points: int, reason: str, key: str) -> None:
    with pytest.raises(InvalidAdjustment):
        check_adjustment(points=points, reason=reason, idempotency_key=key, max_points=100)
