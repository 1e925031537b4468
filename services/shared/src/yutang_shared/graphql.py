"""GraphQL plumbing every subgraph shares: the Schema with its limits, caches and error handling; the controller."""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
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
from strawberry.schema.compat import is_scalar
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.types.base_scalars import UUIDDefinition
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, Info
from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    StrawberryType,
    get_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition

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


def _variables_nul(variables: dict[str, Any] | None) -> bool:
    """A NUL anywhere in the request's variables (keys included). The variables are decoded JSON, so their JSON
    text holds `\\u0000` wherever a string holds a NUL: one C-speed encoding tells almost every request apart,
    and only one whose text holds that sequence (perhaps as an escaped backslash) is walked."""
    if not variables:
        return False
    try:
        text = json.dumps(variables)
    except (TypeError, ValueError):
        return _holds_nul(variables)
    return "\\u0000" in text and _holds_nul(variables)


class RefuseNulBytes(SchemaExtension):
    """Refuses a request whose variables or string literals hold a NUL byte, as bad input, before any resolver
    runs: PostgreSQL cannot store one, and asyncpg would fail inside a resolver (a masked error) instead."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if _variables_nul(context.variables) or _literal_nul(context.query, context.graphql_document):
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
        kwargs.setdefault("config", StrawberryConfig(scalar_map={CursorValue: CURSOR, uuid.UUID: UUID_SCALAR}))
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
        _plan_inputs(self)

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


# ------------------------------------------------------------------------------------------ lean input path


_Field = tuple[str, str, StrawberryType | type | None]
"""One field of an input's conversion plan: GraphQL name, Python name, and the type to convert its value to
(None when graphql-core's coerced value is already the Python value: scalars, enums, lists of them)."""


def _plan_inputs(schema: BaseSchema) -> None:
    """Build every input type of `schema` from a conversion plan made once, instead of strawberry's generic
    conversion, which resolves each field's name and type again for every field of every object of every request
    (~80 µs per object: 8 ms of a 100-item batch). The values are the ones graphql-core already coerced and
    validated against the published schema; scalars and enums are taken as they are, as strawberry does, and
    nested inputs go through strawberry's own conversion (which then meets their plans). Types with `Maybe` fields
    keep strawberry's path: they rely on a validation rule that types building their own value skip."""
    converter = schema.schema_converter
    for concrete in list(converter.type_map.values()):
        definition = concrete.definition
        if not isinstance(definition, StrawberryObjectDefinition) or not definition.is_input:
            continue
        if definition.from_input is not None:
            continue
        plan = _input_plan(definition, converter)
        if plan is not None:
            definition.from_input = _planned_input(plan)


def _input_plan(definition: StrawberryObjectDefinition, converter: Any) -> tuple[list[_Field], list[str]] | None:
    registry = converter.scalar_registry
    fields: list[_Field] = []
    required: list[str] = []
    for field in definition.fields:
        type_ = field.resolve_type(type_definition=definition)
        if isinstance(type_, StrawberryMaybe):
            return None
        name = converter.config.name_converter.from_field(field)
        fields.append((name, field.python_name, None if _taken_as_is(type_, registry) else type_))
        if field.default_value is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            required.append(field.python_name)
    return fields, required


def _taken_as_is(type_: StrawberryType | type, registry: Any) -> bool:
    """True for a type whose coerced GraphQL value is its Python value: a scalar or an enum, optional or not (a
    list is copied by strawberry, so lists are converted the usual way)."""
    if isinstance(type_, StrawberryOptional) and not isinstance(type_, StrawberryMaybe):
        return _taken_as_is(type_.of_type, registry)
    if isinstance(type_, StrawberryList):
        return False
    if isinstance(type_, StrawberryEnumDefinition) or has_enum_definition(type_):
        return True
    return type(type_) is type and is_scalar(type_, registry) and type_.__name__ != "GlobalID"


def _planned_input(plan: tuple[list[_Field], list[str]]) -> Callable[[type, Mapping[str, Any], InputContext], Any]:
    fields, required = plan

    def from_input(cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
        # As strawberry: a field without a default that the client left out is None; the rest keep their defaults.
        kwargs: dict[str, Any] = dict.fromkeys(required)
        for name, python_name, type_ in fields:
            if name in value:
                given = value[name]
                kwargs[python_name] = given if type_ is None or given is None else context.convert(given, type_, name)
        return cls(**kwargs)

    return from_input


def graphql_controller(
    schema: BaseSchema, make_context: Callable[[Principal | None], RequestContext]
) -> type[GraphQLController]:
    """The `/graphql` POST endpoint of a subgraph (no IDE and no GET: clients use the gateway); each request gets
    a fresh context from `make_context(principal)`, with fresh loaders."""

    async def get_context(request: Request[Any, Any, Any], response: Response[Any]) -> RequestContext:
        context = make_context(request.scope.get("state", {}).get(PRINCIPAL_KEY))
        context.request = request
        context.response = response
        return context

    async def no_root_value(context: Any) -> None:
        """Ordered after the context on purpose: Litestar resolves dependencies that do not depend on each other
        concurrently, spawning a task for each on every request."""

    controller = make_graphql_controller(
        schema,
        path="/graphql",
        graphql_ide=None,
        allow_queries_via_get=False,
    )

    class Controller(controller):  # type: ignore[misc,valid-type]
        # One chain of dependencies (response → context → root value), each resolved inline: strawberry's own
        # builds the response object in a worker thread (`sync_to_thread=True`) and resolves the response, the
        # root value and the custom context concurrently, in a task group, for every request.
        dependencies: ClassVar[Dependencies] = {
            **controller.dependencies,
            "response": Provide(_new_response, sync_to_thread=False),
            "context": Provide(get_context),
            "root_value": Provide(no_root_value),
        }

    return Controller


def _new_response() -> Response[Any]:
    return Response({}, background=BackgroundTasks([]))


UUID_SCALAR = dataclasses.replace(
    UUIDDefinition, description="A UUID in its canonical text form, e.g. 5f1e0c2a-8d4b-4a7e-9c61-2b3f4d5e6a7b."
)
"""Strawberry's UUID scalar, described (the client schema documents every type)."""

ROOT_DESCRIPTIONS = {
    "Query": "What can be read: members, loyalty and community, each field with the permission it needs.",
    "Mutation": "What can be changed: every mutation answers a payload union (success or a typed error).",
}


def feature_schema(features: Sequence[ModuleType], *, types: Sequence[type] = ()) -> Schema:
    """A subgraph schema merged from its feature modules: each may define `Query`, `Mutation` and `HANDLERS`
    (its domain errors' union members). Adding a feature to a service is adding its module to the list."""

    def merged(name: str) -> type | None:
        parts = tuple(getattr(feature, name) for feature in features if hasattr(feature, name))
        if not parts:
            return None
        root = merge_types(name, parts)
        get_object_definition(root, strict=True).description = ROOT_DESCRIPTIONS[name]
        return root

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
