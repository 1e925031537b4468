"""The whole authorisation matrix of the members service, generated from members.authorization.RULES and checked
through the real gateway: every rule × every kind of caller × every store scope of the target member (or, for the
rules about orders, of the store the target order was sold in).

The expected outcome is computed here from the table's reach (an oracle independent of members.access); the
actual one is what the gateway answers: FORBIDDEN or not, the member listed or not, the mobile full or masked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from members.authorization import RULES, Caller, Reach, Rule
from tests.e2e.factories import REGION_OF, make_member_at, make_organisation
from tests.stack import Stack
from tests.support import Tokens
from yutang_shared.auth import Role

# The target members: where their home store is, seen from the callers below (stores S1, region R1).
TARGETS = {"own store": "S1", "same region": "S2", "other region": "S3", "no home store": None}
MOBILES = {
    "own store": "13800000001",
    "same region": "13800000002",
    "other region": "13800000003",
    "no home store": "13800000004",
}
SELF = "own store"  # the member caller is this target
# Rules scoped by the order's store: the target is an order sold in that target's store (every order has one).
ORDER_TARGETS = {name: store for name, store in TARGETS.items() if store is not None}


@dataclass(frozen=True)
class CallerCase:
    """A kind of caller and its token's claims."""

    name: str
    role: Role
    kinds: frozenset[Caller]
    scopes: frozenset[str] = frozenset()
    stores: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    staff_roles: tuple[str, ...] = field(default=())

    def token(self, tokens: Tokens, member_id: str) -> str:
        if self.role is Role.MEMBER:
            return tokens.member(member_id)
        if self.role is Role.OPS:
            return tokens.ops()
        if self.role is Role.STAFF:
            return tokens.staff_in(*self.staff_roles, stores=self.stores, regions=self.regions)
        if self.role is Role.PARTNER:
            return tokens.partner_for(*self.scopes, stores=self.stores)
        return tokens.service(*self.scopes)


RW = frozenset({"members:read", "members:write", "orders:read", "orders:write", "behaviour:write"})
C = Caller
CALLERS = [
    CallerCase("member", Role.MEMBER, frozenset({C.MEMBER})),
    CallerCase("guide S1", Role.STAFF, frozenset({C.GUIDE}), stores=("S1",), staff_roles=("guide",)),
    CallerCase("manager S1", Role.STAFF, frozenset({C.STORE_MANAGER}), stores=("S1",), staff_roles=("store_manager",)),
    CallerCase("supervisor R1", Role.STAFF, frozenset({C.SUPERVISOR}), regions=("R1",), staff_roles=("supervisor",)),
    CallerCase("operations", Role.STAFF, frozenset({C.OPERATIONS}), staff_roles=("operations",)),
    CallerCase("content editor", Role.STAFF, frozenset({C.CONTENT_EDITOR}), staff_roles=("content_editor",)),
    CallerCase("staff without roles", Role.STAFF, frozenset(), stores=("S1",)),
    CallerCase("ops", Role.OPS, frozenset({C.OPS})),
    CallerCase("partner S1", Role.PARTNER, frozenset({C.PARTNER}), scopes=RW, stores=("S1",)),
    CallerCase("partner all stores", Role.PARTNER, frozenset({C.PARTNER}), scopes=RW),
    CallerCase("partner no scope", Role.PARTNER, frozenset({C.PARTNER}), stores=("S1",)),
    CallerCase("service", Role.SERVICE, frozenset({C.SERVICE}), scopes=RW),
    CallerCase("service no scope", Role.SERVICE, frozenset({C.SERVICE})),
]


def expected(rule: Rule, caller: CallerCase, target: str | None) -> bool:
    """The table's answer: may `caller` use the rule's field on the `target` member (None: no member)?"""
    if rule.scope is not None and caller.role in (Role.PARTNER, Role.SERVICE) and rule.scope.value not in caller.scopes:
        return False
    reaches = {rule.reach[kind] for kind in caller.kinds if kind in rule.reach}
    if not reaches or not rule.about_member or target is None:
        return bool(reaches)
    store = TARGETS[target]
    return any(
        reach is Reach.ALL
        or (reach is Reach.SELF and target == SELF and caller.role is Role.MEMBER)
        or (reach is Reach.OWN_STORES and store in caller.stores)
        or (reach is Reach.REGION_STORES and store is not None and REGION_OF[store] in caller.regions)
        or (reach is Reach.ALLOWED_STORES and (not caller.stores or store in caller.stores))
        for reach in reaches
    )


