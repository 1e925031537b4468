"""Tagging a whole audience as a job: batches of members, each its own transaction, with progress staff can watch."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import col

from members.audiences.compiler import compile_rule
from members.audiences.rules import parse_rule
from members.audiences.service import AudienceView, now
from members.audit.service import Actor, record
from members.authorization import MemberScope
from members.profile.models import Member
from members.profile.repository import reached
from members.tags.models import TaggingJob, TaggingJobStatus, TagKind
from members.tags.repository import rule_members
from members.tags.service import manual_tag
from members.uow import MembersUnitOfWork
from yutang_shared.ids import uuid7

log = logging.getLogger(__name__)

BATCH = 5_000  # members a transaction: short locks, and progress that moves every second or so
JOBS_LISTED = 20


@dataclass(frozen=True, slots=True)
class TaggingJobView:
    """A tagging job as it stands."""

    id: uuid.UUID
    tag_id: uuid.UUID
    audience_id: uuid.UUID
    actor: str
    status: TaggingJobStatus
    total: int
    processed: int
    changed: int
    started_at: datetime
    finished_at: datetime | None
    error: str | None

    @classmethod
    def of(cls, row: TaggingJob) -> TaggingJobView:
        values = {name: getattr(row, name) for name in cls.__slots__}
        return cls(**values | {"status": TaggingJobStatus(row.status)})


async def tag_audience(
    uow: MembersUnitOfWork,
    actor: Actor,
    *,
    tag_id: uuid.UUID,
    audience: AudienceView,
    scope: MemberScope | None,
    batch: int = BATCH,
) -> TaggingJobView:
    """Apply a manual tag to every member of an audience within `scope`, `batch` members a transaction in id order.
    A job row counts the members it covers and how far it is, so others can watch (`taggingJobs`) while it runs.
    A batch that fails marks the job failed and re-raises; the batches before it stay applied, and tagging the
    audience again adds only the rest (a member tagged already is not tagged twice). Audited when it starts.
    Raises UnknownTag, TagRetired or InvalidTag before anything is written."""
    condition = compile_rule(parse_rule(audience.rule), now())
    in_scope = reached(scope) if scope else []
    members = select(col(Member.id)).where(col(Member.id).in_(rule_members(condition)), *in_scope)
    async with uow:
        tag = await manual_tag(uow, tag_id)
        job = TaggingJob(
            id=uuid7(),
            tag_id=tag.id,
            audience_id=audience.id,
            actor=actor.subject[:128],
            status=TaggingJobStatus.RUNNING.value,
            total=await uow.tagging_jobs.count(members),
        )
        await uow.tagging_jobs.add(job)
        await record(uow, actor, action="applyTagToAudience", target_type="tag", target_ids=(tag_id, audience.id))
        await uow.commit()
    log.info("tagging an audience", extra={"job_id": str(job.id), "tag_id": str(tag_id), "members": job.total})
    try:
        await _run(uow, job, members, batch)
    except Exception as exc:
        await _finish(uow, job.id, TaggingJobStatus.FAILED, f"{type(exc).__name__}: {exc}"[:200])
        raise
    return await _finish(uow, job.id, TaggingJobStatus.DONE)


async def _run(uow: MembersUnitOfWork, job: TaggingJob, members: Select[Any], batch: int) -> None:
    after: uuid.UUID | None = None
    done = 0
    while True:
        async with uow:
            ids = await uow.tagging_jobs.next_batch(members, after, batch)
            if not ids:
                return
            chosen = select(col(Member.id)).where(col(Member.id).in_(ids))
            changed = await uow.tags.apply(job.tag_id, chosen, source=TagKind.MANUAL.value, actor=job.actor)
            await uow.tagging_jobs.advance(job.id, processed=len(ids), changed=changed)
            await uow.commit()
        after, done = ids[-1], done + len(ids)
        log.info("tagging progress", extra={"job_id": str(job.id), "processed": done, "total": job.total})


async def _finish(
    uow: MembersUnitOfWork, job_id: uuid.UUID, status: TaggingJobStatus, error: str | None = None
) -> TaggingJobView:
    async with uow:
        view = TaggingJobView.of(await uow.tagging_jobs.finish(job_id, status, error))
        await uow.commit()
    log.info("tagging finished", extra={"job_id": str(job_id), "status": status.value, "changed": view.changed})
    return view


async def tagging_jobs(uow: MembersUnitOfWork, *, tag_id: uuid.UUID, limit: int = JOBS_LISTED) -> list[TaggingJobView]:
    """The tag's most recent tagging jobs, newest first: running ones show how far they are."""
    async with uow:
        return [TaggingJobView.of(row) for row in await uow.tagging_jobs.of_tag(tag_id, limit)]
