"""Tagging a saved audience as a job: batches within the caller's reach, progress on the job row, a failure that
keeps the batches done, and a second run that adds only the rest."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from members.audiences.service import save_audience
from members.audit.service import Actor
from members.authorization import MemberScope
from members.tags.jobs import tag_audience, tagging_jobs
from members.tags.models import TaggingJobStatus
from members.tags.repository import TagRepository
from members.tags.service import create_category, create_group, create_tag, tag_members
from members.uow import MembersUnitOfWork
from tests.members.insights.builders import member
from tests.members.orders.conftest import make_stores
from tests.support import SubgraphClient, Tokens
from yutang_shared.db import session_factory

OPS = Actor("ops-test", "ops")
S001 = MemberScope(stores=frozenset({"S001"}))


def uow(engine: AsyncEngine) -> MembersUnitOfWork:
    return MembersUnitOfWork(session_factory(engine))


async def tagged(engine: AsyncEngine, tag_id: uuid.UUID) -> set[uuid.UUID]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT member_id FROM members.member_tags WHERE tag_id = :t"), {"t": tag_id}
        )
        return set(rows.scalars())


async def given_an_audience(engine: AsyncEngine) -> tuple[uuid.UUID, Any, list[uuid.UUID], list[uuid.UUID]]:
    """A manual tag; an audience of members from ads: five at S001 (one tagged already), two at S002; and two
    S001 members from store QR codes, outside the audience."""
    await make_stores(engine, "S001", "S002")
    ours = [await member(engine, source="ads", store="S001") for _ in range(5)]
    theirs = [await member(engine, source="ads", store="S002") for _ in range(2)]
    for _ in range(2):
        await member(engine, source="store_qr", store="S001")
    category = await create_category(uow(engine), OPS, name="campaign")
    group = await create_group(uow(engine), OPS, category_id=category, name="double eleven")
    tag = await create_tag(uow(engine), OPS, group_id=group, name="ads wave 1")
    await tag_members(uow(engine), OPS, tag_id=tag, member_ids=[ours[0]], scope=None)
    rule = {"all": [{"condition": "source_channel", "in": ["ads"]}]}
    audience = await save_audience(uow(engine), OPS, name="from ads", rule=rule)
    return tag, audience, ours, theirs


async def test_an_audience_is_tagged_in_batches_within_reach_and_the_job_counts_it(engine: AsyncEngine) -> None:
    tag, audience, ours, _ = await given_an_audience(engine)

    job = await tag_audience(uow(engine), Actor("guide-1", "staff"), tag_id=tag, audience=audience, scope=S001, batch=2)

    assert (job.status, job.total, job.processed, job.changed) == (TaggingJobStatus.DONE, 5, 5, 4)
    assert job.finished_at is not None
    assert job.error is None
    assert await tagged(engine, tag) == set(ours)  # S002's members are out of the guide's reach
    [listed] = await tagging_jobs(uow(engine), tag_id=tag)
    assert listed == job
    async with engine.connect() as connection:
        history = await connection.scalar(
            text("SELECT count(*) FROM members.tag_history WHERE tag_id = :t AND actor = 'guide-1'"), {"t": tag}
        )
    assert history == 4


async def test_a_failed_batch_keeps_the_batches_done_and_a_second_run_adds_only_the_rest(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an audience of seven (one tagged already), and a database that fails the third batch of two
    tag, audience, ours, theirs = await given_an_audience(engine)
    apply = TagRepository.apply
    calls = 0

    async def failing_third(self: TagRepository, *args: Any, **kwargs: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("connection lost")
        return await apply(self, *args, **kwargs)

    monkeypatch.setattr(TagRepository, "apply", failing_third)

    # when the audience is tagged, it fails part-way
    with pytest.raises(RuntimeError, match="connection lost"):
        await tag_audience(uow(engine), OPS, tag_id=tag, audience=audience, scope=None, batch=2)

    # then the job says how far it got and why it stopped; the first two batches stay applied
    [failed] = await tagging_jobs(uow(engine), tag_id=tag)
    assert (failed.status, failed.total, failed.processed) == (TaggingJobStatus.FAILED, 7, 4)
    assert failed.error == "RuntimeError: connection lost"
    assert len(await tagged(engine, tag)) == 1 + failed.changed

    # and tagging again finishes the job's work without tagging anyone twice
    monkeypatch.setattr(TagRepository, "apply", apply)
    again = await tag_audience(uow(engine), OPS, tag_id=tag, audience=audience, scope=None, batch=2)
    assert (again.status, again.processed, again.changed) == (TaggingJobStatus.DONE, 7, 6 - failed.changed)
    assert await tagged(engine, tag) == set(ours + theirs)
    assert [j.id for j in await tagging_jobs(uow(engine), tag_id=tag)] == [again.id, failed.id]


TAG_AUDIENCE = """
mutation($tag: UUID!, $audience: UUID!) { applyTagToAudience(id: $tag, audienceId: $audience) {
  __typename ... on ApplyTagToAudienceSuccess { changed job { status total processed changed actor } } } }
"""
JOBS = "query($tag: UUID!) { taggingJobs(tagId: $tag) { status total processed changed } }"


async def test_a_store_manager_tags_an_audience_over_graphql_and_sees_the_job(
    engine: AsyncEngine, members_api: SubgraphClient, tokens: Tokens
) -> None:
    # given the audience "from ads" (five S001 members, one tagged already, and two at S002)
    tag, audience, _, _ = await given_an_audience(engine)
    manager = tokens.staff_in("store_manager", stores=("S001",))

    # when the S001 store manager tags it
    body = await members_api(TAG_AUDIENCE, {"tag": str(tag), "audience": str(audience.id)}, token=manager)

    # then their four untagged members are tagged, and the job is listed with its counts
    result = body["data"]["applyTagToAudience"]
    assert result["__typename"] == "ApplyTagToAudienceSuccess"
    assert result["changed"] == 4
    assert {k: v for k, v in result["job"].items() if k != "actor"} == {
        "status": "DONE",
        "total": 5,
        "processed": 5,
        "changed": 4,
    }
    jobs = (await members_api(JOBS, {"tag": str(tag)}, token=manager))["data"]["taggingJobs"]
    assert jobs == [{"status": "DONE", "total": 5, "processed": 5, "changed": 4}]
