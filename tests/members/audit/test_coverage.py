"""Every mutation of the members schema is audited: it is in the registry of audited mutations, its refusals are
recorded (a permission class that audits FORBIDDEN, and AuditRefusals for typed errors), and the registry names
no mutation the schema lacks. A new mutation fails here until its audit is written and registered."""

from typing import Any

import pytest

from members.access import AuditRefusals, Authorized
from members.audit.registry import AUDITED_MUTATIONS
from members.authorization import RULES
from members.identity.graphql import OpsOnly
from members.schema import schema

MUTATIONS = sorted(schema._schema.mutation_type.fields) if schema._schema.mutation_type else []


def definition(name: str) -> Any:
    assert schema._schema.mutation_type is not None
    return schema._schema.mutation_type.fields[name].extensions["strawberry-definition"]


def test_the_registry_names_exactly_the_schema_mutations() -> None:
    assert MUTATIONS, "the members schema has mutations"
    assert set(MUTATIONS) - set(AUDITED_MUTATIONS) == set(), "mutations without audit coverage"
    assert set(AUDITED_MUTATIONS) - set(MUTATIONS) == set(), "registered mutations the schema no longer has"


@pytest.mark.parametrize("name", MUTATIONS)
def test_each_mutation_audits_its_refusals(name: str) -> None:
    field = definition(name)

    assert any(isinstance(extension, AuditRefusals) for extension in field.extensions), name
    guards = set(field.permission_classes)
    assert guards & {Authorized, OpsOnly}, f"{name} has no auditing permission class"
    if Authorized in guards:
        assert RULES[f"Mutation.{name}"].mutation, f"{name}'s rule does not mark it as an audited mutation"
