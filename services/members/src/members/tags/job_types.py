"""GraphQL types of tagging jobs (an audience tagged a batch at a time), apart from the tags' own types."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from members.tags.jobs import TaggingJobView
from members.tags.models import TaggingJobStatus
from yutang_shared.enums import graphql_enum

graphql_enum(
    TaggingJobStatus,
    "Where tagging an audience stands.",
    {
        "RUNNING": "Batches are being applied; `processed` grows towards `total`.",
        "DONE": "Every member of the audience in reach was handled.",
        "FAILED": "Stopped part-way (see `error`); the batches done stay applied, tagging again adds only the rest.",
    },
)


@strawberry.type(name="TaggingJob", description="Tagging every member of an audience, a batch at a time.")
class TaggingJobNode:
    id: uuid.UUID = strawberry.field(description="The job.")
    tag_id: uuid.UUID = strawberry.field(description="The manual tag applied.")
    audience_id: uuid.UUID = strawberry.field(description="The saved audience tagged.")
    actor: str = strawberry.field(description="Who asked for it (token subject).")
    status: TaggingJobStatus = strawberry.field(description="Running, done or failed.")
    total: int = strawberry.field(description="Members of the audience in the caller's reach when it started.")
    processed: int = strawberry.field(description="Members handled so far (tagged now or carrying the tag already).")
    changed: int = strawberry.field(description="Members newly tagged so far.")
    started_at: datetime = strawberry.field(description="When it started.")
    finished_at: datetime | None = strawberry.field(description="When it ended; null while running.")
    error: str | None = strawberry.field(description="Why it failed; null otherwise.")

    @classmethod
    def of(cls, view: TaggingJobView) -> TaggingJobNode:
        return cls(**{name: getattr(view, name) for name in TaggingJobView.__slots__})


@strawberry.type(description="The audience was tagged.")
class ApplyTagToAudienceSuccess:
    changed: int = strawberry.field(description="How many members were newly tagged.")
    job: TaggingJobNode = strawberry.field(description="The job, with its counts (as `taggingJobs` lists it).")
