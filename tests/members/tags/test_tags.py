"""Tags: the taxonomy with usage counts, manual tagging within reach, automatic rules (preview, enable, apply
idempotently), merge with history, retire, and the WeCom budget."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from members.audit.service import Actor
from members.authorization import MemberScope
from members.tags import rules
from members.tags.errors import InvalidTag, TagNameTaken, TagRetired, WecomTagBudgetExceeded
from members.tags.service import (
    apply_automatic_tags,
    create_category,
    create_group,
    create_tag,
    merge_tags,
    preview_tag,
    retire_tag,
    tag_members,
    tags_of_members,
    taxonomy,
    update_tag,
)
from members.uow import MembersUnitOfWork
from tests.members.insights.builders import AS_OF, member, order, refresh
from tests.members.orders.conftest import make_stores
from yutang_shared.db import session_factory

OPS = Actor("ops-test", "ops")
GUIDE = Actor("guide-1", "staff")


def uow(engine: AsyncEngine) -> MembersUnitOfWork:
    return MembersUnitOfWork(session_factory(engine))


async def a_group(engine: AsyncEngine) -> uuid.UUID:
    category = await create_category(uow(engine), OPS, name="preference")
    return await create_group(uow(engine), OPS, category_id=category, name="taste")


async def test_manual_tags_reach_only_members_in_scope_and_record_who(engine: AsyncEngine) -> None:
    await make_stores(engine, "S001", "S002")
    mine, theirs = await member(engine, store="S001"), await member(engine, store="S002")
    tag = await create_tag(uow(engine), OPS, group_id=await a_group(engine), name="green tea")
    scope = MemberScope(stores=frozenset({"S001"}))
    changed = await tag_members(uow(engine), GUIDE, tag_id=tag, member_ids=[mine, theirs], scope=scope)
    again = await tag_members(uow(engine), GUIDE, tag_id=tag, member_ids=[mine], scope=scope)
    assert (changed, again) == (1, 0)
    [[carried], none] = await tags_of_members(uow(engine), [mine, theirs])
    assert (carried.name, carried.applied_by, none) == ("green tea", "guide-1", [])
    [category] = await taxonomy(uow(engine))
    assert category.groups[0].tags[0].usage == 1
    removed = await tag_members(uow(engine), GUIDE, tag_id=tag, member_ids=[mine], scope=scope, remove=True)
    assert removed == 1
    async with engine.connect() as connection:
        history = (await connection.execute(text("SELECT action, actor FROM members.tag_history ORDER BY seq"))).all()
    assert [tuple(h) for h in history] == [("applied", "guide-1"), ("removed", "guide-1")]


async def test_names_are_unique_per_level(engine: AsyncEngine) -> None:
    group = await a_group(engine)
    await create_tag(uow(engine), OPS, group_id=group, name="oolong")
    with pytest.raises(TagNameTaken):
        await create_tag(uow(engine), OPS, group_id=group, name="oolong")
    with pytest.raises(TagNameTaken):
        await create_category(uow(engine), OPS, name="preference")
    with pytest.raises(InvalidTag):
        await create_tag(uow(engine), OPS, group_id=group, name="  ")


async def test_merge_moves_members_and_keeps_history(engine: AsyncEngine) -> None:
    group = await a_group(engine)
    one, two = await member(engine), await member(engine)
    source = await create_tag(uow(engine), OPS, group_id=group, name="greentea")
    target = await create_tag(uow(engine), OPS, group_id=group, name="green tea")
    await tag_members(uow(engine), OPS, tag_id=source, member_ids=[one, two], scope=None)
    await tag_members(uow(engine), OPS, tag_id=target, member_ids=[one], scope=None)
    moved = await merge_tags(uow(engine), OPS, source_id=source, target_id=target)
    assert moved == 2
    tags = await tags_of_members(uow(engine), [one, two])
    assert [[t.tag_id for t in member_tags] for member_tags in tags] == [[target], [target]]
    with pytest.raises(TagRetired):
        await tag_members(uow(engine), OPS, tag_id=source, member_ids=[one], scope=None)
    async with engine.connect() as connection:
        merged = (
            await connection.execute(text("SELECT count(*) FROM members.tag_history WHERE action = 'merged'"))
        ).scalar_one()
    assert merged == 2


async def test_a_retired_tag_stays_on_members_but_is_not_applied(engine: AsyncEngine) -> None:
    group = await a_group(engine)
    one = await member(engine)
    tag = await create_tag(uow(engine), OPS, group_id=group, name="old")
    await tag_members(uow(engine), OPS, tag_id=tag, member_ids=[one], scope=None)
    await retire_tag(uow(engine), OPS, tag_id=tag)
    with pytest.raises(TagRetired):
        await tag_members(uow(engine), OPS, tag_id=tag, member_ids=[one], scope=None)
    [[kept]] = await tags_of_members(uow(engine), [one])
    assert kept.status.value == "retired"


async def test_the_wecom_budget_is_enforced(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("members.tags.service.WECOM_TAG_LIMIT", 2)
    group = await a_group(engine)
    await create_tag(uow(engine), OPS, group_id=group, name="a", wecom=True)
    third = await create_tag(uow(engine), OPS, group_id=group, name="c")
    await create_tag(uow(engine), OPS, group_id=group, name="b", wecom=True)
    with pytest.raises(WecomTagBudgetExceeded):
        await create_tag(uow(engine), OPS, group_id=group, name="d", wecom=True)
    with pytest.raises(WecomTagBudgetExceeded):
        await update_tag(uow(engine), OPS, tag_id=third, wecom=True)
    assert rules.WECOM_TAG_LIMIT == 3000


async def test_an_automatic_rule_is_previewed_enabled_then_applied_idempotently(engine: AsyncEngine) -> None:
    group = await a_group(engine)
    buyer, other = await member(engine), await member(engine)
    await order(engine, buyer, 10, paid=9000)
    await order(engine, other, 10, paid=100)
    await refresh(engine)
    rule = {"condition": "total_spend_fen", "min": 5000}
    tag = await create_tag(uow(engine), OPS, group_id=group, name="big spender", rule=rule)
    assert await preview_tag(uow(engine), tag_id=tag, as_of=AS_OF) == 1
    before = await apply_automatic_tags(uow(engine), as_of=AS_OF)
    assert [t.name for t in (await tags_of_members(uow(engine), [buyer]))[0]] == [
        t.name for t in (await tags_of_members(uow(engine), [buyer]))[0] if t.name != "big spender"
    ]  # disabled: not applied
    await update_tag(uow(engine), OPS, tag_id=tag, enabled=True)
    first = await apply_automatic_tags(uow(engine), as_of=AS_OF)
    second = await apply_automatic_tags(uow(engine), as_of=AS_OF)
    assert first.tags == before.tags + 1
    assert (second.applied, second.removed, second.installed) == (0, 0, 0)
    names = [{t.name for t in member_tags} for member_tags in await tags_of_members(uow(engine), [buyer, other])]
    assert "big spender" in names[0]
    assert "big spender" not in names[1]
    with pytest.raises(InvalidTag):
        await tag_members(uow(engine), OPS, tag_id=tag, member_ids=[other], scope=None)
