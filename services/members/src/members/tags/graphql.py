"""The tags feature in the members subgraph: the taxonomy with usage counts, Member.tags, manual and automatic
tagging, rule preview, merge, retire, and the WeCom budget."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON

from members.access import AuditRefusals, Authorized, member_scope
from members.audiences.errors import UnknownAudience
from members.audiences.graphql import (
    EmptyRuleGroupError,
    InvalidConditionValueError,
    InvalidRuleError,
    RuleTooDeepError,
    UnknownAudienceError,
    UnknownConditionError,
    audience_by_id,
)
from members.audit.service import Actor
from members.context import MembersInfo
from members.insights.graphql import InvalidAsOfError
from members.tags.errors import InvalidTag, TagNameTaken, TagRetired, TagsErrorCode, UnknownTag, WecomTagBudgetExceeded
from members.tags.job_types import ApplyTagToAudienceSuccess, TaggingJobNode
from members.tags.jobs import tag_audience, tagging_jobs
from members.tags.models import TagKind, TagStatus
from members.tags.rules import MAX_BULK, WECOM_TAG_LIMIT
from members.tags.service import (
    CategoryView,
    MemberTagView,
    TagView,
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
from yutang_shared.context import principal_of
from yutang_shared.db import SessionFactory
from yutang_shared.enums import graphql_enum
from yutang_shared.errors import Error, error_handlers

graphql_enum(TagKind, "Who applies a tag.", {"MANUAL": "Staff apply it.", "AUTOMATIC": "A rule applies it."})
graphql_enum(
    TagStatus,
    "Whether a tag is in use.",
    {
        "ACTIVE": "In use.",
        "RETIRED": "No longer applied; members keep it and it stays readable.",
        "MERGED": "Merged into another tag (mergedInto); its members moved there.",
    },
)
graphql_enum(
    TagsErrorCode,
    "Codes of the expected errors of tags.",
    {
        "MEMBERS_UNKNOWN_TAG": "No tag, group or category has that id.",
        "MEMBERS_INVALID_TAG": "A name is empty or too long, the kind does not allow the change, or a merge names one "
        "tag twice, or too many members at once.",
        "MEMBERS_TAG_NAME_TAKEN": "The name is already used at that level.",
        "MEMBERS_TAG_RETIRED": "The tag is retired or merged: readable, no longer applied or changed.",
        "MEMBERS_WECOM_TAG_BUDGET_EXCEEDED": f"WeCom allows at most {WECOM_TAG_LIMIT:,} corp tags in total.",
    },
)


@strawberry.type(description="No tag, group or category has that id; nothing was written.")
class UnknownTagError(Error):
    code: TagsErrorCode = strawberry.field(description="MEMBERS_UNKNOWN_TAG.")


@strawberry.type(description="The name, kind or members do not allow this change; nothing was written.")
class InvalidTagError(Error):
    code: TagsErrorCode = strawberry.field(description="MEMBERS_INVALID_TAG.")


@strawberry.type(description="The name is already used at that level; nothing was written.")
class TagNameTakenError(Error):
    code: TagsErrorCode = strawberry.field(description="MEMBERS_TAG_NAME_TAKEN.")


@strawberry.type(description="The tag is retired or merged; nothing was written.")
class TagRetiredError(Error):
    code: TagsErrorCode = strawberry.field(description="MEMBERS_TAG_RETIRED.")


@strawberry.type(description=f"WeCom allows at most {WECOM_TAG_LIMIT:,} corp tags in total; nothing was written.")
class WecomTagBudgetExceededError(Error):
    code: TagsErrorCode = strawberry.field(description="MEMBERS_WECOM_TAG_BUDGET_EXCEEDED.")
    limit: int = strawberry.field(description="The limit.")


HANDLERS = error_handlers(
    {
        UnknownTag: UnknownTagError,
        InvalidTag: InvalidTagError,
        TagNameTaken: TagNameTakenError,
        TagRetired: TagRetiredError,
        WecomTagBudgetExceeded: WecomTagBudgetExceededError,
    }
)


@strawberry.type(description="A tag (三级) with its place in the taxonomy.")
class TagNode:
    view: strawberry.Private[TagView]

    @strawberry.field(description="The tag's id.")
    def id(self) -> uuid.UUID:
        return self.view.id

    @strawberry.field(description="The tag's name (its value).")
    def name(self) -> str:
        return self.view.name

    @strawberry.field(description="Its group (二级).")
    def group(self) -> str:
        return self.view.group

    @strawberry.field(description="Its category (一级).")
    def category(self) -> str:
        return self.view.category

    @strawberry.field(description="Manual or automatic.")
    def kind(self) -> TagKind:
        return self.view.kind

    @strawberry.field(description="An automatic tag's rule (the audience rule language); null for a manual tag.")
    def rule(self) -> JSON | None:
        return None if self.view.rule is None else cast(JSON, self.view.rule)

    @strawberry.field(description="Whether an automatic tag's rule is applied by the nightly refresh.")
    def enabled(self) -> bool:
        return self.view.enabled

    @strawberry.field(description="Active, retired or merged.")
    def status(self) -> TagStatus:
        return self.view.status

    @strawberry.field(description="The tag a merged tag's members moved to.")
    def merged_into(self) -> uuid.UUID | None:
        return self.view.merged_into

    @strawberry.field(description=f"Projected to WeCom as a corp tag (at most {WECOM_TAG_LIMIT:,} in all).")
    def wecom(self) -> bool:
        return self.view.wecom

    @strawberry.field(description="How many members carry it.")
    def usage_count(self) -> int:
        return self.view.usage


@strawberry.type(description="A tag group (二级) and its tags.")
class TagGroupNode:
    id: uuid.UUID = strawberry.field(description="The group's id.")
    name: str = strawberry.field(description="The group's name.")
    tags: list[TagNode] = strawberry.field(description="Its tags, by name.")


@strawberry.type(description="A tag category (一级) and its groups.")
class TagCategoryNode:
    id: uuid.UUID = strawberry.field(description="The category's id.")
    name: str = strawberry.field(description="The category's name.")
    groups: list[TagGroupNode] = strawberry.field(description="Its groups, by name.")

    @classmethod
    def of(cls, view: CategoryView) -> TagCategoryNode:
        groups = [TagGroupNode(id=g.id, name=g.name, tags=[TagNode(view=t) for t in g.tags]) for g in view.groups]
        return cls(id=view.id, name=view.name, groups=groups)


@strawberry.type(description="A tag a member carries.")
class MemberTag:
    view: strawberry.Private[MemberTagView]

    @strawberry.field(description="The tag's id.")
    def tag_id(self) -> uuid.UUID:
        return self.view.tag_id

    @strawberry.field(description="The tag's name.")
    def name(self) -> str:
        return self.view.name

    @strawberry.field(description="Manual or automatic.")
    def kind(self) -> TagKind:
        return self.view.kind

    @strawberry.field(description="The tag's status (a retired tag stays on the member).")
    def status(self) -> TagStatus:
        return self.view.status

    @strawberry.field(description="Who applied it: a staff or client subject, or `rule`.")
    def applied_by(self) -> str:
        return self.view.applied_by

    @strawberry.field(description="When it was applied.")
    def applied_at(self) -> datetime:
        return self.view.applied_at


async def tags_by_member_id(sessions: SessionFactory, ids: Sequence[uuid.UUID]) -> list[list[MemberTagView]]:
    """Members' tags for a batch of members, in one SELECT."""
    return await tags_of_members(MembersUnitOfWork(sessions), list(ids))