# ------------------------------------------------------------------------------------ how to exercise a rule

MEMBER_READS: dict[str, tuple[str, str]] = {
    "Query.member": ("query($id: UUID!) { member(id: $id) { id } }", "member"),
    "Member.fields": ("query($id: UUID!) { member(id: $id) { id nickname status homeStoreCode city } }", "member"),
    "Query.memberByMobile": ("query($mobile: String!) { memberByMobile(mobile: $mobile) { id } }", "memberByMobile"),
    "Query.memberByWechat": ("query($unionid: String!) { memberByWechat(unionid: $unionid) { id } }", "memberByWechat"),
}
MEMBER_MUTATIONS = {
    "Mutation.updateMemberProfile": "mutation($id: UUID!) { "
    'x: updateMemberProfile(input: {memberId: $id, city: "杭州"}) '
    "{ __typename } }",
    "Mutation.setMarketingConsent": "mutation($id: UUID!) { x: setMarketingConsent(memberId: $id, given: true, "
    "channel: STORE) { __typename } }",
    "Mutation.assignGuide": "mutation($id: UUID!) { x: assignGuide(memberId: $id, guideId: null) { __typename } }",
    "Mutation.freezeMember": "mutation($id: UUID!) { x: freezeMember(memberId: $id) { __typename } }",
    "Mutation.unfreezeMember": "mutation($id: UUID!) { x: unfreezeMember(memberId: $id) { __typename } }",
    "Mutation.closeMember": "mutation($id: UUID!) { x: closeMember(memberId: $id) { __typename } }",
}
NOWHERE = str(uuid.uuid4())
BRAND_WIDE = {
    "Query.regions": "{ x: regions { totalCount } }",
    "Query.stores": "{ x: stores { totalCount } }",
    "Query.warehouses": "{ x: warehouses { totalCount } }",
    "Query.staff": "{ x: staff { totalCount } }",
    "Query.auditLog": "{ x: auditLog(first: 1) { totalCount } }",
    "Query.memberHandovers": "{ x: memberHandovers(first: 1) { totalCount } }",
    "Mutation.createRegion": 'mutation { x: createRegion(input: {code: "!", name: "n"}) { __typename } }',
    "Mutation.updateRegion": f'mutation {{ x: updateRegion(input: {{id: "{NOWHERE}"}}) {{ __typename }} }}',
    "Mutation.deactivateRegion": f'mutation {{ x: deactivateRegion(id: "{NOWHERE}") {{ __typename }} }}',
    "Mutation.createStore": 'mutation { x: createStore(input: {code: "!", name: "n", regionCode: "R1"}) '
    "{ __typename } }",
    "Mutation.updateStore": f'mutation {{ x: updateStore(input: {{id: "{NOWHERE}"}}) {{ __typename }} }}',
    "Mutation.deactivateStore": f'mutation {{ x: deactivateStore(id: "{NOWHERE}") {{ __typename }} }}',
    "Mutation.createWarehouse": 'mutation { x: createWarehouse(input: {code: "!", name: "n"}) { __typename } }',
    "Mutation.updateWarehouse": f'mutation {{ x: updateWarehouse(input: {{id: "{NOWHERE}"}}) {{ __typename }} }}',
    "Mutation.deactivateWarehouse": f'mutation {{ x: deactivateWarehouse(id: "{NOWHERE}") {{ __typename }} }}',
    "Mutation.createStaff": 'mutation { x: createStaff(input: {name: "n", wecomUserid: "w", roles: []}) '
    "{ __typename } }",
    "Mutation.updateStaff": f'mutation {{ x: updateStaff(input: {{id: "{NOWHERE}"}}) {{ __typename }} }}',
    "Mutation.deactivateStaff": f'mutation {{ x: deactivateStaff(id: "{NOWHERE}") {{ __typename }} }}',
    "Mutation.handOverMembers": f'mutation {{ x: handOverMembers(fromStaffId: "{NOWHERE}", '
    f'toStaffId: "{uuid.uuid4()}") {{ __typename }} }}',
}
MEMBER_READS |= {
    "Member.orders": ("query($id: UUID!) { member(id: $id) { id orders(first: 1) { totalCount } } }", "member"),
    "Member.orderStats": ("query($id: UUID!) { member(id: $id) { id orderStats { orderCount } } }", "member"),
}
MEMBER_READS |= {
    "Member.insights": ("query($id: UUID!) { member(id: $id) { id insights { asOf } } }", "member"),
    "Member.tags": ("query($id: UUID!) { member(id: $id) { id tags { name } } }", "member"),
}
_SAVE = (
    'mutation {{ x: saveAudience(input: {{name: "m", rule: {{condition: "wechat_fan", value: true}}}}) '
    "{{ ... on SaveAudienceSuccess {{ audience {{ {} }} }} }} }}"
)
_OTHER = str(uuid.uuid4())
BRAND_WIDE |= {
    "Query.lifecycleSummary": "{ x: lifecycleSummary { asOf stages { count } } }",
    "Query.previewAudience": '{ x: previewAudience(rule: {condition: "wechat_fan", value: true}) { __typename } }',
    # audience(id) is null for an unknown id: its sibling previewAudience (the same reach) gives the non-null x
    "Query.audience": f'{{ x: previewAudience(rule: {{all: []}}) {{ __typename }} a: audience(id: "{NOWHERE}") '
    "{ id } }",
    "Query.audiences": "{ x: audiences { id } }",
    "Audience.size": _SAVE.format("size"),
    "Audience.members": _SAVE.format("members(first: 1) { totalCount }"),
    "Mutation.saveAudience": _SAVE.format("id"),
    "Mutation.materializeAudience": f'mutation {{ x: materializeAudience(id: "{NOWHERE}", key: "k") '
    "{ __typename } }",
    "Mutation.exportAudience": f'mutation {{ x: exportAudience(id: "{NOWHERE}") {{ __typename }} }}',
    "Mutation.refreshInsights": 'mutation { x: refreshInsights(asOf: "2026-01-01", shard: 5, shards: 1) '
    "{ __typename } }",
    "Mutation.applyAutomaticTags": 'mutation { x: applyAutomaticTags(asOf: "2999-01-01") { __typename } }',
    "Query.tagTaxonomy": "{ x: tagTaxonomy { id } }",
    "Query.tagRulePreview": f'{{ x: tagRulePreview(tagId: "{NOWHERE}") {{ __typename }} }}',
    "Query.taggingJobs": f'{{ x: taggingJobs(tagId: "{NOWHERE}") {{ id }} }}',
    "Mutation.createTagCategory": 'mutation { x: createTagCategory(name: " ") { __typename } }',
    "Mutation.createTagGroup": f'mutation {{ x: createTagGroup(categoryId: "{NOWHERE}", name: "g") {{ __typename }} }}',
    "Mutation.createTag": f'mutation {{ x: createTag(groupId: "{NOWHERE}", name: "t") {{ __typename }} }}',
    "Mutation.updateTag": f'mutation {{ x: updateTag(id: "{NOWHERE}") {{ __typename }} }}',
    "Mutation.retireTag": f'mutation {{ x: retireTag(id: "{NOWHERE}") {{ __typename }} }}',
    "Mutation.mergeTags": f'mutation {{ x: mergeTags(sourceId: "{NOWHERE}", targetId: "{_OTHER}") {{ __typename }} }}',
    "Mutation.applyTag": f'mutation {{ x: applyTag(id: "{NOWHERE}", memberIds: ["{NOWHERE}"]) {{ __typename }} }}',
    "Mutation.removeTag": f'mutation {{ x: removeTag(id: "{NOWHERE}", memberIds: ["{NOWHERE}"]) {{ __typename }} }}',
    "Mutation.applyTagToAudience": f'mutation {{ x: applyTagToAudience(id: "{NOWHERE}", audienceId: "{_OTHER}") '
    "{ __typename } }",
}
ORDER_LINES = '[{sku: "A", category: "tea", quantity: 1, unitPriceFen: 1200}]'
ORDER_INPUT = (
    "{externalId: $x, memberId: $member, storeCode: $store, channel: IN_STORE, paidFen: 1200, occurredAt: $at, "
    f"lines: {ORDER_LINES}}}"
)
ORDER_ARGS = "$x: String!, $member: UUID!, $store: String!, $at: DateTime!"
ORDER_MUTATIONS = {
    "Mutation.recordOrder": f"mutation({ORDER_ARGS}) {{ x: recordOrder(input: {ORDER_INPUT}) {{ __typename }} }}",
    "Mutation.recordOrders": f"mutation({ORDER_ARGS}) {{ x: recordOrders(inputs: [{ORDER_INPUT}]) {{ __typename }} }}",
    "Mutation.recordRefund": "mutation($x: String!, $order: UUID!, $at: DateTime!) { x: recordRefund(input: "
    "{refundId: $x, orderId: $order, occurredAt: $at, amountFen: 1}) { __typename } }",
}
REGISTER = (
    "mutation($mobile: String!, $store: String) { x: registerMember(input: {mobile: $mobile, sourceChannel: STORE_QR, "
    "storeCode: $store}) { __typename } }"
)
ORDER = "query($order: UUID!) { x: order(id: $order) { id } }"
ORDER_LIST = "{ orders(first: 100) { edges { node { id } } } }"
BEHAVIOUR = (
    "mutation($x: String!, $id: UUID!, $at: DateTime!) { x: recordBehaviour(events: "
    "[{eventId: $x, kind: VISIT, memberId: $id, occurredAt: $at}]) { __typename } }"
)
LIST = "{ members(first: 100) { edges { node { id } } } }"
MOBILE = "query($id: UUID!) { member(id: $id) { mobile } }"
ME = "{ me { id } }"
CHANGE_MOBILE = 'mutation { x: changeMyMobile(phoneCode: "never-issued") { __typename } }'


