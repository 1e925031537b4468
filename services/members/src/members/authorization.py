"""Who may use which members field or mutation, on which members: the one table of the service's rules.

Each rule maps a kind of caller to the members it reaches:

- a guide (导购) or store manager (店长): members whose home store is in the token's `stores`;
- a supervisor (督导): members of the stores in the token's `regions` (stores are mapped to regions from the
  organisation tables, once per request through a loader);
- operations (the `ops` role, or staff with the `operations` role) and services: every member;
- a partner: members of its allowed stores (the token's `stores`), or every member when it has none;
- a member: themself.

Orders are scoped by the store that sold them (`orders.store_code`), not by the buyer's home store: `order(id)`,
`orders(...)`, `recordOrder(s)` and `recordRefund` (rules with `by_store`) reach the orders of the caller's
stores (a supervisor: of their regions' stores; a partner: of its allowed stores). An order is a fact of the store's
books: its till records it, its counter refunds it, and it never moves when the member changes home store (many
members have none). A member's own history, `Member.orders` and `Member.orderStats`, is a Member field and follows
the member (their home store), like every other Member field: staff who serve a member see all their purchases.
`recordBehaviour` is about members: a partner with allowed stores records behaviour of members of those stores
only (a member out of reach is answered as unknown, like a member that does not exist).

A staff token without staff roles (or with roles the rule does not name) reaches nobody. Partners and services
must also hold the rule's scope in their token. A member without a home store is reached only by callers that
reach every member, and by themself. The permission classes in `members.access` read this table; the
end-to-end matrix test (tests/e2e/test_access_matrix.py) is generated from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from members.organisation.models import StaffRole
from members.scopes import Scope
from yutang_shared.auth import Principal, Role


class Caller(StrEnum):
    """A kind of caller the rules distinguish: a token role, or for staff one of their staff roles."""

    MEMBER = "member"
    GUIDE = StaffRole.GUIDE.value
    STORE_MANAGER = StaffRole.STORE_MANAGER.value
    SUPERVISOR = StaffRole.SUPERVISOR.value
    OPERATIONS = StaffRole.OPERATIONS.value
    CONTENT_EDITOR = StaffRole.CONTENT_EDITOR.value
    OPS = "ops"
    PARTNER = "partner"
    SERVICE = "service"


class Reach(StrEnum):
    """Which members a caller reaches under a rule."""

    SELF = "self"  # the member themself
    OWN_STORES = "own_stores"  # home store in the token's stores
    REGION_STORES = "region_stores"  # home store in a region of the token's regions
    ALLOWED_STORES = "allowed_stores"  # home store in the token's stores; every member when it names none
    ALL = "all"  # every member


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may use a field or mutation and on which members; `scope` is what partners and services must hold."""

    reach: Mapping[Caller, Reach]
    scope: Scope | None = None
    # Mutations are audited, refusals included.
    mutation: bool = False
    # Whether the target is a member (scoped at the field) or not: brand-wide (organisation, audit log: reach is
    # only ALL), or lists and counts the resolver filters in SQL to the caller's reach (lifecycle, audiences, tags).
    about_member: bool = True
    # Scoped by a store the field names rather than by a member's home store: the store that sold an order, or
    # the store a member registers at (a caller limited to stores must name one of theirs).
    by_store: bool = False