@strawberry.type
class MemberTagFields:
    """The tags field of Member (a base of profile's Member)."""

    id: uuid.UUID

    @strawberry.field(
        description="The tags the member carries, with who applied them when. Same reach as the member's other fields.",
        permission_classes=[Authorized],
    )
    async def tags(self, info: MembersInfo) -> list[MemberTag]:
        return [MemberTag(view=v) for v in await info.context.loaders(tags_by_member_id).load(self.id)]


@strawberry.type(description="The taxonomy changed.")
class TagTaxonomySuccess:
    id: uuid.UUID = strawberry.field(description="The category, group or tag created or changed.")


@strawberry.type(description="Members' tags changed.")
class TaggingSuccess:
    changed: int = strawberry.field(description="How many members were tagged, untagged or moved.")


@strawberry.type(description="The automatic rules were applied.")
class ApplyAutomaticTagsSuccess:
    tags: int = strawberry.field(description="Enabled automatic tags evaluated.")
    applied: int = strawberry.field(description="Members newly tagged.")
    removed: int = strawberry.field(description="Members whose automatic tag no longer held.")
    installed: int = strawberry.field(description="Default automatic tags installed by this call (first run).")


@strawberry.type(description="How many members an automatic tag's rule selects.")
class TagRulePreview:
    size: int = strawberry.field(description="Members the rule would tag now.")


