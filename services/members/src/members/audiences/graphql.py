"""The audiences feature in the members subgraph: previewAudience, audience(s), saveAudience,
materializeAudience and exportAudience."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry.scalars import JSON

from members.access import AuditRefusals, Authorized, member_scope
from members.audiences.errors import (
    AudiencesErrorCode,
    EmptyRuleGroup,
    InvalidAudience,
    InvalidConditionValue,
    InvalidRule,
    RuleTooDeep,
    SnapshotKeyReused,
    UnknownAudience,
    UnknownCondition,
)
from members.audiences.rules import CONDITIONS, MAX_CONDITIONS, MAX_DEPTH
from members.audiences.service import (
    EXPORT_COLUMNS,
    EXPORT_LIMIT,
    AudienceView,
    audience_members,
    audience_size,
    audiences_by_ids,
    export_audience,
    list_audiences,
    materialize_audience,
    preview_audience,
    save_audience,
)
from members.audit.service import Actor
from members.context import MembersInfo
from members.uow import MembersUnitOfWork
from yutang_shared.connections import DEFAULT_PAGE, After, Connection, Keyset, PageSize, page_of, page_size
from yutang_shared.context import principal_of
from yutang_shared.db import SessionFactory
from yutang_shared.enums import graphql_enum
from yutang_shared.errors import Error, error_handlers

if TYPE_CHECKING:
    from members.profile.graphql import Member

MemberType = Annotated["Member", strawberry.lazy("members.profile.graphql")]
AUDIENCE_MEMBERS = Keyset("audience-members")
_REACH = (
    "Counted and listed only among the members the caller reaches (staff: their stores; supervisors: their "
    "regions; operations and services: everyone); closed members are never in an audience."
)
RULE_HELP = (
    f'A rule is JSON: a group {{"all": [rule, …]}} (AND) or {{"any": [rule, …]}} (OR), nested at most '
    f'{MAX_DEPTH} deep, or a condition {{"condition": name, …parameters}}, at most {MAX_CONDITIONS} in all. '
    "Conditions: " + ", ".join(sorted(CONDITIONS)) + '. Ranges take min and/or max; "within" conditions take '
    "days (1–3650) and optional negate; lists take in (1–100 values). See docs/domain.md#audiences."
)

graphql_enum(
    AudiencesErrorCode,
    "Codes of the expected errors of audiences.",
    {
        "MEMBERS_INVALID_RULE": "The rule is not a well-formed tree.",
        "MEMBERS_UNKNOWN_CONDITION": "A condition name is not an audience condition.",
        "MEMBERS_INVALID_CONDITION_VALUE": "A condition's parameter is missing, unknown, or of the wrong type or "
        "range.",
        "MEMBERS_EMPTY_RULE_GROUP": "An all / any group has no rules.",
        "MEMBERS_RULE_TOO_DEEP": f"Groups nest deeper than {MAX_DEPTH}.",
        "MEMBERS_UNKNOWN_AUDIENCE": "No saved audience has that id.",
        "MEMBERS_INVALID_AUDIENCE": "The audience's name or the materialisation key is empty or too long.",
        "MEMBERS_SNAPSHOT_KEY_REUSED": "The materialisation key already froze another audience.",
    },
)


@strawberry.type(description="The rule is not a well-formed tree. Nothing was written.")
class InvalidRuleError(Error):
    code: AudiencesErrorCode = strawberry.field(description="MEMBERS_INVALID_RULE.")


@strawberry.type(description="A condition name is not an audience condition. Nothing was written.")
class UnknownConditionError(Error):
    code: AudiencesErrorCode = strawberry.field(description="MEMBERS_UNKNOWN_CONDITION.")
    condition: str = strawberry.field(description="The unknown condition name (at most 64 characters).")


@strawberry.type(
    description="A condition's parameter is missing, unknown, or of the wrong type or range. Nothing was written."
)
class InvalidConditionValueError(Error):
    code: AudiencesErrorCode = strawberry.field(description="MEMBERS_INVALID_CONDITION_VALUE.")
    parameter: str = strawberry.field(description="The parameter that is missing, unknown or wrong.")


@strawberry.type(description="An all / any group has no rules. Nothing was written.")
class EmptyRuleGroupError(Error):
    code: AudiencesErrorCode = strawberry.field(description="MEMBERS_EMPTY_RULE_GROUP.")


@strawberry.type(description=f"Groups nest deeper than {MAX_DEPTH}. Nothing was written.")
class RuleTooDeepError(Error):
    code: AudiencesErrorCode = strawberry.field(description="MEMBERS_RULE_TOO_DEEP.")
    max_depth: int = strawberry.field(description="How deep groups may nest.")


@strawberry.type(description="No audience has that id. Nothing was written.")
class UnknownAudienceError(Error):
    code: AudiencesErrorCode = strawberry.field(description="MEMBERS_UNKNOWN_AUDIENCE.")


@strawberry.type(description="The name or key is empty, too long or not printable. Nothing was written.")
class InvalidAudienceError(Error):
    code: AudiencesErrorCode = strawberry.field(description="MEMBERS_INVALID_AUDIENCE.")


@strawberry.type(description="The key already froze another audience. Nothing was written.")
class SnapshotKeyReusedError(Error):
    code: AudiencesErrorCode = strawberry.field(description="MEMBERS_SNAPSHOT_KEY_REUSED.")


HANDLERS = error_handlers(
    {
        InvalidRule: InvalidRuleError,
        UnknownCondition: UnknownConditionError,
        InvalidConditionValue: InvalidConditionValueError,
        EmptyRuleGroup: EmptyRuleGroupError,
        RuleTooDeep: RuleTooDeepError,
        UnknownAudience: UnknownAudienceError,
        InvalidAudience: InvalidAudienceError,
        SnapshotKeyReused: SnapshotKeyReusedError,
    }
)


async def audience_by_id(sessions: SessionFactory, ids: Sequence[uuid.UUID]) -> list[AudienceView | None]:
    """Saved audiences by id, in one SELECT."""
    return await audiences_by_ids(MembersUnitOfWork(sessions), list(ids))


def _uow(info: MembersInfo) -> MembersUnitOfWork:
    return MembersUnitOfWork(info.context.sessions)


@strawberry.type(description=f"A saved audience (人群): a rule evaluated live. {_REACH}")
class Audience:
    audience: strawberry.Private[AudienceView]

    @strawberry.field(description="The audience's id.")
    def id(self) -> uuid.UUID:
        return self.audience.id

    @strawberry.field(description="The audience's name.")
    def name(self) -> str:
        return self.audience.name

    @strawberry.field(description="The rule, as saved (JSON).")
    def rule(self) -> JSON:
        return cast(JSON, self.audience.rule)

    @strawberry.field(description="Who saved it first (the token's subject).")
    def created_by(self) -> str:
        return self.audience.created_by

    @strawberry.field(description="When it was first saved.")
    def created_at(self) -> datetime:
        return self.audience.created_at

    @strawberry.field(description="When it was last saved.")
    def updated_at(self) -> datetime:
        return self.audience.updated_at

    @strawberry.field(description=f"How many members the rule selects now. {_REACH}", permission_classes=[Authorized])
    async def size(self, info: MembersInfo) -> int:
        return await audience_size(_uow(info), self.audience, member_scope(info, "Audience.size"))

    @strawberry.field(
        description=f"The members the rule selects now, in registration order. {_REACH}",
        permission_classes=[Authorized],
    )
    async def members(
        self, info: MembersInfo, first: PageSize = DEFAULT_PAGE, after: After = None
    ) -> Connection[MemberType]:
        from members.profile.graphql import Member

        limit, position = page_size(first), AUDIENCE_MEMBERS.position(after)
        scope = member_scope(info, "Audience.members")
        rows = await audience_members(_uow(info), self.audience, scope=scope, limit=limit + 1, after=position)
        return page_of(
            rows,
            limit,
            node=Member.of,
            cursor=lambda view: AUDIENCE_MEMBERS.cursor(view.registered_at, view.id),
            counter=partial(audience_size, _uow(info), self.audience, scope),
        )


@strawberry.type(description="The size of a rule's audience now.")
class AudiencePreview:
    size: int = strawberry.field(description=f"How many members the rule selects. {_REACH}")


PreviewAudiencePayload = Annotated[
    AudiencePreview
    | InvalidRuleError
    | UnknownConditionError
    | InvalidConditionValueError
    | EmptyRuleGroupError
    | RuleTooDeepError,
    strawberry.union("PreviewAudiencePayload", description="A rule's size, or why the rule is refused."),
]


@strawberry.input(description="An audience to save: new without id, or replacing the name and rule of id.")
class SaveAudienceInput:
    name: str = strawberry.field(description="1–64 printable characters.")
    rule: JSON = strawberry.field(description=RULE_HELP)
    id: uuid.UUID | None = strawberry.field(default=None, description="The audience to replace; null: a new one.")


@strawberry.type(description="The audience was saved.")
class SaveAudienceSuccess:
    audience: Audience = strawberry.field(description="The audience as saved.")


SaveAudiencePayload = Annotated[
    SaveAudienceSuccess
    | InvalidRuleError
    | UnknownConditionError
    | InvalidConditionValueError
    | EmptyRuleGroupError
    | RuleTooDeepError
    | InvalidAudienceError
    | UnknownAudienceError,
    strawberry.union("SaveAudiencePayload", description="The outcome of saving an audience."),
]


@strawberry.type(description="An audience's members frozen for a campaign.")
class AudienceSnapshot:
    id: uuid.UUID = strawberry.field(description="The snapshot's id.")
    key: str = strawberry.field(description="The key it was materialised under.")
    audience_id: uuid.UUID = strawberry.field(description="The audience it froze.")
    size: int = strawberry.field(description="How many members it holds.")
    created_at: datetime = strawberry.field(description="When it was frozen.")


@strawberry.type(description="The audience was frozen (or had been, under the same key).")
class MaterializeAudienceSuccess:
    snapshot: AudienceSnapshot = strawberry.field(description="The snapshot.")
    replayed: bool = strawberry.field(description="True when the key had frozen it before: nothing new was written.")


MaterializeAudiencePayload = Annotated[
    MaterializeAudienceSuccess | UnknownAudienceError | SnapshotKeyReusedError | InvalidAudienceError,
    strawberry.union("MaterializeAudiencePayload", description="The outcome of materialising an audience."),
]


@strawberry.type(description="An audience exported as CSV.")
class ExportAudienceSuccess:
    csv: str = strawberry.field(
        description=f"Columns {', '.join(EXPORT_COLUMNS)} (no personal data), a header row, registration order."
    )
    rows: int = strawberry.field(description=f"Data rows, at most {EXPORT_LIMIT:,}.")
    truncated: bool = strawberry.field(description=f"True when the audience holds more than {EXPORT_LIMIT:,}.")


ExportAudiencePayload = Annotated[
    ExportAudienceSuccess | UnknownAudienceError,
    strawberry.union("ExportAudiencePayload", description="The outcome of exporting an audience."),
]


@strawberry.type
class Query:
    @strawberry.field(
        description=f"How many members a rule selects now, without saving it. {RULE_HELP} {_REACH}",
        permission_classes=[Authorized],
    )
    async def preview_audience(
        self, info: MembersInfo, rule: Annotated[JSON, strawberry.argument(description="The rule.")]
    ) -> PreviewAudiencePayload:
        scope = member_scope(info, "Query.previewAudience")
        return AudiencePreview(size=await preview_audience(_uow(info), rule=rule, scope=scope))

    @strawberry.field(description="A saved audience, or null.", permission_classes=[Authorized])
    async def audience(
        self, info: MembersInfo, id: Annotated[uuid.UUID, strawberry.argument(description="The audience's id.")]
    ) -> Audience | None:
        view = await info.context.loaders(audience_by_id).load(id)
        return None if view is None else Audience(audience=view)

    @strawberry.field(description="Every saved audience, oldest first.", permission_classes=[Authorized])
    async def audiences(self, info: MembersInfo) -> list[Audience]:
        return [Audience(audience=view) for view in await list_audiences(_uow(info))]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Save an audience (new, or replacing one's name and rule); audited. Staff, operations and "
        "services holding audiences:write.",
        permission_classes=[Authorized],
        extensions=[AuditRefusals("audience")],
    )
    async def save_audience(
        self,
        info: MembersInfo,
        input: Annotated[
            SaveAudienceInput,
            strawberry.argument(description="The audience's name and rule, and its id when replacing a saved one."),
        ],
    ) -> SaveAudiencePayload:
        view = await save_audience(
            _uow(info), Actor.of(principal_of(info)), name=input.name, rule=input.rule, audience_id=input.id
        )
        return SaveAudienceSuccess(audience=Audience(audience=view))

    @strawberry.mutation(
        description="Freeze an audience's members (those the caller reaches) for a campaign under a key: the same "
        "key again returns the same snapshot. Audited.",
        permission_classes=[Authorized],
        extensions=[AuditRefusals("audience")],
    )
    async def materialize_audience(
        self,
        info: MembersInfo,
        id: Annotated[uuid.UUID, strawberry.argument(description="The audience.")],
        key: Annotated[str, strawberry.argument(description="1–64 printable ASCII characters naming the campaign.")],
    ) -> MaterializeAudiencePayload:
        snapshot = await materialize_audience(
            _uow(info),
            Actor.of(principal_of(info)),
            audience_id=id,
            key=key,
            scope=member_scope(info, "Mutation.materializeAudience"),
        )
        return MaterializeAudienceSuccess(
            snapshot=AudienceSnapshot(
                id=snapshot.id,
                key=snapshot.key,
                audience_id=snapshot.audience_id,
                size=snapshot.size,
                created_at=snapshot.created_at,
            ),
            replayed=snapshot.replayed,
        )

    @strawberry.mutation(
        description=f"Export an audience's members as CSV, limited to the caller's stores (staff: their stores; "
        f"supervisors: their regions), at most {EXPORT_LIMIT:,} rows; audited.",
        permission_classes=[Authorized],
        extensions=[AuditRefusals("audience")],
    )
    async def export_audience(
        self, info: MembersInfo, id: Annotated[uuid.UUID, strawberry.argument(description="The audience.")]
    ) -> ExportAudiencePayload:
        export = await export_audience(
            _uow(info),
            Actor.of(principal_of(info)),
            audience_id=id,
            scope=member_scope(info, "Mutation.exportAudience"),
        )
        return ExportAudienceSuccess(csv=export.csv, rows=export.rows, truncated=export.truncated)