C, R = Caller, Reach
_STAFF_READ = {C.GUIDE: R.OWN_STORES, C.STORE_MANAGER: R.OWN_STORES, C.SUPERVISOR: R.REGION_STORES}
_EVERYONE = {C.OPERATIONS: R.ALL, C.OPS: R.ALL}
READ = Rule(
    {C.MEMBER: R.SELF, **_STAFF_READ, **_EVERYONE, C.PARTNER: R.ALLOWED_STORES, C.SERVICE: R.ALL}, Scope.MEMBERS_READ
)
# Lists and lookups: members read themselves through `me` and `member(id)`, never a list.
LOOKUP = Rule({**_STAFF_READ, **_EVERYONE, C.PARTNER: R.ALLOWED_STORES, C.SERVICE: R.ALL}, Scope.MEMBERS_READ)
# The full mobile: personal-data rights. Store managers and guides see it masked: they reach members through
# WeCom and the staff app, which never needs the number in clear.
FULL_MOBILE = Rule({C.MEMBER: R.SELF, **_EVERYONE, C.SERVICE: R.ALL}, Scope.MEMBERS_READ)
WRITE_PROFILE = Rule(
    {C.MEMBER: R.SELF, **_STAFF_READ, **_EVERYONE, C.PARTNER: R.ALLOWED_STORES, C.SERVICE: R.ALL},
    Scope.MEMBERS_WRITE,
    mutation=True,
)
MANAGE = Rule(
    {C.STORE_MANAGER: R.OWN_STORES, C.SUPERVISOR: R.REGION_STORES, **_EVERYONE, C.SERVICE: R.ALL},
    Scope.MEMBERS_WRITE,
    mutation=True,
)
CLOSE = Rule({C.MEMBER: R.SELF, **_EVERYONE, C.SERVICE: R.ALL}, Scope.MEMBERS_WRITE, mutation=True)
# Orders: the stores' books, scoped by the store that sold the order (staff record till orders and counter refunds).
_ORDER_REACH = {**_STAFF_READ, **_EVERYONE, C.PARTNER: R.ALLOWED_STORES, C.SERVICE: R.ALL}
ORDERS_READ = Rule(_ORDER_REACH, Scope.ORDERS_READ, by_store=True)
ORDERS_WRITE = Rule(_ORDER_REACH, Scope.ORDERS_WRITE, mutation=True, by_store=True)
# A member's purchase history and statistics: a Member field, scoped by the member like the others.
MEMBER_ORDERS = Rule(
    {C.MEMBER: R.SELF, **_STAFF_READ, **_EVERYONE, C.PARTNER: R.ALLOWED_STORES, C.SERVICE: R.ALL}, Scope.ORDERS_READ
)
# Registering: the registration store (and home store) must be one the caller reaches; callers limited to some
# stores must name one (a member they register without a store would be out of their reach at once).
REGISTER = Rule(
    {**_STAFF_READ, **_EVERYONE, C.PARTNER: R.ALLOWED_STORES, C.SERVICE: R.ALL},
    Scope.MEMBERS_WRITE,
    mutation=True,
    by_store=True,
)
# Behaviour comes from systems (mini-program, official account, partners), never from staff.
BEHAVIOUR_WRITE = Rule(
    {C.OPS: R.ALL, C.PARTNER: R.ALLOWED_STORES, C.SERVICE: R.ALL}, Scope.BEHAVIOUR_WRITE, mutation=True
)
ORGANISATION_READ = Rule(
    {
        C.GUIDE: R.ALL,
        C.STORE_MANAGER: R.ALL,
        C.SUPERVISOR: R.ALL,
        C.CONTENT_EDITOR: R.ALL,
        **_EVERYONE,
        C.SERVICE: R.ALL,
    },
    Scope.MEMBERS_READ,
    about_member=False,
)
ORGANISATION_WRITE = Rule(_EVERYONE, mutation=True, about_member=False)
AUDIT_READ = Rule(_EVERYONE, about_member=False)
# Member intelligence: staff read the lifecycle of their stores' members and work with audiences and tags of
# members they reach (lists and counts are filtered in SQL to the caller's reach); the refresh is the flows'.
_STAFF_AND_OPS = {**_STAFF_READ, **_EVERYONE}
INSIGHTS_READ = Rule({**_STAFF_AND_OPS, C.SERVICE: R.ALL}, Scope.MEMBERS_READ, about_member=False)
INSIGHTS_REFRESH = Rule({**_EVERYONE, C.SERVICE: R.ALL}, Scope.INSIGHTS_WRITE, mutation=True, about_member=False)
AUDIENCES_READ = Rule({**_STAFF_AND_OPS, C.SERVICE: R.ALL}, Scope.AUDIENCES_READ, about_member=False)
AUDIENCES_WRITE = Rule({**_STAFF_AND_OPS, C.SERVICE: R.ALL}, Scope.AUDIENCES_WRITE, mutation=True, about_member=False)
TAGS_READ = Rule({**_STAFF_AND_OPS, C.SERVICE: R.ALL}, Scope.MEMBERS_READ, about_member=False)
TAGS_TAXONOMY = Rule({**_EVERYONE, C.SERVICE: R.ALL}, Scope.TAGS_WRITE, mutation=True, about_member=False)
TAGS_APPLY = Rule({**_STAFF_AND_OPS, C.SERVICE: R.ALL}, Scope.TAGS_WRITE, mutation=True, about_member=False)

