"""Expected failures of audiences: each names the fact, and nothing is written."""

from __future__ import annotations

from enum import Enum

from yutang_shared.errors import DomainError


class AudiencesErrorCode(Enum):
    """Codes of the audiences feature's expected errors."""

    MEMBERS_INVALID_RULE = "MEMBERS_INVALID_RULE"
    MEMBERS_UNKNOWN_CONDITION = "MEMBERS_UNKNOWN_CONDITION"
    MEMBERS_INVALID_CONDITION_VALUE = "MEMBERS_INVALID_CONDITION_VALUE"
    MEMBERS_EMPTY_RULE_GROUP = "MEMBERS_EMPTY_RULE_GROUP"
    MEMBERS_RULE_TOO_DEEP = "MEMBERS_RULE_TOO_DEEP"
    MEMBERS_UNKNOWN_AUDIENCE = "MEMBERS_UNKNOWN_AUDIENCE"
    MEMBERS_INVALID_AUDIENCE = "MEMBERS_INVALID_AUDIENCE"
    MEMBERS_SNAPSHOT_KEY_REUSED = "MEMBERS_SNAPSHOT_KEY_REUSED"


class InvalidRule(DomainError):
    """The rule is not a well-formed tree (not an object, several of all / any / condition, too many conditions)."""

    code = AudiencesErrorCode.MEMBERS_INVALID_RULE


class UnknownCondition(DomainError):
    """A condition name is not one of the audience conditions."""

    code = AudiencesErrorCode.MEMBERS_UNKNOWN_CONDITION


class InvalidConditionValue(DomainError):
    """A condition's parameter is missing, unknown or of the wrong type or range."""

    code = AudiencesErrorCode.MEMBERS_INVALID_CONDITION_VALUE


class EmptyRuleGroup(DomainError):
    """An all / any group has no rules."""

    code = AudiencesErrorCode.MEMBERS_EMPTY_RULE_GROUP


class RuleTooDeep(DomainError):
    """Groups nest deeper than the limit."""

    code = AudiencesErrorCode.MEMBERS_RULE_TOO_DEEP


class UnknownAudience(DomainError):
    """No saved audience has that id."""

    code = AudiencesErrorCode.MEMBERS_UNKNOWN_AUDIENCE


class InvalidAudience(DomainError):
    """The audience's name is empty or too long."""

    code = AudiencesErrorCode.MEMBERS_INVALID_AUDIENCE


class SnapshotKeyReused(DomainError):
    """The materialisation key was used before for another audience."""

    code = AudiencesErrorCode.MEMBERS_SNAPSHOT_KEY_REUSED
