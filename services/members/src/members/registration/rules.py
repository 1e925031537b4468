"""Pure rules for member input: mobile numbers and nicknames."""

from __future__ import annotations

import re
import unicodedata

from members.domain.errors import InvalidMobile, InvalidNickname

_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = str.maketrans("", "", " -()\u3000")
NICKNAME_MAX = 32


def normalise_mobile(raw: str) -> str:
    """A mainland China mobile as 11 digits: separators and a +86 / 0086 / 86 prefix are removed."""
    digits = raw.strip().translate(_SEPARATORS)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    if not _MAINLAND_MOBILE.match(digits):
        raise InvalidMobile("mobile must be an 11-digit mainland China number starting 13–19")
    return digits


def mask_mobile(mobile: str) -> str:
    """The form shown to roles without personal-data rights: 138****8000."""
    return f"{mobile[:3]}****{mobile[-4:]}"


def clean_nickname(raw: str | None) -> str | None:
    """A trimmed nickname of at most NICKNAME_MAX characters without control characters; empty means none."""
    if raw is None:
        return None
    nickname = unicodedata.normalize("NFC", raw).strip()
    if not nickname:
        return None
    if len(nickname) > NICKNAME_MAX:
        raise InvalidNickname(f"nickname must be at most {NICKNAME_MAX} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in nickname):
        raise InvalidNickname("nickname must not contain control or unassigned characters")
    return nickname
