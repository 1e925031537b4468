"""OAuth clients (partners and services): register, rotate the secret, revoke, list, and check a secret."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from anyio import to_thread

from members.audit.models import OK
from members.audit.service import AuditAs, record_outcomes
from members.identity.errors import ClientNotFound, InvalidClient
from members.identity.models import ClientRole, OAuthClient
from members.identity.rules import MAX_NAME, MAX_STORES, hash_secret, new_client_id, new_secret
from members.identity.views import ClientView, IssuedSecret
from members.uow import MembersUnitOfWork

log = logging.getLogger(__name__)

# Scopes are declared by each service (members, loyalty, community, …), which this one does not import: a client
# may hold any scope of the `area:action` form; a scope no service declares grants nothing.
_SCOPE = re.compile(r"^[a-z][a-z_]{0,30}:[a-z][a-z_]{0,30}$")
_STORE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MAX_RATE_PER_SECOND = 10_000
MAX_RATE_PER_DAY = 100_000_000


def _checked(
    name: str, scopes: Sequence[str], stores: Sequence[str], per_second: int, per_day: int
) -> tuple[str, list[str], list[str]]:
    clean = name.strip()
    if not clean or len(clean) > MAX_NAME:
        raise InvalidClient(f"name must be 1 to {MAX_NAME} characters")
    bad = [scope for scope in scopes if not _SCOPE.match(scope)]
    if bad or not scopes:
        raise InvalidClient(f"scopes must be one or more of the form area:action, e.g. members:read (got {bad})")
    if len(stores) > MAX_STORES or not all(_STORE.match(code) for code in stores):
        raise InvalidClient(f"allowedStores takes at most {MAX_STORES} store codes (letters, digits, - and _)")
    if not 1 <= per_second <= MAX_RATE_PER_SECOND or not 1 <= per_day <= MAX_RATE_PER_DAY:
        raise InvalidClient(
            f"rate limits must be 1..{MAX_RATE_PER_SECOND} per second and 1..{MAX_RATE_PER_DAY} per day"
        )
    return clean, sorted(set(scopes)), sorted(set(stores))


async def register_client(
    uow: MembersUnitOfWork,
    *,
    name: str,
    role: ClientRole,
    scopes: Sequence[str],
    allowed_stores: Sequence[str],
    rate_limit_per_second: int,
    rate_limit_per_day: int,
    audit: AuditAs | None = None,
) -> IssuedSecret:
    """Register a partner or service client; its secret is returned this once and stored as a scrypt hash.

    Raises InvalidClient (nothing is written) for an empty name, a malformed scope or store code, or limits out of
    range. With `audit`, the registration is audited (target: the client id; never the secret) in its transaction.
    """
    clean, scope_list, store_list = _checked(name, scopes, allowed_stores, rate_limit_per_second, rate_limit_per_day)
    secret = new_secret()
    hashed = await to_thread.run_sync(hash_secret, secret)
    async with uow:
        row = await uow.identity.add_client(
            OAuthClient(
                client_id=new_client_id(),
                name=clean,
                role=role.value,
                scopes=scope_list,
                allowed_stores=store_list,
                rate_limit_per_second=rate_limit_per_second,
                rate_limit_per_day=rate_limit_per_day,
                secret_hash=hashed,
            )
        )
        view = ClientView.of(row)
        await record_outcomes(uow, audit, target_type="client", outcomes=[(view.client_id, OK)])
        await uow.commit()
    log.info("client registered", extra={"client_id": view.client_id, "role": role.value})
    return IssuedSecret(client=view, secret=secret)


async def rotate_client_secret(uow: MembersUnitOfWork, *, client_id: str, audit: AuditAs | None = None) -> IssuedSecret:
    """Give a live client a new secret; the old one stops working at once. Raises ClientNotFound (also revoked).
    With `audit`, the rotation is audited in its transaction."""
    secret = new_secret()
    hashed = await to_thread.run_sync(hash_secret, secret)
    async with uow:
        row = await uow.identity.client(client_id, lock=True)
        if row is None or row.revoked_at is not None:
            raise ClientNotFound(f"no live client {client_id!r}")
        row.secret_hash = hashed
        row.secret_rotated_at = datetime.now(UTC)
        await uow.session.flush()
        view = ClientView.of(row)
        await record_outcomes(uow, audit, target_type="client", outcomes=[(client_id, OK)])
        await uow.commit()
    log.info("client secret rotated", extra={"client_id": client_id})
    return IssuedSecret(client=view, secret=secret)


async def revoke_client(uow: MembersUnitOfWork, *, client_id: str, audit: AuditAs | None = None) -> ClientView:
    """Revoke a client: no new token is issued to it (tokens already issued expire within their lifetime).
    Revoking again changes nothing. Raises ClientNotFound. With `audit`, the call is audited in its transaction."""
    async with uow:
        row = await uow.identity.client(client_id, lock=True)
        if row is None:
            raise ClientNotFound(f"no client {client_id!r}")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            await uow.session.flush()
        view = ClientView.of(row)
        await record_outcomes(uow, audit, target_type="client", outcomes=[(client_id, OK)])
        await uow.commit()
    log.info("client revoked", extra={"client_id": client_id})
    return view


async def list_clients(uow: MembersUnitOfWork, *, include_revoked: bool) -> list[ClientView]:
    """Every client in registration order; revoked ones only when asked."""
    async with uow:
        return [ClientView.of(row) for row in await uow.identity.clients(include_revoked=include_revoked)]


async def live_client(uow: MembersUnitOfWork, client_id: str) -> ClientView | None:
    """The client with that id unless it is revoked or unknown."""
    async with uow:
        row = await uow.identity.client(client_id)
        return ClientView.of(row) if row is not None and row.revoked_at is None else None
