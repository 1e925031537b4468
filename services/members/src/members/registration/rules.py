"""Pure rules for member input: mobile numbers and nicknames."""

from __future__ import annotations

import re

import regex  # type: ignore[import-untyped]  # for \X (grapheme clusters) and a newer Unicode than unicodedata's

from members.registration.errors import InvalidMobile, InvalidNickname

_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = str.maketrans("", "", " -()\u3000")
NICKNAME_MAX = 32
# Bounds what one user-perceived character may stack (combining marks); 32 of the longest RGI emoji (10 code
# points) fit. The `nickname` column is as wide (a test pins the two together).
NICKNAME_CODE_POINTS = 400

_GRAPHEME = regex.compile(r"\X")
# Control, surrogate, private-use and unassigned characters are never stored.
_NEVER = regex.compile(r"[\p{Cc}\p{Cs}\p{Co}\p{Cn}]")
_FORMAT = regex.compile(r"\p{Cf}")
# Format characters (category Cf) are invisible, so they are only accepted where emoji need them: the zero-width
# joiner between two pictographs (👨‍👩‍👧‍👦) and the tag characters of a subdivision flag (🏴󠁧󠁢󠁳󠁣󠁴󠁿).
_PICTOGRAPH = r"\p{Extended_Pictographic}[\uFE0E\uFE0F\U0001F3FB-\U0001F3FF\p{M}]*"
_EMOJI_SEQUENCE = regex.compile(rf"{_PICTOGRAPH}(?:[\U000E0020-\U000E007E]+\U000E007F)?(?:\u200D{_PICTOGRAPH})*")


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
    """A trimmed nickname of at most NICKNAME_MAX user-perceived characters; empty means none.

    WeChat nicknames carry emoji, so length counts grapheme clusters (👨‍👩‍👧‍👦 is one character, not seven code
    points) and the joiners and tags inside emoji sequences are accepted. Control, surrogate, private-use and
    unassigned characters, and invisible format characters outside emoji, raise InvalidNickname.
    """
    nickname = (raw or "").strip()
    if not nickname:
        return None
    clusters = _GRAPHEME.findall(nickname)
    if len(clusters) > NICKNAME_MAX or len(nickname) > NICKNAME_CODE_POINTS:
        raise InvalidNickname(f"nickname must be at most {NICKNAME_MAX} characters")
    if _NEVER.search(nickname) or not all(_allowed(cluster) for cluster in clusters):
        raise InvalidNickname("nickname must not contain control, invisible or unassigned characters")
    return nickname


def _allowed(cluster: str) -> bool:
    """A cluster with a format character is allowed only when it is one well-formed emoji sequence."""
    return _FORMAT.search(cluster) is None or _EMOJI_SEQUENCE.fullmatch(cluster) is not None
