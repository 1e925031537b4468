"""Pure rules for profile input: birthdays, avatar URLs and short texts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

from members.profile.errors import InvalidBirthday, InvalidProfile
from members.profile.models import AVATAR_URL_LENGTH, TEXT_LENGTH

EARLIEST_BIRTHDAY = date(1900, 1, 1)
SHANGHAI = timezone(timedelta(hours=8))
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_URL = re.compile(r"^https?://[^\s]+$")


def today_in_shanghai(now: datetime | None = None) -> date:
    """The local date the brand's days are counted in (Asia/Shanghai, no daylight saving)."""
    return (now or datetime.now(UTC)).astimezone(SHANGHAI).date()


def check_birthday(birthday: date | None, today: date | None = None) -> date | None:
    """A birthday from 1900-01-01 up to today (Asia/Shanghai); None clears it."""
    if birthday is None:
        return None
    if birthday < EARLIEST_BIRTHDAY or birthday > (today or today_in_shanghai()):
        raise InvalidBirthday("a birthday lies between 1900-01-01 and today")
    return birthday


def month_day(birthday: date | None) -> str | None:
    """The birthday as "MM-DD" (no year), the only part of it other services are told (loyalty's birthday points)."""
    return None if birthday is None else f"{birthday.month:02d}-{birthday.day:02d}"


def clean_text(raw: str | None, what: str) -> str | None:
    """A trimmed short text (city, occupation) of at most 64 characters; empty means none."""
    text = (raw or "").strip()
    if not text:
        return None
    if len(text) > TEXT_LENGTH or _CONTROL.search(text):
        raise InvalidProfile(f"{what} must be at most {TEXT_LENGTH} characters without control characters")
    return text


def clean_avatar_url(raw: str | None) -> str | None:
    """An http(s) URL of at most 512 characters; empty means none."""
    url = (raw or "").strip()
    if not url:
        return None
    if len(url) > AVATAR_URL_LENGTH or not _URL.match(url):
        raise InvalidProfile(f"the avatar must be an http(s) URL of at most {AVATAR_URL_LENGTH} characters")
    return url
