"""Tags' use cases: the three-level taxonomy with usage counts, manual tagging (members or a whole audience, by
staff within their reach), automatic rules (previewed before they are enabled, applied set-based by the nightly
refresh), merge and retire, and the WeCom budget.

Every change records who did it: members' tags carry `applied_by` and `applied_at`, and tag_history keeps each
application, removal and merge.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from members.audiences.compiler import compile_rule
from members.audiences.rules import parse_rule
from members.audiences.service import now
from members.audit.service import Actor, record
from members.authorization import MemberScope
from members.insights.errors import InvalidAsOf
from members.insights.service import day_start, today
from members.profile.models import Member, MemberStatus
from members.profile.repository import reached
from members.tags.errors import InvalidTag, TagNameTaken, TagRetired, UnknownTag, WecomTagBudgetExceeded
from members.tags.models import MemberTag, Tag, TagCategory, TagGroup, TagKind, TagStatus
from members.tags.rules import DEFAULT_CATEGORY, DEFAULT_TAGS, MAX_BULK, RULE_ACTOR, WECOM_TAG_LIMIT, clean_name
from members.uow import MembersUnitOfWork


@dataclass(frozen=True, slots=True)
class TagView:
    """A tag with its place in the taxonomy and how many members carry it."""

    id: uuid.UUID
    name: str
    group_id: uuid.UUID
    group: str
    category_id: uuid.UUID
    category: str
    kind: TagKind
    rule: dict[str, Any] | None
    enabled: bool
    status: TagStatus
    merged_into: uuid.UUID | None
    wecom: bool
    usage: int


@dataclass(frozen=True, slots=True)
class GroupView:
    id: uuid.UUID
    name: str
    tags: tuple[TagView, ...]


@dataclass(frozen=True, slots=True)
class CategoryView:
    id: uuid.UUID
    name: str
    groups: tuple[GroupView, ...]


@dataclass(frozen=True, slots=True)
class MemberTagView:
    """A tag a member carries, and who applied it when."""

    member_id: uuid.UUID
    tag_id: uuid.UUID
    name: str
    kind: TagKind
    status: TagStatus
    source: str
    applied_by: str
    applied_at: datetime


@dataclass(frozen=True, slots=True)
class AutomaticRun:
    """What applying the automatic rules did."""

    tags: int
    applied: int
    removed: int
    installed: int


def _name(name: str) -> str:
    cleaned = clean_name(name)
    if cleaned is None:
        raise InvalidTag("a name is 1–64 printable characters")
    return cleaned


async def taxonomy(uow: MembersUnitOfWork) -> list[CategoryView]:
    """Every category → group → tag, with each tag's usage count (members carrying it), in four SELECTs."""
    async with uow:
        categories, groups, tags, usage = await uow.tags.taxonomy()
        return _tree(categories, groups, tags, usage)


def _tree(
    categories: list[TagCategory], groups: list[TagGroup], tags: list[Tag], usage: dict[uuid.UUID, int]
) -> list[CategoryView]:
    by_group: dict[uuid.UUID, list[Tag]] = {}
    for tag in tags:
        by_group.setdefault(tag.group_id, []).append(tag)
    names = {c.id: c.name for c in categories}
    group_views: dict[uuid.UUID, list[GroupView]] = {}
    for group in groups:
        views = tuple(
            _view(tag, group, names[group.category_id], usage.get(tag.id, 0)) for tag in by_group.get(group.id, [])
        )
        group_views.setdefault(group.category_id, []).append(GroupView(group.id, group.name, views))
    return [CategoryView(c.id, c.name, tuple(group_views.get(c.id, []))) for c in categories]


def _view(tag: Tag, group: TagGroup, category: str, usage: int) -> TagView:
    return TagView(
        tag.id,
        tag.name,
        group.id,
        group.name,
        group.category_id,
        category,
        TagKind(tag.kind),
        None if tag.rule is None else dict(tag.rule),
        tag.enabled,
        TagStatus(tag.status),
        tag.merged_into,
        tag.wecom,
        usage,
    )


async def create_category(uow: MembersUnitOfWork, actor: Actor, *, name: str) -> uuid.UUID:
    """A new category (一级). Raises InvalidTag, TagNameTaken."""
    cleaned = _name(name)
    async with uow:
        if await uow.tags.name_taken(TagCategory, cleaned, None):
            raise TagNameTaken(f"category {cleaned!r} exists")
        row = TagCategory(name=cleaned)
        await uow.tags.add(row)
        await record(uow, actor, action="createTagCategory", target_type="tag", target_ids=(row.id,))
        await uow.commit()
    return row.id