RULES: dict[str, Rule] = {
    # reads of members
    "Query.me": Rule({C.MEMBER: R.SELF}),
    "Query.member": READ,
    "Query.members": LOOKUP,
    "Query.memberByMobile": LOOKUP,
    "Query.memberByWechat": LOOKUP,
    "Member.fields": READ,  # every Member field but id and the full mobile
    "Member.mobile.full": FULL_MOBILE,
    # writes of members
    "Mutation.registerMember": REGISTER,
    "Mutation.updateMemberProfile": WRITE_PROFILE,
    "Mutation.setMarketingConsent": WRITE_PROFILE,
    "Mutation.assignGuide": MANAGE,
    "Mutation.freezeMember": MANAGE,
    "Mutation.unfreezeMember": MANAGE,
    "Mutation.closeMember": CLOSE,
    "Mutation.changeMyMobile": Rule({C.MEMBER: R.SELF}, mutation=True),  # the token's member, never another
    # orders, refunds and behaviour
    "Member.orders": MEMBER_ORDERS,
    "Member.orderStats": MEMBER_ORDERS,
    "Query.order": ORDERS_READ,
    "Query.orders": ORDERS_READ,
    "Mutation.recordOrder": ORDERS_WRITE,
    "Mutation.recordOrders": ORDERS_WRITE,
    "Mutation.recordRefund": ORDERS_WRITE,
    "Mutation.recordBehaviour": BEHAVIOUR_WRITE,
    # the organisation
    "Query.regions": ORGANISATION_READ,
    "Query.stores": ORGANISATION_READ,
    "Query.warehouses": ORGANISATION_READ,
    "Query.staff": ORGANISATION_READ,
    **{
        f"Mutation.{name}": ORGANISATION_WRITE
        for name in (
            "createRegion",
            "updateRegion",
            "deactivateRegion",
            "createStore",
            "updateStore",
            "deactivateStore",
            "createWarehouse",
            "updateWarehouse",
            "deactivateWarehouse",
            "createStaff",
            "updateStaff",
            "deactivateStaff",
            "handOverMembers",
        )
    },
    # the audit log, and the handover records (离职继承)
    "Query.auditLog": AUDIT_READ,
    "Query.memberHandovers": AUDIT_READ,
    # member intelligence: insights, lifecycle, audiences, tags
    "Member.insights": READ,
    "Query.lifecycleSummary": INSIGHTS_READ,
    "Mutation.refreshInsights": INSIGHTS_REFRESH,
    "Query.previewAudience": AUDIENCES_READ,
    "Query.audience": AUDIENCES_READ,
    "Query.audiences": AUDIENCES_READ,
    "Audience.size": AUDIENCES_READ,
    "Audience.members": AUDIENCES_READ,
    "Mutation.saveAudience": AUDIENCES_WRITE,
    "Mutation.materializeAudience": AUDIENCES_WRITE,
    "Mutation.exportAudience": AUDIENCES_WRITE,
    "Member.tags": READ,
    "Query.tagTaxonomy": TAGS_READ,
    "Query.tagRulePreview": TAGS_READ,
    "Query.taggingJobs": TAGS_READ,
    "Mutation.createTagCategory": TAGS_TAXONOMY,
    "Mutation.createTagGroup": TAGS_TAXONOMY,
    "Mutation.createTag": TAGS_TAXONOMY,
    "Mutation.updateTag": TAGS_TAXONOMY,
    "Mutation.retireTag": TAGS_TAXONOMY,
    "Mutation.mergeTags": TAGS_TAXONOMY,
    "Mutation.applyTag": TAGS_APPLY,
    "Mutation.removeTag": TAGS_APPLY,
    "Mutation.applyTagToAudience": TAGS_APPLY,
    "Mutation.applyAutomaticTags": INSIGHTS_REFRESH,
}


@dataclass(frozen=True, slots=True)
class MemberScope:
    """The members a caller reaches under one rule: everyone, themself, and members of some stores or regions."""

    everyone: bool = False
    member_id: str | None = None
    stores: frozenset[str] = field(default_factory=frozenset)
    regions: frozenset[str] = field(default_factory=frozenset)


def callers(principal: Principal) -> frozenset[Caller]:
    """The kinds of caller a principal is: its role, or for staff each staff role it holds (unknown ones ignored)."""
    if principal.role is Role.STAFF:
        return frozenset(Caller(role) for role in principal.staff_roles if role in StaffRole._value2member_map_)
    return frozenset({Caller(principal.role.value)})


def scope_under(rule: Rule, principal: Principal) -> MemberScope | None:
    """The members `principal` reaches under `rule`, or None when the rule does not grant them the field at all."""
    system = principal.role in (Role.PARTNER, Role.SERVICE)
    if rule.scope is not None and system and not principal.holds(rule.scope.value):
        return None
    reaches = {rule.reach[caller] for caller in callers(principal) if caller in rule.reach}
    if not reaches:
        return None
    everyone = Reach.ALL in reaches or (Reach.ALLOWED_STORES in reaches and not principal.stores)
    stores = principal.stores if reaches & {Reach.OWN_STORES, Reach.ALLOWED_STORES} else frozenset()
    return MemberScope(
        everyone=everyone,
        member_id=principal.subject if Reach.SELF in reaches else None,
        stores=stores,
        regions=principal.regions if Reach.REGION_STORES in reaches else frozenset(),
    )
