"""GraphQL plumbing every subgraph shares: the Schema with its limits, caches and error handling; the controller."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from types import ModuleType
from typing import Any, ClassVar, TypeVar

import strawberry
import strawberry.federation
from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    StringValueNode,
    Visitor,
    visit,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from litestar import Request, Response
from litestar.background_tasks import BackgroundTasks
from litestar.di import Provide
from litestar.types import Dependencies
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.federation.schema import FederationAny
from strawberry.federation.schema_directives import Key
from strawberry.litestar import make_graphql_controller
from strawberry.litestar.controller import GraphQLController
from strawberry.schema import BaseSchema
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, Info
from strawberry.types.base import StrawberryObjectDefinition

from yutang_shared.auth import Principal
from yutang_shared.connections import CURSOR, CursorValue
from yutang_shared.context import RequestContext
from yutang_shared.errors import BadUserInput, PublicError
from yutang_shared.trust import PRINCIPAL_KEY

log = logging.getLogger("yutang.graphql")

T = TypeVar("T")

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 4000


def caused_by_caller(error: GraphQLError) -> bool:
    """Errors about the request itself (syntax, validation, coercion: no path) or raised as PublicError."""
    return error.path is None or isinstance(error, PublicError) or isinstance(error.original_error, PublicError)


def _refusal_code(error: GraphQLError) -> str:
    """The conventional code of an error refused before execution: a syntax, variable or validation error."""
    if isinstance(error, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable '$"):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def _should_mask(error: GraphQLError) -> bool:
    return not caused_by_caller(error)


def _limit_rules() -> list[type[ASTValidationRule]]:
    """The depth and alias rules, built once: the validation cache keys on the rule classes, so rules rebuilt
    per request (passing the limiters as factories) would never hit it."""
    depth = QueryDepthLimiter(max_depth=MAX_DEPTH)
    aliases = MaxAliasesLimiter(max_alias_count=MAX_ALIASES)
    return [*depth.validation_rules, *aliases.validation_rules]


LIMIT_RULES = _limit_rules()


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


class RefuseNulBytes(SchemaExtension):
    """Refuses a request whose variables or string literals hold a NUL byte, as bad input, before any resolver
    runs: PostgreSQL cannot store one, and asyncpg would fail inside a resolver (a masked error) instead."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if _holds_nul(context.variables) or _literal_nul(context.query, context.graphql_document):
            error = BadUserInput("strings must not contain NUL characters")
            context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield


def _literal_nul(query: str | None, document: DocumentNode | None) -> bool:
    """A NUL in the document's string literals: raw, or escaped (the document is walked only when the text holds
    an escape at all, which almost no request does)."""
    if query is None or document is None:
        return False
    if "\x00" in query:
        return True
    return "\\u" in query and any("\x00" in node.value for node in _string_nodes(document))


