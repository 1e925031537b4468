"""Unit tests of the group rules: names, scope names, capacities and default settings."""

import pytest

from community.config import CommunitySettings
from community.groups.errors import InvalidGroup
from community.groups.models import GroupType
from community.groups.rules import check_capacity, clean_group_name, clean_scope_name, numbered_name


def test_generated_names_follow_the_template() -> None:
    assert numbered_name(12, "翠湖小区", "BrandX") == "012·翠湖小区·BrandX"
    assert numbered_name(1, "望京", "Yutang") == "001·望京·Yutang"
    assert numbered_name(1234, "望京", "Yutang") == "1234·望京·Yutang"


def test_a_generated_name_longer_than_64_characters_is_refused() -> None:
    with pytest.raises(InvalidGroup):
        numbered_name(1, "区" * 64, "Yutang")


def test_scope_names_and_names_are_trimmed() -> None:
    assert clean_scope_name("  翠湖小区 ") == "翠湖小区"
    assert clean_group_name(" VIP 一群 ") == "VIP 一群"


@pytest.mark.parametrize("raw", ["", "   ", "x" * 65, "bad\x00name", "tab\tname"])
def test_bad_scope_names_and_names_are_refused(raw: str) -> None:
    with pytest.raises(InvalidGroup):
        clean_scope_name(raw)
    with pytest.raises(InvalidGroup):
        clean_group_name(raw)


@pytest.mark.parametrize(("requested", "expected"), [(None, 400), (1, 1), (500, 500), (37, 37)])
def test_capacity_is_the_requested_one_or_the_default(requested: int | None, expected: int) -> None:
    assert check_capacity(requested, 400) == expected


@pytest.mark.parametrize("requested", [0, -1, 501, 10_000])
def test_capacity_outside_wecom_limits_is_refused(requested: int) -> None:
    with pytest.raises(InvalidGroup):
        check_capacity(requested, 400)


def test_default_capacities_by_type() -> None:
    settings = CommunitySettings(database_url="postgresql+asyncpg://unused")

    assert [settings.default_capacity(t) for t in GroupType] == [400, 200, 500, 400]
    assert settings.brand_name == "Yutang"


def test_settings_read_the_brand_and_capacities_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMUNITY_BRAND_NAME", "BrandX")
    monkeypatch.setenv("COMMUNITY_CAPACITY_VIP", "150")

    settings = CommunitySettings(database_url="postgresql+asyncpg://unused")

    assert settings.brand_name == "BrandX"
    assert settings.default_capacity(GroupType.VIP) == 150


def test_a_default_capacity_above_wecom_cap_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMUNITY_CAPACITY_BUFFER", "501")

    with pytest.raises(ValueError, match="capacity_buffer"):
        CommunitySettings(database_url="postgresql+asyncpg://unused")