async def create_group(uow: MembersUnitOfWork, actor: Actor, *, category_id: uuid.UUID, name: str) -> uuid.UUID:
    """A new group (二级) in a category. Raises UnknownTag, InvalidTag, TagNameTaken."""
    cleaned = _name(name)
    async with uow:
        if await uow.tags.category(category_id) is None:
            raise UnknownTag(f"no category {category_id}")
        if await uow.tags.name_taken(TagGroup, cleaned, category_id):
            raise TagNameTaken(f"group {cleaned!r} exists in this category")
        row = TagGroup(category_id=category_id, name=cleaned)
        await uow.tags.add(row)
        await record(uow, actor, action="createTagGroup", target_type="tag", target_ids=(row.id,))
        await uow.commit()
    return row.id


async def create_tag(
    uow: MembersUnitOfWork,
    actor: Actor,
    *,
    group_id: uuid.UUID,
    name: str,
    rule: Any | None = None,
    wecom: bool = False,
) -> uuid.UUID:
    """A new tag (三级): manual without a rule, automatic with one (created disabled: preview it, then enable it).
    Raises UnknownTag, InvalidTag, TagNameTaken, the rule's errors and WecomTagBudgetExceeded."""
    cleaned = _name(name)
    if rule is not None:
        parse_rule(rule)
    async with uow:
        if await uow.tags.group(group_id) is None:
            raise UnknownTag(f"no group {group_id}")
        if await uow.tags.name_taken(Tag, cleaned, group_id):
            raise TagNameTaken(f"tag {cleaned!r} exists in this group")
        if wecom:
            await _check_budget(uow)
        kind = TagKind.MANUAL if rule is None else TagKind.AUTOMATIC
        row = Tag(group_id=group_id, name=cleaned, kind=kind.value, rule=rule, enabled=False, wecom=wecom)
        await uow.tags.add(row)
        await record(uow, actor, action="createTag", target_type="tag", target_ids=(row.id,))
        await uow.commit()
    return row.id


async def _check_budget(uow: MembersUnitOfWork) -> None:
    await uow.tags.lock_wecom_budget()
    if await uow.tags.wecom_count() >= WECOM_TAG_LIMIT:
        raise WecomTagBudgetExceeded(
            f"WeCom allows at most {WECOM_TAG_LIMIT:,} corp tags; retire or unproject some first", limit=WECOM_TAG_LIMIT
        )


async def _active(uow: MembersUnitOfWork, tag_id: uuid.UUID) -> Tag:
    tag = await uow.tags.tag(tag_id, lock=True)
    if tag is None:
        raise UnknownTag(f"no tag {tag_id}")
    if tag.status != TagStatus.ACTIVE:
        raise TagRetired(f"tag {tag.name!r} is {tag.status}")
    return tag


async def update_tag(
    uow: MembersUnitOfWork,
    actor: Actor,
    *,
    tag_id: uuid.UUID,
    name: str | None = None,
    rule: Any | None = None,
    enabled: bool | None = None,
    wecom: bool | None = None,
) -> None:
    """Rename, change an automatic tag's rule, enable / disable it, project it to WeCom or not. Raises UnknownTag,
    TagRetired, InvalidTag (a rule or enabling for a manual tag), TagNameTaken, the rule's errors and
    WecomTagBudgetExceeded."""
    if rule is not None:
        parse_rule(rule)
    async with uow:
        tag = await _active(uow, tag_id)
        if (rule is not None or enabled is not None) and tag.kind != TagKind.AUTOMATIC:
            raise InvalidTag("only an automatic tag has a rule to change or enable")
        if name is not None:
            cleaned = _name(name)
            if cleaned != tag.name and await uow.tags.name_taken(Tag, cleaned, tag.group_id):
                raise TagNameTaken(f"tag {cleaned!r} exists in this group")
            tag.name = cleaned
        if wecom and not tag.wecom:
            await _check_budget(uow)
        if wecom is not None:
            tag.wecom = wecom
        if rule is not None:
            tag.rule = rule
        if enabled is not None:
            tag.enabled = enabled
        await uow.session.flush()
        await record(uow, actor, action="updateTag", target_type="tag", target_ids=(tag_id,))
        await uow.commit()


async def retire_tag(uow: MembersUnitOfWork, actor: Actor, *, tag_id: uuid.UUID) -> None:
    """No new use (not applied, not evaluated, not projected to WeCom); members keep it and it stays readable.
    Raises UnknownTag, TagRetired."""
    async with uow:
        tag = await _active(uow, tag_id)
        tag.status, tag.enabled, tag.wecom = TagStatus.RETIRED.value, False, False
        await uow.session.flush()
        await record(uow, actor, action="retireTag", target_type="tag", target_ids=(tag_id,))
        await uow.commit()


async def merge_tags(uow: MembersUnitOfWork, actor: Actor, *, source_id: uuid.UUID, target_id: uuid.UUID) -> int:
    """Move every member of `source_id` to `target_id` (history kept), and mark the source merged. How many
    members moved. Raises UnknownTag, TagRetired, InvalidTag (the same tag twice)."""
    if source_id == target_id:
        raise InvalidTag("a tag cannot be merged into itself")
    async with uow:
        first, second = sorted((source_id, target_id))
        await _active(uow, first)  # locks in id order: two opposite merges cannot deadlock
        await _active(uow, second)
        moved = await uow.tags.merge(source_id, target_id, actor.subject[:128])
        await record(uow, actor, action="mergeTags", target_type="tag", target_ids=(source_id, target_id))
        await uow.commit()
    return moved


