"""Expected errors of the members subgraph, as GraphQL union members."""

from __future__ import annotations

import strawberry

from members.domain.errors import InvalidMobile, InvalidNickname, MembersErrorCode
from yutang_shared.errors import Error, error_handlers

MembersErrorCodeEnum = strawberry.enum(MembersErrorCode, description="Codes of the members service's errors.")


@strawberry.type(description="The mobile is not an 11-digit mainland China mobile number.")
class InvalidMobileError(Error):
    code: MembersErrorCodeEnum = strawberry.field(description="MEMBERS_INVALID_MOBILE.")  # type: ignore[valid-type]


@strawberry.type(description="The nickname is longer than 32 characters or contains control characters.")
class InvalidNicknameError(Error):
    code: MembersErrorCodeEnum = strawberry.field(description="MEMBERS_INVALID_NICKNAME.")  # type: ignore[valid-type]


HANDLERS = error_handlers({InvalidMobile: InvalidMobileError, InvalidNickname: InvalidNicknameError})