def test_every_rule_of_the_table_is_exercised() -> None:
    covered = {*MEMBER_READS, *MEMBER_MUTATIONS, *BRAND_WIDE, "Query.members", "Member.mobile.full", "Query.me"}
    covered |= {"Mutation.changeMyMobile"}
    covered |= {*ORDER_MUTATIONS, "Query.order", "Query.orders", "Mutation.recordBehaviour", "Mutation.registerMember"}
    assert covered == set(RULES)


def forbidden(result: dict[str, Any]) -> bool:
    codes = [e.get("extensions", {}).get("code") for e in result.get("errors", [])]
    assert set(codes) <= {"FORBIDDEN"}, result
    return "FORBIDDEN" in codes


@pytest.fixture
async def members(stack: Stack, ops: str, engine: AsyncEngine) -> dict[str, str]:
    """The four target members (by situation), each with a WeChat unionid named after its mobile."""
    make_organisation(stack, ops)
    ids = {name: make_member_at(stack, ops, MOBILES[name], store) for name, store in TARGETS.items()}
    async with engine.begin() as connection:
        for name, member_id in ids.items():
            await connection.execute(
                text("UPDATE members.members SET wechat_unionid = :u WHERE id = :id"),
                {"u": f"u-{MOBILES[name]}", "id": member_id},
            )
    return ids