def _string_nodes(document: DocumentNode) -> list[StringValueNode]:
    found: list[StringValueNode] = []

    class Collect(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            found.append(node)

    visit(document, Collect())
    return found


def schema_extensions() -> list[Callable[[], SchemaExtension]]:
    """Limits and caches every subgraph runs with; unexpected errors are masked, public ones kept.

    Factories, not instances: each request gets its own extension objects (the caches are module-level, and
    the limit rules are the same classes every time so validated documents are cached).
    """
    return [
        partial(AddValidationRules, LIMIT_RULES),
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(ParserCache, maxsize=512),
        partial(ValidationCache, maxsize=512),
        RefuseNulBytes,
        partial(MaskErrors, should_mask_error=_should_mask),
    ]


class Schema(strawberry.federation.Schema):
    """A federation 2.9 subgraph schema with the shared scalars, limits and caches; it logs errors callers
    caused at info level, without tracebacks."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("federation_version", "2.9")
        kwargs.setdefault("extensions", schema_extensions())
        kwargs.setdefault("config", StrawberryConfig(scalar_map={CursorValue: CURSOR}))
        super().__init__(**kwargs)
        # The key field sets of every entity type, e.g. {"Member": [{"id"}]}.
        self._entity_keys: dict[str, list[frozenset[str]]] = {
            definition.name: [
                frozenset(str(directive.fields).split())
                for directive in definition.directives or []
                if isinstance(directive, Key)
            ]
            for definition in (concrete.definition for concrete in self.schema_converter.type_map.values())
            if isinstance(definition, StrawberryObjectDefinition)
            and any(isinstance(directive, Key) for directive in definition.directives or [])
        }

    def entities_resolver(self, info: Info, representations: list[FederationAny]) -> list[FederationAny]:
        """Strawberry's `_entities`, refusing as bad input the representations the gateway never sends: one that
        names no entity type of this subgraph or lacks its key fields (Strawberry fails on those unexpectedly)."""
        for index, representation in enumerate(representations):
            fields: dict[str, Any] = representation if isinstance(representation, dict) else {}
            typename = fields.get("__typename")
            keys = self._entity_keys.get(typename, []) if isinstance(typename, str) else []
            if not any(key <= fields.keys() for key in keys):
                raise BadUserInput(f"representation {index} is no reference to an entity of this subgraph")
        return super().entities_resolver(info, representations)

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Label and log every error of a request. This is the one hook strawberry passes every error through:
        a syntax error raised by ParserCache's parse hook never reaches a schema extension's operation hook."""
        unexpected = []
        for error in errors:
            if caused_by_caller(error):
                if error.path is None and not (error.extensions or {}).get("code"):
                    # The gateway labels errors without a code DOWNSTREAM_SERVICE_ERROR (a subgraph failure)
                    # and adds a path: say it was the request, as every client and tool reads it.
                    error.extensions = {**(error.extensions or {}), "code": _refusal_code(error)}
                log.info("request refused: %s", error.message, extra={"path": error.path})
            else:
                unexpected.append(error)
        if unexpected:
            super().process_errors(unexpected, execution_context)


def graphql_controller(
    schema: BaseSchema, make_context: Callable[[Principal | None], RequestContext]
) -> type[GraphQLController]:
    """The `/graphql` POST endpoint of a subgraph (no IDE and no GET: clients use the gateway); each request gets
    a fresh context from `make_context(principal)`, with fresh loaders."""

    async def get_context(request: Request[Any, Any, Any]) -> RequestContext:
        return make_context(request.scope.get("state", {}).get(PRINCIPAL_KEY))

    controller = make_graphql_controller(
        schema,
        path="/graphql",
        graphql_ide=None,
        allow_queries_via_get=False,
        context_getter=get_context,
    )

    class Controller(controller):  # type: ignore[misc,valid-type]
        # Strawberry builds the response object in a worker thread (`sync_to_thread=True`): a thread-pool hop on
        # every request for a constructor call.
        dependencies: ClassVar[Dependencies] = {
            **controller.dependencies,
            "response": Provide(_new_response, sync_to_thread=False),
        }

    return Controller


def _new_response() -> Response[Any]:
    return Response({}, background=BackgroundTasks([]))


def feature_schema(features: Sequence[ModuleType], *, types: Sequence[type] = ()) -> Schema:
    """A subgraph schema merged from its feature modules: each may define `Query`, `Mutation` and `HANDLERS`
    (its domain errors' union members). Adding a feature to a service is adding its module to the list."""

    def merged(name: str) -> type | None:
        parts = tuple(getattr(feature, name) for feature in features if hasattr(feature, name))
        return merge_types(name, parts) if parts else None

    return Schema(
        query=merged("Query"),
        mutation=merged("Mutation"),
        types=list(types),
        exception_handlers=[handler for feature in features for handler in getattr(feature, "HANDLERS", ())],
    )


def uuid_reference(cls: type[T], id: str) -> T | None:
    """`resolve_reference` of an entity another subgraph owns: this one only needs its id; no UUID, no entity."""
    try:
        return cls(id=uuid.UUID(str(id)))  # type: ignore[call-arg]
    except ValueError:
        return None
