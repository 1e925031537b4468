"""Tags tables (schema `members`): the three-level taxonomy (category → group → tag), members' tags with who
applied them, and the history of applications, removals and merges."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "members"
NAME_LENGTH = 64


class TagKind(StrEnum):
    """Who applies a tag: staff (manual) or a rule (automatic)."""

    MANUAL = "manual"
    AUTOMATIC = "automatic"


class TagStatus(StrEnum):
    """A retired tag is no longer applied but stays readable; a merged one points at the tag that absorbed it."""

    ACTIVE = "active"
    RETIRED = "retired"
    MERGED = "merged"


class TaggingJobStatus(StrEnum):
    """Where tagging an audience stands: running (batches being applied), done, or failed part-way (the batches
    done stay applied; tagging the audience again adds only the rest)."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


def _now() -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=False, server_default=func.now())


class TagCategory(Model, table=True):
    """一级: e.g. basic, behaviour, preference."""

    __tablename__ = "tag_categories"
    __table_args__ = ({"schema": SCHEMA},)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(sa_column=Column(String(NAME_LENGTH), nullable=False, unique=True))
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC), sa_column=_now())


class TagGroup(Model, table=True):
    """二级: e.g. first-order channel, consumer type."""

    __tablename__ = "tag_groups"
    __table_args__ = (UniqueConstraint("category_id", "name"), {"schema": SCHEMA})

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    category_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.tag_categories.id"), nullable=False))
    name: str = Field(sa_column=Column(String(NAME_LENGTH), nullable=False))
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC), sa_column=_now())


class Tag(Model, table=True):
    """三级: the value. An automatic tag has a rule (the audience rule language) and is applied by the refresh
    when enabled; `wecom` tags are projected to WeCom corp tags (3 000 at most in all)."""

    __tablename__ = "tags"
    __table_args__ = (
        UniqueConstraint("group_id", "name"),
        CheckConstraint(_in("kind", TagKind), name="kind"),
        CheckConstraint(_in("status", TagStatus), name="status"),
        CheckConstraint("(kind = 'automatic') = (rule IS NOT NULL)", name="rule_iff_automatic"),
        CheckConstraint("(status = 'merged') = (merged_into IS NOT NULL)", name="merged_into_iff_merged"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    group_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.tag_groups.id"), nullable=False))
    name: str = Field(sa_column=Column(String(NAME_LENGTH), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    rule: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB(none_as_null=True), nullable=True))
    enabled: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    status: str = Field(
        default=TagStatus.ACTIVE.value, sa_column=Column(String(16), nullable=False, server_default="active")
    )
    merged_into: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.tags.id"), nullable=True)
    )
    wecom: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC), sa_column=_now())


class MemberTag(Model, table=True):
    """A member carries a tag: applied by staff (`applied_by` their subject) or by a rule (`automatic`)."""

    __tablename__ = "member_tags"
    __table_args__ = (Index("ix_member_tags_tag_id", "tag_id"), {"schema": SCHEMA})

    member_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.members.id", ondelete="CASCADE"), primary_key=True)
    )
    tag_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.tags.id"), primary_key=True))
    source: str = Field(sa_column=Column(String(16), nullable=False))
    applied_by: str = Field(sa_column=Column(String(128), nullable=False))
    applied_at: datetime = Field(default_factory=lambda: datetime.now(UTC), sa_column=_now())


class TagHistory(Model, table=True):
    """What happened to a member's tag: applied, removed, or moved by a merge (from `tag_id` to `merged_into`)."""

    __tablename__ = "tag_history"
    __table_args__ = (Index("ix_tag_history_member_id", "member_id"), {"schema": SCHEMA})

    seq: int = Field(sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    member_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    tag_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    action: str = Field(sa_column=Column(String(16), nullable=False))
    actor: str = Field(sa_column=Column(String(128), nullable=False))
    at: datetime = Field(default_factory=lambda: datetime.now(UTC), sa_column=_now())


class TaggingJob(Model, table=True):
    """Tagging every member of an audience, a batch at a time: who asked, how many members it covers and how far it
    is (`processed` of `total`, `changed` newly tagged), so staff see progress while it runs and the result after."""

    __tablename__ = "tagging_jobs"
    __table_args__ = (
        CheckConstraint(_in("status", TaggingJobStatus), name="status"),
        CheckConstraint("processed >= 0 AND changed >= 0 AND changed <= processed", name="progress"),
        Index("ix_tagging_jobs_tag_id_started_at", "tag_id", "started_at"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(primary_key=True)
    tag_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.tags.id"), nullable=False))
    audience_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    actor: str = Field(sa_column=Column(String(128), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    total: int = Field(sa_column=Column(BigInteger, nullable=False))
    processed: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    changed: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC), sa_column=_now())
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    error: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