def cells(rule_name: str) -> list[tuple[CallerCase, str | None]]:
    rule = RULES[rule_name]
    # A registration may name no store (the fourth target); every order has one.
    by_order = rule.by_store and rule_name != "Mutation.registerMember"
    targets = ORDER_TARGETS if by_order else TARGETS if rule.about_member else [None]
    return [(caller, target) for caller in CALLERS for target in targets]


def _at() -> str:
    return datetime.now(UTC).isoformat()


@pytest.fixture
def orders(stack: Stack, ops: str, members: dict[str, str]) -> dict[str, str]:
    """One order (1200 fen, bought by the SELF member) in each target's store, recorded by ops."""
    found = {}
    for target, store in ORDER_TARGETS.items():
        variables = {"x": f"M-{uuid.uuid4().hex}", "member": members[SELF], "store": store, "at": _at()}
        document = ORDER_MUTATIONS["Mutation.recordOrder"].replace(
            "__typename", "... on RecordOrderSuccess { order { id } }"
        )
        body = stack.query(document, variables, token=ops).json()
        found[target] = body["data"]["x"]["order"]["id"]
    return found


def check(rule_name: str, outcome: dict[tuple[str, str | None], bool]) -> None:
    want = {(caller.name, target): expected(RULES[rule_name], caller, target) for caller, target in cells(rule_name)}
    wrong = {cell: (want[cell], outcome[cell]) for cell in want if want[cell] != outcome[cell]}
    assert not wrong, f"{rule_name}: (expected, actual) differ: {wrong}"
    assert any(want.values()), f"{rule_name}: the matrix must allow someone"
    assert not all(want.values()), f"{rule_name}: the matrix must deny someone"


