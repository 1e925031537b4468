"""Identity in the members subgraph: operations register, rotate, revoke and list OAuth clients (partners and
services). Only role ops may. Every client mutation is audited (target type `client`, the client id; never the
secret), refusals included. A logged-in member binds or changes their mobile with a WeChat phone code
(`changeMyMobile`, audited as a member mutation)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.permission import BasePermission

from members.access import AuditRefusals, Authorized
from members.audit.service import Actor, AuditAs, record_refusal
from members.context import MembersInfo
from members.identity.clients import list_clients, register_client, revoke_client, rotate_client_secret
from members.identity.errors import (
    ClientNotFound,
    IdentityErrorCode,
    InvalidClient,
    WechatCodeAlreadyUsed,
    WechatCodeRefused,
    WechatUnavailable,
)
from members.identity.models import ClientRole
from members.identity.phones import change_my_mobile
from members.identity.views import ClientView
from members.organisation.errors import DirectoryErrorCode
from members.profile.errors import MobileTaken
from members.profile.graphql import (
    InvalidProfileError,
    Member,
    MemberClosedError,
    MemberFrozenError,
    MemberNotFoundError,
    MemberSuccess,
)
from members.uow import MembersUnitOfWork
from yutang_shared.auth import Role
from yutang_shared.context import principal_of
from yutang_shared.enums import graphql_enum
from yutang_shared.errors import Error, Forbidden, error_handlers

graphql_enum(
    IdentityErrorCode,
    "Codes of identity's expected errors.",
    {
        "MEMBERS_CLIENT_NOT_FOUND": "No live client has that client id.",
        "MEMBERS_INVALID_CLIENT": "The client registration is invalid (name, scopes, store codes or limits).",
    },
)
graphql_enum(
    ClientRole,
    "Who an OAuth client speaks for.",
    {"PARTNER": "A partner system (POS, ERP, e-commerce, WeCom tooling).", "SERVICE": "One of our own services."},
)


class OpsOnly(BasePermission):
    """Client management is for operations; a refused mutation is audited (`FORBIDDEN`)."""

    message = "only operations may manage OAuth clients"

    async def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        principal = principal_of(info)
        if principal.role is not Role.OPS:
            if info._raw_info.parent_type.name == "Mutation":
                await record_refusal(
                    info.context.sessions,
                    Actor.of(principal),
                    action=info.field_name,
                    target_type="client",
                    target_id=kwargs.get("client_id"),
                    code="FORBIDDEN",
                )
            raise Forbidden(self.message)
        return True


def _audit(info: MembersInfo) -> AuditAs:
    return AuditAs(Actor.of(principal_of(info)), info.field_name)


ClientIdArg = Annotated[str, strawberry.argument(description="The client's id (client_id).")]


@strawberry.type(description="A partner or service client of the token endpoint (POST /oauth/token).")
class OAuthClient:
    client_id: str = strawberry.field(description="The public client id (client_id of the token request).")
    name: str = strawberry.field(description="Who the client is, for people.")
    role: ClientRole = strawberry.field(description="The role its tokens carry.")
    scopes: list[str] = strawberry.field(description="The scopes its tokens may carry.")
    allowed_stores: list[str] = strawberry.field(description="Store codes it may act for; empty: no restriction.")
    rate_limit_per_second: int = strawberry.field(description="Requests per second the gateway lets through.")
    rate_limit_per_day: int = strawberry.field(description="Requests per day the gateway lets through.")
    created_at: datetime = strawberry.field(description="When it was registered.")
    secret_rotated_at: datetime | None = strawberry.field(description="When its secret was last replaced.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked; revoked clients get no token.")

    @classmethod
    def of(cls, view: ClientView) -> OAuthClient:
        return cls(
            client_id=view.client_id,
            name=view.name,
            role=view.role,
            scopes=list(view.scopes),
            allowed_stores=list(view.allowed_stores),
            rate_limit_per_second=view.rate_limit_per_second,
            rate_limit_per_day=view.rate_limit_per_day,
            created_at=view.created_at,
            secret_rotated_at=view.secret_rotated_at,
            revoked_at=view.revoked_at,
        )


@strawberry.type(description="No live client has that client id.")
class ClientNotFoundError(Error):
    code: IdentityErrorCode = strawberry.field(description="MEMBERS_CLIENT_NOT_FOUND.")


@strawberry.type(
    description="The registration is invalid: empty name, malformed scope or store code, or limits out of range."
)
class InvalidClientError(Error):
    code: IdentityErrorCode = strawberry.field(description="MEMBERS_INVALID_CLIENT.")


@strawberry.type(description="WeChat refused the phone code: unknown, expired, or already used. Nothing was changed.")
class WechatCodeError(Error):
    code: DirectoryErrorCode = strawberry.field(
        description="MEMBERS_WECHAT_CODE_INVALID or MEMBERS_WECHAT_CODE_USED: ask the member for a new code."
    )


@strawberry.type(description="WeChat is busy, unreachable or not configured. Nothing was changed; try again later.")
class WechatUnavailableError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_WECHAT_UNAVAILABLE.")


@strawberry.type(description="The mobile number is registered to another member. Nothing was changed.")
class MobileTakenError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_MOBILE_TAKEN.")


HANDLERS = error_handlers(
    {
        ClientNotFound: ClientNotFoundError,
        InvalidClient: InvalidClientError,
        WechatCodeRefused: WechatCodeError,
        WechatCodeAlreadyUsed: WechatCodeError,
        WechatUnavailable: WechatUnavailableError,
        MobileTaken: MobileTakenError,
    }
)


@strawberry.type(description="The client and its secret. The secret is shown this once and cannot be read again.")
class ClientSecretSuccess:
    client: OAuthClient = strawberry.field(description="The client.")
    client_secret: str = strawberry.field(description="The secret; store it now, it is kept only as a hash.")


@strawberry.type(description="The revoked client.")
class RevokeClientSuccess:
    client: OAuthClient = strawberry.field(description="The client, with revokedAt set.")


RegisterClientPayload = Annotated[
    ClientSecretSuccess | InvalidClientError,
    strawberry.union("RegisterClientPayload", description="The outcome of registerClient."),
]
RotateClientSecretPayload = Annotated[
    ClientSecretSuccess | ClientNotFoundError,
    strawberry.union("RotateClientSecretPayload", description="The outcome of rotateClientSecret."),
]
ChangeMyMobilePayload = Annotated[
    MemberSuccess
    | WechatCodeError
    | WechatUnavailableError
    | MobileTakenError
    | InvalidProfileError
    | MemberFrozenError
    | MemberClosedError
    | MemberNotFoundError,
    strawberry.union("ChangeMyMobilePayload", description="The outcome of changeMyMobile."),
]
RevokeClientPayload = Annotated[
    RevokeClientSuccess | ClientNotFoundError,
    strawberry.union("RevokeClientPayload", description="The outcome of revokeClient."),
]


@strawberry.type
class Query:
    @strawberry.field(
        description="OAuth clients in registration order (revoked ones when includeRevoked). Operations only.",
        permission_classes=[OpsOnly],
    )
    async def clients(
        self,
        info: MembersInfo,
        include_revoked: Annotated[bool, strawberry.argument(description="Also list revoked clients.")] = False,
    ) -> list[OAuthClient]:
        views = await list_clients(MembersUnitOfWork(info.context.sessions), include_revoked=include_revoked)
        return [OAuthClient.of(view) for view in views]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Register a partner or service client for the token endpoint; answers its secret once. "
        "Omitted rate limits take the service's defaults. Operations only.",
        permission_classes=[OpsOnly],
        extensions=[AuditRefusals("client")],
    )
    async def register_client(
        self,
        info: MembersInfo,
        name: Annotated[str, strawberry.argument(description="A name operators recognise (e.g. the POS vendor).")],
        role: Annotated[ClientRole, strawberry.argument(description="Partner or service.")],
        scopes: Annotated[list[str], strawberry.argument(description="The scopes its tokens carry.")],
        allowed_stores: Annotated[
            list[str] | None, strawberry.argument(description="Store codes a partner may act for (none: all).")
        ] = None,
        rate_limit_per_second: Annotated[
            int | None, strawberry.argument(description="Requests per second (default: the service's).")
        ] = None,
        rate_limit_per_day: Annotated[
            int | None, strawberry.argument(description="Requests per day (default: the service's).")
        ] = None,
    ) -> RegisterClientPayload:
        identity = info.context.settings.identity
        issued = await register_client(
            MembersUnitOfWork(info.context.sessions),
            name=name,
            role=role,
            scopes=scopes,
            allowed_stores=allowed_stores or [],
            rate_limit_per_second=rate_limit_per_second or identity.client_rate_limit_per_second,
            rate_limit_per_day=rate_limit_per_day or identity.client_rate_limit_per_day,
            audit=_audit(info),
        )
        return ClientSecretSuccess(client=OAuthClient.of(issued.client), client_secret=issued.secret)

    @strawberry.mutation(
        description="Replace a live client's secret; the old secret stops working at once. Operations only.",
        permission_classes=[OpsOnly],
        extensions=[AuditRefusals("client")],
    )
    async def rotate_client_secret(self, info: MembersInfo, client_id: ClientIdArg) -> RotateClientSecretPayload:
        issued = await rotate_client_secret(
            MembersUnitOfWork(info.context.sessions), client_id=client_id, audit=_audit(info)
        )
        return ClientSecretSuccess(client=OAuthClient.of(issued.client), client_secret=issued.secret)

    @strawberry.mutation(
        description="Revoke a client: it gets no new token (tokens already issued expire within their lifetime, "
        "an hour by default). Operations only.",
        permission_classes=[OpsOnly],
        extensions=[AuditRefusals("client")],
    )
    async def revoke_client(self, info: MembersInfo, client_id: ClientIdArg) -> RevokeClientPayload:
        view = await revoke_client(MembersUnitOfWork(info.context.sessions), client_id=client_id, audit=_audit(info))
        return RevokeClientSuccess(client=OAuthClient.of(view))

    @strawberry.mutation(
        description="Bind or change the calling member's mobile to the number WeChat confirms for the code of the "
        "mini-program's getPhoneNumber button (WeChat's getuserphonenumber). One member per mobile: another "
        "member's number is refused. Members themselves only; frozen and closed members cannot. Audited.",
        permission_classes=[Authorized],
        extensions=[AuditRefusals()],
    )
    async def change_my_mobile(
        self,
        info: MembersInfo,
        phone_code: Annotated[
            str, strawberry.argument(description="The code from the getPhoneNumber button (good once, ≤ 128).")
        ],
    ) -> ChangeMyMobilePayload:
        if not phone_code or len(phone_code) > 128:
            raise WechatCodeRefused("the phone code must be 1 to 128 characters")
        principal = principal_of(info)
        view = await change_my_mobile(
            info.context.sessions,
            info.context.vault,
            info.context.mini_program,
            Actor.of(principal),
            member_id=uuid.UUID(principal.subject),
            phone_code=phone_code,
        )
        return MemberSuccess(member=Member.of(view))
