"""Unit tests of the members input rules."""

import pytest

from members.profile.models import NICKNAME_CODE_POINTS, Member
from members.registration.errors import InvalidMobile, InvalidNickname
from members.registration.rules import NICKNAME_CODE_POINTS as NICKNAME_RULE_CODE_POINTS
from members.registration.rules import clean_nickname, mask_mobile, normalise_mobile


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


FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦: 7 code points, one character
EMOJI = {
    "zwj family": FAMILY,
    "zwj profession with skin tone": "\U0001f9d1\U0001f3fd\u200d\U0001f4bb",  # 🧑🏽‍💻
    "zwj with variation selector": "\U0001f3f3\ufe0f\u200d\U0001f308",  # 🏳️‍🌈
    "flag": "\U0001f1e8\U0001f1f3",  # 🇨🇳: two regional indicators
    "skin tone": "\U0001f44d\U0001f3fd",  # 👍🏽
    "keycap": "1\ufe0f\u20e3",  # 1️⃣
    "variation selector": "\u2764\ufe0f",  # ❤️
    "tag sequence": "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland
    "combining mark": "e\u0301",  # é as two code points
}


@pytest.mark.parametrize("emoji", EMOJI.values(), ids=EMOJI.keys())
def test_emoji_nicknames_are_accepted_as_one_character_each(emoji: str) -> None:
    nickname = "小鱼" + emoji * 30

    assert clean_nickname(nickname) == nickname


def test_the_limit_counts_user_perceived_characters() -> None:
    assert clean_nickname(FAMILY * 32) == FAMILY * 32
    with pytest.raises(InvalidNickname):
        clean_nickname(FAMILY * 33)


@pytest.mark.parametrize("emoji", EMOJI.values(), ids=EMOJI.keys())
def test_one_emoji_over_the_limit_is_refused(emoji: str) -> None:
    with pytest.raises(InvalidNickname):
        clean_nickname("x" * 32 + emoji)


@pytest.mark.parametrize(
    "raw",
    [
        "bad\x00name",  # NUL
        "line\nbreak",  # Cc
        "del\x7fete",  # Cc
        "esc\x1b[31m",  # Cc: terminal escape
        "bell\x07",  # Cc
        "lone\ud800",  # surrogate
        "private\ue000",  # private use
        "unassigned\U0010ffff",  # noncharacter
    ],
)
def test_control_surrogate_private_and_unassigned_characters_are_refused(raw: str) -> None:
    with pytest.raises(InvalidNickname):
        clean_nickname(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "a\u200db",  # a joiner between letters, not emoji
        "\u200d",  # a joiner alone
        "\U0001f44d\u200d",  # a joiner with nothing to join
        "zero\u200bwidth",  # zero-width space
        "\u202eevil",  # right-to-left override
        "a\U000e0061\U000e007f",  # tags without their black flag
        "\U0001f3f4\U000e0067",  # a tag sequence without its cancel tag
    ],
)
def test_invisible_format_characters_outside_emoji_are_refused(raw: str) -> None:
    with pytest.raises(InvalidNickname):
        clean_nickname(raw)


def test_one_character_cannot_stack_past_the_column() -> None:
    with pytest.raises(InvalidNickname):
        clean_nickname("e" + "\u0301" * NICKNAME_RULE_CODE_POINTS)


def test_the_column_holds_the_longest_nickname_the_rules_accept() -> None:
    assert Member.__table__.c.nickname.type.length == NICKNAME_CODE_POINTS == NICKNAME_RULE_CODE_POINTS  # type: ignore[attr-defined]