CreateTagCategoryPayload = Annotated[
    TagTaxonomySuccess | InvalidTagError | TagNameTakenError,
    strawberry.union("CreateTagCategoryPayload", description="The outcome of creating a category."),
]
CreateTagGroupPayload = Annotated[
    TagTaxonomySuccess | InvalidTagError | TagNameTakenError | UnknownTagError,
    strawberry.union("CreateTagGroupPayload", description="The outcome of creating a group."),
]
CreateTagPayload = Annotated[
    TagTaxonomySuccess
    | InvalidTagError
    | TagNameTakenError
    | UnknownTagError
    | WecomTagBudgetExceededError
    | InvalidRuleError
    | UnknownConditionError
    | InvalidConditionValueError
    | EmptyRuleGroupError
    | RuleTooDeepError,
    strawberry.union("CreateTagPayload", description="The outcome of creating a tag."),
]
UpdateTagPayload = Annotated[
    TagTaxonomySuccess
    | InvalidTagError
    | TagNameTakenError
    | UnknownTagError
    | TagRetiredError
    | WecomTagBudgetExceededError
    | InvalidRuleError
    | UnknownConditionError
    | InvalidConditionValueError
    | EmptyRuleGroupError
    | RuleTooDeepError,
    strawberry.union("UpdateTagPayload", description="The outcome of changing a tag."),
]
RetireTagPayload = Annotated[
    TagTaxonomySuccess | UnknownTagError | TagRetiredError,
    strawberry.union("RetireTagPayload", description="The outcome of retiring a tag."),
]
MergeTagsPayload = Annotated[
    TaggingSuccess | UnknownTagError | TagRetiredError | InvalidTagError,
    strawberry.union("MergeTagsPayload", description="The outcome of merging two tags."),
]
ApplyTagPayload = Annotated[
    TaggingSuccess | UnknownTagError | TagRetiredError | InvalidTagError,
    strawberry.union("ApplyTagPayload", description="The outcome of applying or removing a manual tag."),
]
ApplyTagToAudiencePayload = Annotated[
    ApplyTagToAudienceSuccess | UnknownTagError | TagRetiredError | InvalidTagError | UnknownAudienceError,
    strawberry.union("ApplyTagToAudiencePayload", description="The outcome of tagging an audience."),
]
ApplyAutomaticTagsPayload = Annotated[
    ApplyAutomaticTagsSuccess | InvalidAsOfError,
    strawberry.union("ApplyAutomaticTagsPayload", description="The outcome of applying the automatic tags."),
]
TagRulePreviewPayload = Annotated[
    TagRulePreview | UnknownTagError | InvalidTagError,
    strawberry.union("TagRulePreviewPayload", description="A rule's size, or why there is none."),
]


def _uow(info: MembersInfo) -> MembersUnitOfWork:
    return MembersUnitOfWork(info.context.sessions)


