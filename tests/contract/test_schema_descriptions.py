"""The client schema documents itself: every public type, field, argument and enum value has a description."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    build_ast_schema,
    parse,
)

SUPERGRAPH = Path(__file__).parents[2] / "gateway" / "supergraph.graphql"
INTERNAL = ("join__", "link__", "__", "_Service", "_Entity", "_Any", "FieldSet", "link", "inaccessible")
BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


def undescribed(sdl: str) -> list[str]:
    schema = build_ast_schema(parse(sdl), assume_valid=True, assume_valid_sdl=True)
    missing: list[str] = []
    for name, kind in schema.type_map.items():
        if name.startswith(INTERNAL) or name in BUILT_IN:
            continue
        if not kind.description:
            missing.append(f"type {name}")
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in kind.fields.items():
                if field_name.startswith("_"):
                    continue
                if not field.description:
                    missing.append(f"field {name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"argument {name}.{field_name}({arg_name})")
        if isinstance(kind, GraphQLEnumType):
            missing.extend(f"value {name}.{value}" for value, spec in kind.values.items() if not spec.description)
    return missing


def test_every_public_type_field_argument_and_enum_value_is_described() -> None:
    assert undescribed(SUPERGRAPH.read_text()) == []


def test_the_linter_finds_a_missing_description() -> None:
    sdl = '"""A thing."""\ntype Query {\n  """A field."""\n  thing(id: ID!): String\n}\n'

    assert undescribed(sdl) == ["argument Query.thing(id)"]
