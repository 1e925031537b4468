"""Registering members (捞鱼): one member per mobile, whoever registers first."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from members.audit.models import OK
from members.audit.service import AuditAs, record_outcomes
from members.models import OUTBOX
from members.organisation.errors import UnknownStore
from members.pii import MobileVault
from members.profile.models import Member, SourceChannel
from members.profile.views import MemberView
from members.registration.events import registered
from members.registration.rules import clean_nickname, mask_mobile, normalise_mobile
from members.uow import MembersUnitOfWork
from yutang_shared.outbox import record

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Registration:
    """The outcome of registering: the member, and whether this call created them."""

    member: MemberView
    created: bool


async def register_member(
    uow: MembersUnitOfWork,
    vault: MobileVault,
    *,
    mobile: str,
    nickname: str | None,
    source_channel: SourceChannel,
    store_code: str | None = None,
    audit: AuditAs | None = None,
) -> Registration:
    """Register a member, or return the member already registered with that mobile.

    Registration is idempotent on the normalised mobile, so a retried or concurrent registration never
    creates a duplicate. A new member is announced with `member.registered` in the same transaction (a repeat
    announces nothing). `store_code` is the registration store and the new member's home store; a repeat
    changes nothing, the store included. Raises InvalidMobile, InvalidNickname or UnknownStore (no active store
    has the code) and then writes nothing. With `audit`, the call is recorded in the audit log in the same
    transaction (target: the member; a repeat too, as it answered the member)."""
    normalised = normalise_mobile(mobile)
    name = clean_nickname(nickname)
    fingerprint = vault.fingerprint(normalised)
    async with uow:
        if store_code is not None:
            store = await uow.organisation.store_by_code(store_code)
            if store is None or not store.active:
                raise UnknownStore(f"no active store has the code {store_code!r}")
        inserted = await uow.members.insert_if_new(
            Member(
                mobile_fingerprint=fingerprint,
                mobile_ciphertext=vault.seal(normalised),
                mobile_masked=mask_mobile(normalised),
                nickname=name,
                source_channel=source_channel.value,
                home_store_code=store_code,
                registration_store_code=store_code,
            )
        )
        member = MemberView.of(inserted or await uow.members.by_fingerprint(fingerprint))
        if inserted is not None:
            await record(uow.session, OUTBOX, [registered(member)])
        await record_outcomes(uow, audit, target_type="member", outcomes=[(member.id, OK)])
        await uow.commit()
    created = inserted is not None
    if created:
        log.info(
            "member registered",
            extra={"member_id": str(member.id), "channel": source_channel.value, "store_code": store_code},
        )
    return Registration(member=member, created=created)
