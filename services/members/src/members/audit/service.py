"""Recording and reading the audit log.

`record(uow, actor, ...)` adds an entry in the caller's transaction, so an action and its entry commit together;
`record_refusal(sessions, actor, ...)` writes one in a transaction of its own, for an action that was refused
(its own transaction rolled back). The identity feature records logins and token issues through `record`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from members.audit.models import OK, AuditEntry
from members.audit.repository import AuditFilter
from members.uow import MembersUnitOfWork
from yutang_shared.auth import Principal
from yutang_shared.db import SessionFactory
from yutang_shared.logging import request_id_var


class AuditAction(StrEnum):
    """What was done. Mutations are named after the GraphQL mutation; reads of personal data and exports have
    their own actions; identity adds login and token actions."""

    REVEAL_MOBILE = "reveal_mobile"
    EXPORT = "export"
    LOGIN = "login"
    REFRESH = "refresh"
    LOGOUT = "logout"
    TOKEN_ISSUE = "token_issue"  # noqa: S105 - an action name, not a secret


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted, as the audit log records them: the token's subject, role and client, and the request id."""

    subject: str
    role: str
    client_id: str | None = None
    request_id: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        """The caller of the current request (the request id comes from the request's logging context)."""
        return cls(principal.subject, principal.role.value, principal.client_id, request_id_var.get())


@dataclass(frozen=True, slots=True)
class AuditView:
    """One audit entry."""

    id: uuid.UUID
    at: datetime
    actor: str
    role: str
    client_id: str | None
    request_id: str | None
    action: str
    target_type: str
    target_id: str | None
    outcome: str

    @classmethod
    def of(cls, row: AuditEntry) -> AuditView:
        return cls(
            row.id,
            row.at,
            row.actor,
            row.role,
            row.client_id,
            row.request_id,
            row.action,
            row.target_type,
            row.target_id,
            row.outcome,
        )


def _row(actor: Actor, action: str, target_type: str, target_id: object | None, outcome: str) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "actor": actor.subject[:128],
        "role": actor.role,
        "client_id": actor.client_id,
        "request_id": actor.request_id,
        "action": action,
        "target_type": target_type,
        "target_id": None if target_id is None else str(target_id)[:128],
        "outcome": outcome,
    }


async def record(
    uow: MembersUnitOfWork,
    actor: Actor,
    *,
    action: str,
    target_type: str,
    target_ids: list[object] | tuple[object, ...] = (None,),
    outcome: str = OK,
) -> None:
    """Add one entry per target to the audit log in the open unit of work (commits with the caller's change).

    `outcome` is `ok` or the code the action was refused with. Never pass personal data as a target id."""
    await uow.audit.append([_row(actor, action, target_type, target, outcome) for target in target_ids])


@dataclass(frozen=True, slots=True)
class AuditAs:
    """Who calls a use case and as which mutation: the use case audits its outcome in its own transaction.
    Direct calls (imports, flows, tests) pass none and are not audited."""

    actor: Actor
    action: str


async def record_outcomes(
    uow: MembersUnitOfWork, audit: AuditAs | None, *, target_type: str, outcomes: Sequence[tuple[object | None, str]]
) -> None:
    """One entry per item of a batch in the open unit of work: its target (None for a refused item, which has
    none) and its outcome (`ok`, or the error code it was refused with). Nothing when `audit` is None."""
    if audit is not None and outcomes:
        rows = [_row(audit.actor, audit.action, target_type, target, outcome) for target, outcome in outcomes]
        await uow.audit.append(rows)


async def record_refusal(
    sessions: SessionFactory, actor: Actor, *, action: str, target_type: str, target_id: object | None, code: str
) -> None:
    """Record a refused action in a transaction of its own (the refused one rolled back)."""
    uow = MembersUnitOfWork(sessions)
    async with uow:
        await record(uow, actor, action=action, target_type=target_type, target_ids=(target_id,), outcome=code)
        await uow.commit()


async def audit_page(
    uow: MembersUnitOfWork, where: AuditFilter, *, limit: int, before: tuple[datetime, uuid.UUID] | None
) -> list[AuditView]:
    """Up to `limit` entries newest first, matching `where`, before a position."""
    async with uow:
        return [AuditView.of(row) for row in await uow.audit.page(where, limit=limit, before=before)]


async def audit_count(uow: MembersUnitOfWork, where: AuditFilter) -> int:
    """How many entries match `where`."""
    async with uow:
        return await uow.audit.count(where)