def _scoped_ids(member_ids: list[uuid.UUID], scope: MemberScope | None) -> Any:
    return select(col(Member.id)).where(
        col(Member.id).in_(member_ids),
        col(Member.status) != MemberStatus.CLOSED.value,
        *(reached(scope) if scope else []),
    )


async def tag_members(
    uow: MembersUnitOfWork,
    actor: Actor,
    *,
    tag_id: uuid.UUID,
    member_ids: list[uuid.UUID],
    scope: MemberScope | None,
    remove: bool = False,
) -> int:
    """Apply (or remove) a manual tag on up to MAX_BULK members; members outside `scope`, unknown or closed are
    skipped. How many members changed. Raises UnknownTag, TagRetired, InvalidTag (an automatic tag, or too many)."""
    if not 1 <= len(member_ids) <= MAX_BULK:
        raise InvalidTag(f"1 to {MAX_BULK} members at a time (tag an audience for more)")
    async with uow:
        tag = await manual_tag(uow, tag_id)
        who = actor.subject[:128]
        if remove:
            changed = await uow.tags.remove(
                tag.id, col(MemberTag.member_id).in_(_scoped_ids(member_ids, scope)), actor=who
            )
        else:
            changed = await uow.tags.apply(
                tag.id, _scoped_ids(member_ids, scope), source=TagKind.MANUAL.value, actor=who
            )
        action = "removeTag" if remove else "applyTag"
        await record(uow, actor, action=action, target_type="tag", target_ids=(tag_id,))
        await uow.commit()
    return changed


async def manual_tag(uow: MembersUnitOfWork, tag_id: uuid.UUID) -> Tag:
    """The active manual tag with this id, in the open unit of work. Raises UnknownTag, TagRetired or InvalidTag (an
    automatic tag)."""
    tag = await _active(uow, tag_id)
    if tag.kind != TagKind.MANUAL:
        raise InvalidTag("an automatic tag is applied by its rule, not by hand")
    return tag


async def preview_tag(uow: MembersUnitOfWork, *, tag_id: uuid.UUID, as_of: date | None = None) -> int:
    """How many members the automatic tag's rule would tag now (or at the end of `as_of`), enabled or not.
    Raises UnknownTag, InvalidTag (a manual tag)."""
    async with uow:
        tag = await uow.tags.tag(tag_id)
        if tag is None:
            raise UnknownTag(f"no tag {tag_id}")
        if tag.rule is None:
            raise InvalidTag("a manual tag has no rule to preview")
        at = now() if as_of is None else day_start(as_of + timedelta(days=1))
        return await uow.tags.count_rule(compile_rule(parse_rule(tag.rule), at))


async def apply_automatic_tags(uow: MembersUnitOfWork, *, as_of: date, actor: Actor | None = None) -> AutomaticRun:
    """Install the default automatic tags (once), then make each enabled rule's holders exactly the members it
    selects at the end of `as_of` (set-based: two statements per rule). The same `as_of` again changes nothing."""
    if as_of > today():
        raise InvalidAsOf(f"{as_of} is after today ({today()})", as_of=as_of)
    at = day_start(as_of + timedelta(days=1))
    async with uow:
        installed = await uow.tags.install_defaults(DEFAULT_CATEGORY, DEFAULT_TAGS)
        applied = removed = 0
        rules = await uow.tags.enabled_rules()
        for tag in rules:
            assert tag.rule is not None  # automatic tags have a rule (a CHECK constraint)
            added, dropped = await uow.tags.apply_rule(tag.id, compile_rule(parse_rule(tag.rule), at), RULE_ACTOR)
            applied, removed = applied + added, removed + dropped
        if actor is not None:
            await record(uow, actor, action="applyAutomaticTags", target_type="tag", target_ids=(str(as_of),))
        await uow.commit()
    return AutomaticRun(len(rules), applied, removed, installed)


async def tags_of_members(uow: MembersUnitOfWork, member_ids: list[uuid.UUID]) -> list[list[MemberTagView]]:
    """Each member's tags (retired ones included), in one SELECT."""
    async with uow:
        rows = await uow.tags.member_tags(member_ids)
        found: dict[uuid.UUID, list[MemberTagView]] = {m: [] for m in member_ids}
        for member_tag, tag in rows:
            found[member_tag.member_id].append(
                MemberTagView(
                    member_tag.member_id,
                    tag.id,
                    tag.name,
                    TagKind(tag.kind),
                    TagStatus(tag.status),
                    member_tag.source,
                    member_tag.applied_by,
                    member_tag.applied_at,
                )
            )
    return [found[m] for m in member_ids]
