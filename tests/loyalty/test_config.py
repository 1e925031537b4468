"""The loyalty settings parse their rules once, when built, and refuse malformed rules at start-up."""

import pytest
from pydantic import ValidationError

from loyalty.config import LoyaltySettings

URL = "postgresql+asyncpg://yutang@localhost/yutang"


def test_rules_are_parsed_once_when_the_settings_are_built() -> None:
    settings = LoyaltySettings(database_url=URL, checkin_rewards="1,2,3,4,5,6,7", tier_grace_days=10)

    assert settings.checkin_rules() is settings.checkin_rules()
    assert settings.checkin_rules().rewards == (1, 2, 3, 4, 5, 6, 7)
    assert settings.tier_rules() is settings.tier_rules()
    assert settings.tier_rules().grace_days == 10
    assert settings.expiry_policies() is settings.expiry_policies()
    assert settings.cash_rules() is settings.cash_rules()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("points_expiry", "bogus", "neither default nor an entry kind"),
        ("checkin_rewards", "5,x", "invalid literal for int"),
        ("tier_levels", "[{", "tier levels: Expecting property name"),
        ("cash_max_share_percent", "0", "maximum share 1–100"),
    ],
)
def test_malformed_rules_stop_the_settings_from_being_built(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        LoyaltySettings(database_url=URL, **{field: value})

    assert message in refused.value.errors()[0]["msg"]
