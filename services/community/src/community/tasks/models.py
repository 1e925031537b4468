"""Operator task table (schema `community`) and its vocabularies: what is to be done, and how it ended."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Date, DateTime, ForeignKey, Index, String, Text, Uuid, func, text
from sqlmodel import Field

from community.groups.models import SCHEMA, one_of
from yutang_shared.db import Model


class TaskKind(StrEnum):
    """What a staff member is asked to do in WeCom."""

    CREATE_GROUP = "create_group"
    POST_NOTICE = "post_notice"
    INVITE_MEMBER = "invite_member"
    WARN_MEMBER = "warn_member"
    REMOVE_MEMBER = "remove_member"
    MOVE_TO_BUFFER = "move_to_buffer"
    DISSOLVE_GROUP = "dissolve_group"


class TaskStatus(StrEnum):
    """Where a task is; only an open task can be completed or skipped."""

    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"
    EXPIRED = "expired"


class OperatorTask(Model, table=True):
    """One thing a staff member does by hand. `key` is deterministic (e.g. `notice:<group>`), so a flow that runs
    twice, or a retried call, finds the task it made instead of making a second one."""

    __tablename__ = "operator_tasks"
    __table_args__ = (
        CheckConstraint(one_of("kind", TaskKind), name="kind"),
        CheckConstraint(one_of("status", TaskStatus), name="status"),
        Index("ix_operator_tasks_assignee_status", "assignee", "status"),
        Index("ix_operator_tasks_group_id", "group_id"),
        Index("ix_operator_tasks_created_at_id", "created_at", "id"),
        # At most one open invitation per member, whoever asks for it.
        Index(
            "uq_operator_tasks_one_open_invite",
            "member_id",
            unique=True,
            postgresql_where=text("kind = 'invite_member' AND status = 'open'"),
        ),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    key: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    group_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.groups.id"), nullable=False))
    member_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid, nullable=True))
    target_group_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.groups.id"), nullable=True)
    )
    assignee: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    as_of: date = Field(sa_column=Column(Date, nullable=False))
    due_on: date = Field(sa_column=Column(Date, nullable=False))
    message: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=TaskStatus.OPEN.value, sa_column=Column(String(16), nullable=False))
    outcome: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    closed_by: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
