"""Development tokens: `python -m yutang_dev token --role …` and the tokens `make run` hands out."""

from __future__ import annotations

import argparse
import os
import re
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import community.scopes
import loyalty.scopes
import members.scopes
from members.organisation.models import StaffRole
from yutang_dev.keys import ensure_keys
from yutang_dev.paths import data_dir
from yutang_shared.auth import Role, issue_token

__all__ = [
    "DEFAULT_SUBJECTS",
    "TokenRequestError",
    "add_token_arguments",
    "load_private_key",
    "mint_token",
    "parse_codes",
    "parse_scopes",
    "token_from_args",
]

DEFAULT_SUBJECTS = {Role.OPS: "ops-dev", Role.STAFF: "staff-dev", Role.PARTNER: "partner-dev", Role.SERVICE: "dev"}
# Each service declares its own scopes; a development token may name any of them.
_KNOWN_SCOPES = {scope.value for module in (members.scopes, loyalty.scopes, community.scopes) for scope in module.Scope}
_KNOWN_STAFF_ROLES = [role.value for role in StaffRole]
# A staff token names no staff role: a guide, the role that store staff most often have.
DEFAULT_STAFF_ROLES = (StaffRole.GUIDE.value,)
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


class TokenRequestError(ValueError):
    """The requested token does not make sense (unknown scope, member without id, …)."""


def load_private_key() -> str:
    """The signing key: `$YUTANG_JWT_PRIVATE_KEY_FILE`, else `$YUTANG_DATA_DIR/keys/jwt-private.pem` (created)."""
    configured = os.environ.get("YUTANG_JWT_PRIVATE_KEY_FILE")
    path = Path(configured) if configured else ensure_keys(data_dir()).jwt_private
    try:
        return path.read_text()
    except FileNotFoundError as exc:
        raise TokenRequestError(f"YUTANG_JWT_PRIVATE_KEY_FILE points at {path}, which does not exist") from exc


def parse_scopes(raw: str | Sequence[str] | None) -> tuple[str, ...]:
    """Scopes from `a,b` or a list, each checked against the services' `scopes.Scope` enums."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or ())
    scopes = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    unknown = [scope for scope in scopes if scope not in _KNOWN_SCOPES]
    if unknown:
        raise TokenRequestError(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(sorted(_KNOWN_SCOPES))}")
    return scopes


def parse_codes(raw: str | Sequence[str] | None, what: str) -> tuple[str, ...]:
    """Store or region codes from `S1,S2` or a list: each 1–32 letters, digits, - or _ (like the organisation's)."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or ())
    codes = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    bad = [code for code in codes if not _CODE.match(code)]
    if bad:
        raise TokenRequestError(f"--{what}: {', '.join(map(repr, bad))} is not a code (1–32 letters, digits, - or _)")
    return codes


def parse_staff_roles(raw: str | Sequence[str] | None) -> tuple[str, ...]:
    """Staff roles from `guide,store_manager` or a list, each one of the organisation's `StaffRole`s."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or ())
    roles = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    unknown = [role for role in roles if role not in _KNOWN_STAFF_ROLES]
    if unknown:
        raise TokenRequestError(f"unknown staff role(s) {', '.join(unknown)}; known: {', '.join(_KNOWN_STAFF_ROLES)}")
    return roles


def mint_token(
    private_key: str,
    *,
    role: Role,
    member: str | None = None,
    subject: str | None = None,
    scopes: Sequence[str] = (),
    stores: Sequence[str] = (),
    regions: Sequence[str] = (),
    staff_roles: Sequence[str] = (),
    ttl: timedelta = timedelta(hours=12),
) -> str:
    """Sign a token for `role`, validating the combination; issuer and audience follow `YUTANG_JWT_*`.

    Staff tokens carry `stores`, `regions` and `staff_roles` (default: guide); partner tokens may carry `stores`
    (their allowed stores). Other roles take none of them."""
    checked = parse_scopes(scopes)
    stores, regions = parse_codes(stores, "stores"), parse_codes(regions, "regions")
    staff_roles = parse_staff_roles(staff_roles)
    if role is not Role.STAFF and (regions or staff_roles):
        raise TokenRequestError(f"--regions and --staff-roles only apply to role staff, not {role.value}")
    if role not in (Role.STAFF, Role.PARTNER) and stores:
        raise TokenRequestError(f"--stores only applies to roles staff and partner, not {role.value}")
    if role is Role.STAFF and not staff_roles:
        staff_roles = DEFAULT_STAFF_ROLES
    return issue_token(
        private_key,
        subject=_subject(role, member, subject),
        role=role,
        scopes=checked if role is not Role.PARTNER else _partner_scopes(checked),
        stores=stores,
        regions=regions,
        staff_roles=staff_roles,
        ttl=ttl,
        issuer=os.environ.get("YUTANG_JWT_ISSUER", "yutang"),
        audience=os.environ.get("YUTANG_JWT_AUDIENCE", "yutang-api"),
    )


def _subject(role: Role, member: str | None, subject: str | None) -> str:
    if role is Role.MEMBER:
        if member is None:
            raise TokenRequestError("role member needs --member <member uuid>")
        try:
            member_id = str(uuid.UUID(member))
        except ValueError as exc:
            raise TokenRequestError(f"--member must be a UUID, got {member!r}") from exc
        if subject is not None and subject != member_id:
            raise TokenRequestError("a member token's subject is the member id: drop --subject")
        return member_id
    if member is not None:
        raise TokenRequestError(f"--member only applies to role member, not {role.value}")
    return subject or DEFAULT_SUBJECTS[role]


def _partner_scopes(scopes: tuple[str, ...]) -> tuple[str, ...]:
    if not scopes:
        raise TokenRequestError("role partner needs --scopes (a partner holds only the scopes its token lists)")
    return scopes


def add_token_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `python -m yutang_dev token`."""
    parser.add_argument("--role", required=True, help="ops | staff | member | partner | service")
    parser.add_argument("--member", help="member id (UUID); required for role member, becomes `sub`")
    parser.add_argument("--subject", help="`sub` claim (default: ops-dev, staff-dev, partner-dev, dev)")
    parser.add_argument("--scopes", help=f"comma-separated: {', '.join(sorted(_KNOWN_SCOPES))}")
    parser.add_argument("--stores", help="comma-separated store codes: staff's stores, a partner's allowed stores")
    parser.add_argument("--regions", help="comma-separated region codes of a staff token (a supervisor's regions)")
    parser.add_argument(
        "--staff-roles", help=f"comma-separated, staff only (default guide): {', '.join(_KNOWN_STAFF_ROLES)}"
    )
    parser.add_argument("--ttl-hours", type=float, default=12.0, help="lifetime in hours (default 12)")


def token_from_args(args: argparse.Namespace) -> str:
    """Validate the parsed options and mint the token they describe."""
    try:
        role = Role(args.role)
    except ValueError as exc:
        raise TokenRequestError(f"unknown role {args.role!r}; use one of {', '.join(r.value for r in Role)}") from exc
    if not args.ttl_hours > 0:
        raise TokenRequestError("--ttl-hours must be positive")
    scopes = parse_scopes(args.scopes)
    return mint_token(
        load_private_key(),
        role=role,
        member=args.member,
        subject=args.subject,
        scopes=scopes,
        stores=parse_codes(args.stores, "stores"),
        regions=parse_codes(args.regions, "regions"),
        staff_roles=parse_staff_roles(args.staff_roles),
        ttl=timedelta(hours=args.ttl_hours),
    )