@pytest.mark.parametrize("rule_name", sorted(MEMBER_READS))
def test_member_reads(stack: Stack, tokens: Tokens, members: dict[str, str], rule_name: str) -> None:
    document, field_name = MEMBER_READS[rule_name]
    outcome = {}
    for caller, target in cells(rule_name):
        assert target is not None
        variables = {"id": members[target], "mobile": MOBILES[target], "unionid": f"u-{MOBILES[target]}"}
        used = {k: v for k, v in variables.items() if f"${k}" in document}
        result = stack.query(document, used, token=caller.token(tokens, members[SELF])).json()
        denied = forbidden(result)
        assert denied or result["data"][field_name]["id"] == members[target]
        outcome[(caller.name, target)] = not denied
    check(rule_name, outcome)


def test_members_list(stack: Stack, tokens: Tokens, members: dict[str, str]) -> None:
    outcome = {}
    for caller in CALLERS:
        result = stack.query(LIST, token=caller.token(tokens, members[SELF])).json()
        listed = set() if forbidden(result) else {e["node"]["id"] for e in result["data"]["members"]["edges"]}
        for target in TARGETS:
            outcome[(caller.name, target)] = members[target] in listed
    check("Query.members", outcome)


def test_me(stack: Stack, tokens: Tokens, members: dict[str, str]) -> None:
    outcome = {}
    for caller in CALLERS:
        result = stack.query(ME, token=caller.token(tokens, members[SELF])).json()
        found = None if forbidden(result) else result["data"]["me"]
        me = None if found is None else found["id"]  # null: the token is not a member's
        for target in TARGETS:  # `me` is always the caller: it reaches the SELF target only
            outcome[(caller.name, target)] = me == members[target]
    check("Query.me", outcome)


def test_change_my_mobile(stack: Stack, tokens: Tokens, members: dict[str, str]) -> None:
    outcome = {}
    for caller in CALLERS:
        body = stack.query(CHANGE_MOBILE, token=caller.token(tokens, members[SELF])).json()
        # The code was never issued: a member gets WeChat's typed refusal (or WechatUnavailableError on a stack
        # without a WeChat app), everyone else FORBIDDEN before WeChat is asked.
        answered = None if forbidden(body) else body["data"]["x"]["__typename"]
        assert answered in (None, "WechatCodeError", "WechatUnavailableError"), body
        for target in TARGETS:  # always the caller's own mobile: it reaches the SELF target only
            outcome[(caller.name, target)] = answered is not None and target == SELF
    check("Mutation.changeMyMobile", outcome)


def test_full_mobile(stack: Stack, tokens: Tokens, members: dict[str, str]) -> None:
    outcome = {}
    for caller, target in cells("Member.mobile.full"):
        assert target is not None
        result = stack.query(MOBILE, {"id": members[target]}, token=caller.token(tokens, members[SELF])).json()
        mobile = None if forbidden(result) else result["data"]["member"]["mobile"]
        assert mobile in (None, MOBILES[target], f"{MOBILES[target][:3]}****{MOBILES[target][-4:]}")
        outcome[(caller.name, target)] = mobile == MOBILES[target]
    check("Member.mobile.full", outcome)


@pytest.mark.parametrize("rule_name", sorted(MEMBER_MUTATIONS))
def test_member_mutations(stack: Stack, tokens: Tokens, members: dict[str, str], rule_name: str) -> None:
    outcome = {}
    for caller, target in cells(rule_name):
        assert target is not None
        result = stack.query(
            MEMBER_MUTATIONS[rule_name], {"id": members[target]}, token=caller.token(tokens, members[SELF])
        )
        body = result.json()
        outcome[(caller.name, target)] = not forbidden(body)
        if outcome[(caller.name, target)]:
            assert body["data"]["x"]["__typename"] in ("MemberSuccess", "MemberFrozenError", "MemberClosedError"), body
    check(rule_name, outcome)


