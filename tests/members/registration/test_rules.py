"""Unit tests of the members input rules."""

import pytest

from members.domain.errors import InvalidMobile, InvalidNickname
from members.domain.rules import clean_nickname, mask_mobile, normalise_mobile


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("  19912345678 ", "19912345678"),
    ],
)
def test_mobiles_are_normalised(raw: str, expected: str) -> None:
    assert normalise_mobile(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "12800138000", "1380013800", "138001380000", "abcdefghijk", "1380013800\x00", "+1 415 555 0100"]
)
def test_invalid_mobiles_are_refused(raw: str) -> None:
    with pytest.raises(InvalidMobile):
        normalise_mobile(raw)


def test_mobile_is_masked_for_display() -> None:
    assert mask_mobile("13800138000") == "138****8000"


def test_nickname_is_trimmed_and_empty_means_none() -> None:
    assert clean_nickname("  小鱼 ") == "小鱼"
    assert clean_nickname("   ") is None
    assert clean_nickname(None) is None


@pytest.mark.parametrize("raw", ["x" * 33, "bad\x00name", "tab\tname"])
def test_bad_nicknames_are_refused(raw: str) -> None:
    with pytest.raises(InvalidNickname):
        clean_nickname(raw)
