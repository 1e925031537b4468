"""Python enums exposed in a GraphQL schema as they are, with a description for the enum and every value."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

E = TypeVar("E", bound=type[Enum])


def graphql_enum(enum: E, description: str, values: Mapping[str, str]) -> E:
    """Register `enum` with strawberry (fields are then annotated with the enum itself) and describe each value;
    `values` maps every member's name to its description, and a missing one fails at import, not in review."""
    strawberry.enum(enum, description=description)
    definition: StrawberryEnumDefinition = enum.__strawberry_definition__  # type: ignore[attr-defined]
    missing = [value.name for value in definition.values if value.name not in values]
    if missing:
        raise ValueError(f"{enum.__name__}: describe {', '.join(missing)}")
    for value in definition.values:
        value.description = values[value.name]
    return enum
