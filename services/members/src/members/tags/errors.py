"""Expected failures of tags: each names the fact, and nothing is written."""

from __future__ import annotations

from enum import Enum

from yutang_shared.errors import DomainError


class TagsErrorCode(Enum):
    """Codes of the tags feature's expected errors."""

    MEMBERS_UNKNOWN_TAG = "MEMBERS_UNKNOWN_TAG"
    MEMBERS_INVALID_TAG = "MEMBERS_INVALID_TAG"
    MEMBERS_TAG_NAME_TAKEN = "MEMBERS_TAG_NAME_TAKEN"
    MEMBERS_TAG_RETIRED = "MEMBERS_TAG_RETIRED"
    MEMBERS_WECOM_TAG_BUDGET_EXCEEDED = "MEMBERS_WECOM_TAG_BUDGET_EXCEEDED"


class UnknownTag(DomainError):
    """No tag, group or category has that id."""

    code = TagsErrorCode.MEMBERS_UNKNOWN_TAG


class InvalidTag(DomainError):
    """A name is empty or too long, a manual tag got a rule, an automatic one none, or a merge names one tag twice,
    or a manual tag was asked of a rule (or the other way round)."""

    code = TagsErrorCode.MEMBERS_INVALID_TAG


class TagNameTaken(DomainError):
    """The name is already used at that level (category, group in its category, tag in its group)."""

    code = TagsErrorCode.MEMBERS_TAG_NAME_TAKEN


class TagRetired(DomainError):
    """The tag is retired or merged: it can be read but no longer applied or changed."""

    code = TagsErrorCode.MEMBERS_TAG_RETIRED


class WecomTagBudgetExceeded(DomainError):
    """Projecting one more tag to WeCom would pass its limit of corp tags."""

    code = TagsErrorCode.MEMBERS_WECOM_TAG_BUDGET_EXCEEDED
