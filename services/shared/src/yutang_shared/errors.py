"""The Error interface every subgraph shares, domain error base, and errors that are safe to show callers."""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar

import strawberry
from graphql import GraphQLError


@strawberry.interface(description="An expected failure of a mutation: the caller can act on it. Nothing was changed.")
class Error:
    message: str = strawberry.field(description="What went wrong, in words a person can read.")


class DomainError(Exception):
    """An expected outcome a use case reports instead of a result; GraphQL maps it to a union member."""

    code: ClassVar[Enum]

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class PublicError(GraphQLError):
    """A top-level error whose message and code the caller may see (everything else is masked)."""

    code: ClassVar[str] = "BAD_REQUEST"

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": self.code})


class BadUserInput(PublicError):
    """An argument is well-typed but makes no sense (for example a cursor from another list)."""

    code = "BAD_USER_INPUT"


class Unauthenticated(PublicError):
    """No verified identity reached the resolver."""

    code = "UNAUTHENTICATED"


class Forbidden(PublicError):
    """The caller is known but may not use this field for this object."""

    code = "FORBIDDEN"


class DomainErrorHandler:
    """Turns a raised DomainError into its GraphQL union member (`error_type(message, code, **details)`).

    Registered once per schema (`exception_handlers=`), so resolvers never catch expected errors themselves.
    """

    def __init__(self, exception_type: type[DomainError], error_type: type[Any]) -> None:
        self.exception_type = exception_type
        self.error_type = error_type

    def handle(self, exception: DomainError, *, field: Any, info: Any) -> Any:
        return self.error_type(message=exception.message, code=exception.code, **exception.details)


def error_handlers(pairs: dict[type[DomainError], type[Any]]) -> list[DomainErrorHandler]:
    """One handler per (domain exception, GraphQL error type) pair."""
    return [DomainErrorHandler(exc, error) for exc, error in pairs.items()]


def as_union_member(exception: DomainError, handlers: list[DomainErrorHandler]) -> Any:
    """The union member for an exception caught by hand (e.g. one item of a batch); re-raises unknown ones."""
    for handler in handlers:
        if isinstance(exception, handler.exception_type):
            return handler.handle(exception, field=None, info=None)
    raise exception
