"""The audit feature in the members subgraph: the auditLog query for operations. No mutation touches the log."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial
from typing import Annotated

import strawberry

from members.access import Authorized
from members.audit.repository import AuditFilter
from members.audit.service import AuditView, audit_count, audit_page
from members.context import MembersInfo
from members.uow import MembersUnitOfWork
from yutang_shared.connections import DEFAULT_PAGE, MAX_PAGE, After, Connection, Keyset, PageSize, page_of, page_size

AUDIT = Keyset("audit")


@strawberry.type(description="One entry of the audit log: who did what to which target, and how it ended.")
class AuditEntry:
    id: uuid.UUID = strawberry.field(description="The entry's id.")
    at: datetime = strawberry.field(description="When it happened.")
    actor: str = strawberry.field(description="Who acted: the token's subject (member id, staff id, client, …).")
    role: str = strawberry.field(
        description="The token's role: member, staff, ops, partner or service; anonymous for a refused login or "
        "token request of an unknown caller."
    )
    client_id: str | None = strawberry.field(description="The OAuth2 client the token was issued to, if any.")
    request_id: str | None = strawberry.field(description="The request id (x-request-id), to find its log lines.")
    action: str = strawberry.field(
        description="What was done: a mutation's name (`closeMember`), `reveal_mobile`, `export`, `login`, "
        "`token_issue`."
    )
    target_type: str = strawberry.field(description="What it was done to: member, store, region, staff, …")
    target_id: str | None = strawberry.field(description="The target's id or code.")
    outcome: str = strawberry.field(
        description="`ok`, or the code it was refused with (`FORBIDDEN`, `MEMBERS_MEMBER_CLOSED`, …)."
    )

    @classmethod
    def of(cls, view: AuditView) -> AuditEntry:
        return cls(
            id=view.id,
            at=view.at,
            actor=view.actor,
            role=view.role,
            client_id=view.client_id,
            request_id=view.request_id,
            action=view.action,
            target_type=view.target_type,
            target_id=view.target_id,
            outcome=view.outcome,
        )


@strawberry.input(description="What to look for in the audit log; every given condition must hold.")
class AuditLogFilter:
    actor: str | None = strawberry.field(default=None, description="Only this actor's entries.")
    action: str | None = strawberry.field(default=None, description="Only this action.")
    target_type: str | None = strawberry.field(default=None, description="Only targets of this type.")
    target_id: str | None = strawberry.field(default=None, description="Only this target (with or without type).")
    since: datetime | None = strawberry.field(default=None, description="Entries at or after this time.")
    until: datetime | None = strawberry.field(default=None, description="Entries before this time.")

    def query(self) -> AuditFilter:
        return AuditFilter(
            actor=self.actor,
            action=self.action,
            target_type=self.target_type,
            target_id=self.target_id,
            since=self.since,
            until=self.until,
        )


@strawberry.type
class Query:
    @strawberry.field(
        description=f"The audit log, newest first, at most {MAX_PAGE} a page: every mutation (refusals included), "
        "every full mobile reveal, export, login and token issue. Operations only; nothing can change it.",
        permission_classes=[Authorized],
    )
    async def audit_log(
        self,
        info: MembersInfo,
        filter: Annotated[AuditLogFilter | None, strawberry.argument(description="Conditions.")] = None,
        first: PageSize = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[AuditEntry]:
        limit, position = page_size(first), AUDIT.position(after)
        where = filter.query() if filter else AuditFilter()
        rows = await audit_page(MembersUnitOfWork(info.context.sessions), where, limit=limit + 1, before=position)
        return page_of(
            rows,
            limit,
            node=AuditEntry.of,
            cursor=lambda view: AUDIT.cursor(view.at, view.id),
            counter=partial(audit_count, MembersUnitOfWork(info.context.sessions), where),
        )