@pytest.mark.parametrize("rule_name", sorted(ORDER_MUTATIONS))
def test_order_mutations(
    stack: Stack, tokens: Tokens, members: dict[str, str], orders: dict[str, str], rule_name: str
) -> None:
    outcome = {}
    for caller, target in cells(rule_name):
        assert target is not None
        variables = {
            "x": uuid.uuid4().hex,
            "member": members[SELF],
            "store": ORDER_TARGETS[target],
            "order": orders[target],
            "at": _at(),
        }
        document = ORDER_MUTATIONS[rule_name]
        used = {k: v for k, v in variables.items() if f"${k}" in document}
        body = stack.query(document, used, token=caller.token(tokens, members[SELF])).json()
        outcome[(caller.name, target)] = not forbidden(body)
        if outcome[(caller.name, target)]:
            answers = body["data"]["x"] if isinstance(body["data"]["x"], list) else [body["data"]["x"]]
            assert {a["__typename"] for a in answers} <= {"RecordOrderSuccess", "RecordRefundSuccess"}, body
    check(rule_name, outcome)


def test_order_by_id(stack: Stack, tokens: Tokens, members: dict[str, str], orders: dict[str, str]) -> None:
    outcome = {}
    for caller, target in cells("Query.order"):
        assert target is not None
        body = stack.query(ORDER, {"order": orders[target]}, token=caller.token(tokens, members[SELF])).json()
        denied = forbidden(body)
        assert denied or body["data"]["x"]["id"] == orders[target]
        outcome[(caller.name, target)] = not denied
    check("Query.order", outcome)


def test_orders_list(stack: Stack, tokens: Tokens, members: dict[str, str], orders: dict[str, str]) -> None:
    outcome = {}
    for caller in CALLERS:
        result = stack.query(ORDER_LIST, token=caller.token(tokens, members[SELF])).json()
        listed = set() if forbidden(result) else {e["node"]["id"] for e in result["data"]["orders"]["edges"]}
        for target in ORDER_TARGETS:
            outcome[(caller.name, target)] = orders[target] in listed
    check("Query.orders", outcome)


def test_register_member(stack: Stack, tokens: Tokens, members: dict[str, str]) -> None:
    """At a store of each target's situation, or at none (the target without a home store)."""
    outcome = {}
    for number, (caller, target) in enumerate(cells("Mutation.registerMember")):
        assert target is not None
        variables = {"mobile": f"1390000{number:04d}", "store": TARGETS[target]}
        body = stack.query(REGISTER, variables, token=caller.token(tokens, members[SELF])).json()
        outcome[(caller.name, target)] = not forbidden(body)
        if outcome[(caller.name, target)]:
            assert body["data"]["x"]["__typename"] == "RegisterMemberSuccess", body
    check("Mutation.registerMember", outcome)


def test_record_behaviour(stack: Stack, tokens: Tokens, members: dict[str, str]) -> None:
    """A member out of a partner's stores is answered as unknown (MEMBERS_UNKNOWN_MEMBER), not FORBIDDEN."""
    outcome = {}
    for caller, target in cells("Mutation.recordBehaviour"):
        assert target is not None
        variables = {"x": uuid.uuid4().hex, "id": members[target], "at": _at()}
        body = stack.query(BEHAVIOUR, variables, token=caller.token(tokens, members[SELF])).json()
        answered = None if forbidden(body) else body["data"]["x"][0]["__typename"]
        assert answered in (None, "RecordBehaviourSuccess", "UnknownMemberError"), body
        outcome[(caller.name, target)] = answered == "RecordBehaviourSuccess"
    check("Mutation.recordBehaviour", outcome)


@pytest.mark.parametrize("rule_name", sorted(BRAND_WIDE))
def test_brand_wide_fields(stack: Stack, tokens: Tokens, members: dict[str, str], rule_name: str) -> None:
    outcome = {}
    for caller, target in cells(rule_name):
        body = stack.query(BRAND_WIDE[rule_name], token=caller.token(tokens, members[SELF])).json()
        outcome[(caller.name, target)] = not forbidden(body)
        if outcome[(caller.name, target)]:
            assert body["data"]["x"] is not None, body
    check(rule_name, outcome)


def test_matrix_size() -> None:
    """Documents the matrix: every rule × 13 kinds of caller × 4 store scopes for rules about a member (3 for rules
    about orders: every order has a store)."""
    assert sum(len(cells(name)) for name in RULES) == 13 * 4 * 20 + 13 * 3 * 5 + 13 * 42