def _actor(info: MembersInfo) -> Actor:
    return Actor.of(principal_of(info))


_OPS = "Operations and services holding tags:write; audited."
_STAFF = f"Staff (members they reach), operations and services holding tags:write; audited. 1 to {MAX_BULK} members."
_ID = Annotated[uuid.UUID, strawberry.argument(description="The tag.")]
_MEMBERS = Annotated[list[uuid.UUID], strawberry.argument(description=f"The members, 1 to {MAX_BULK}.")]


@strawberry.type
class Query:
    @strawberry.field(
        description="The tag taxonomy: categories → groups → tags, each with its usage count.",
        permission_classes=[Authorized],
    )
    async def tag_taxonomy(self, info: MembersInfo) -> list[TagCategoryNode]:
        return [TagCategoryNode.of(c) for c in await taxonomy(_uow(info))]

    @strawberry.field(
        description="How many members an automatic tag's rule would tag now, enabled or not (preview before "
        "enabling). Every member is counted: the size is brand-wide.",
        permission_classes=[Authorized],
    )
    async def tag_rule_preview(self, info: MembersInfo, tag_id: _ID) -> TagRulePreviewPayload:
        return TagRulePreview(size=await preview_tag(_uow(info), tag_id=tag_id))

    @strawberry.field(
        description="The tag's most recent audience-tagging jobs (20), newest first: a running job shows how far it "
        "is (processed of total), for a progress bar.",
        permission_classes=[Authorized],
    )
    async def tagging_jobs(self, info: MembersInfo, tag_id: _ID) -> list[TaggingJobNode]:
        return [TaggingJobNode.of(job) for job in await tagging_jobs(_uow(info), tag_id=tag_id)]


def _mutation(description: str) -> Any:
    return strawberry.mutation(
        description=description, permission_classes=[Authorized], extensions=[AuditRefusals("tag")]
    )


@strawberry.type
class Mutation:
    @_mutation(f"Create a tag category (一级). {_OPS}")
    async def create_tag_category(
        self, info: MembersInfo, name: Annotated[str, strawberry.argument(description="1–64 characters.")]
    ) -> CreateTagCategoryPayload:
        return TagTaxonomySuccess(id=await create_category(_uow(info), _actor(info), name=name))

    @_mutation(f"Create a tag group (二级) in a category. {_OPS}")
    async def create_tag_group(
        self,
        info: MembersInfo,
        category_id: Annotated[uuid.UUID, strawberry.argument(description="The category.")],
        name: Annotated[str, strawberry.argument(description="1–64 characters.")],
    ) -> CreateTagGroupPayload:
        return TagTaxonomySuccess(id=await create_group(_uow(info), _actor(info), category_id=category_id, name=name))

    @_mutation(
        "Create a tag (三级) in a group: manual without a rule; automatic with one (created disabled: preview it "
        f"with tagRulePreview, then enable it with updateTag). wecom projects it to WeCom (at most "
        f"{WECOM_TAG_LIMIT:,} in all). {_OPS}"
    )
    async def create_tag(
        self,
        info: MembersInfo,
        group_id: Annotated[uuid.UUID, strawberry.argument(description="The group.")],
        name: Annotated[str, strawberry.argument(description="1–64 characters.")],
        rule: Annotated[JSON | None, strawberry.argument(description="An automatic tag's rule.")] = None,
        wecom: Annotated[bool, strawberry.argument(description="Project to WeCom.")] = False,
    ) -> CreateTagPayload:
        tag_id = await create_tag(_uow(info), _actor(info), group_id=group_id, name=name, rule=rule, wecom=wecom)
        return TagTaxonomySuccess(id=tag_id)

    @_mutation(f"Rename a tag, change or enable an automatic tag's rule, project it to WeCom or not. {_OPS}")
    async def update_tag(
        self,
        info: MembersInfo,
        id: _ID,
        name: Annotated[str | None, strawberry.argument(description="A new name.")] = None,
        rule: Annotated[JSON | None, strawberry.argument(description="A new rule (automatic tags).")] = None,
        enabled: Annotated[bool | None, strawberry.argument(description="Enable or disable the rule.")] = None,
        wecom: Annotated[bool | None, strawberry.argument(description="Project to WeCom or not.")] = None,
    ) -> UpdateTagPayload:
        await update_tag(_uow(info), _actor(info), tag_id=id, name=name, rule=rule, enabled=enabled, wecom=wecom)
        return TagTaxonomySuccess(id=id)

    @_mutation(f"Retire a tag: no new use; members keep it and it stays readable. {_OPS}")
    async def retire_tag(self, info: MembersInfo, id: _ID) -> RetireTagPayload:
        await retire_tag(_uow(info), _actor(info), tag_id=id)
        return TagTaxonomySuccess(id=id)

    @_mutation(f"Merge one tag into another: its members move (history kept) and it is marked merged. {_OPS}")
    async def merge_tags(
        self,
        info: MembersInfo,
        source_id: Annotated[uuid.UUID, strawberry.argument(description="The tag to merge away.")],
        target_id: Annotated[uuid.UUID, strawberry.argument(description="The tag that absorbs it.")],
    ) -> MergeTagsPayload:
        return TaggingSuccess(
            changed=await merge_tags(_uow(info), _actor(info), source_id=source_id, target_id=target_id)
        )

    @_mutation(f"Apply a manual tag to members (those out of reach, unknown or closed are skipped). {_STAFF}")
    async def apply_tag(self, info: MembersInfo, id: _ID, member_ids: _MEMBERS) -> ApplyTagPayload:
        scope = member_scope(info, "Mutation.applyTag")
        changed = await tag_members(_uow(info), _actor(info), tag_id=id, member_ids=member_ids, scope=scope)
        return TaggingSuccess(changed=changed)

    @_mutation(f"Remove a manual tag from members (those out of reach are skipped). {_STAFF}")
    async def remove_tag(self, info: MembersInfo, id: _ID, member_ids: _MEMBERS) -> ApplyTagPayload:
        scope = member_scope(info, "Mutation.removeTag")
        changed = await tag_members(
            _uow(info), _actor(info), tag_id=id, member_ids=member_ids, scope=scope, remove=True
        )
        return TaggingSuccess(changed=changed)

    @_mutation(
        "Apply a manual tag to every member of a saved audience the caller reaches, 5 000 members a transaction, "
        "as a job whose progress `taggingJobs` shows while it runs; answers when it is done, with the count of "
        "members newly tagged. Staff, operations and services holding tags:write; audited."
    )
    async def apply_tag_to_audience(
        self,
        info: MembersInfo,
        id: _ID,
        audience_id: Annotated[uuid.UUID, strawberry.argument(description="The audience.")],
    ) -> ApplyTagToAudiencePayload:
        audience = await info.context.loaders(audience_by_id).load(audience_id)
        if audience is None:
            raise UnknownAudience(f"no audience {audience_id}")
        scope = member_scope(info, "Mutation.applyTagToAudience")
        job = await tag_audience(_uow(info), _actor(info), tag_id=id, audience=audience, scope=scope)
        return ApplyTagToAudienceSuccess(changed=job.changed, job=TaggingJobNode.of(job))

    @_mutation(
        "Install the default automatic tags (once), then make each enabled automatic tag's members exactly those "
        "its rule selects at the end of asOf. Idempotent for the same asOf. Operations and services holding "
        "insights:write (the lifecycle-refresh flow)."
    )
    async def apply_automatic_tags(
        self, info: MembersInfo, as_of: Annotated[date, strawberry.argument(description="The refresh date.")]
    ) -> ApplyAutomaticTagsPayload:
        run = await apply_automatic_tags(_uow(info), as_of=as_of, actor=_actor(info))
        return ApplyAutomaticTagsSuccess(
            tags=run.tags, applied=run.applied, removed=run.removed, installed=run.installed
        )
