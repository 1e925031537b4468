"""The scopes the members service defines, and what each role holds without its token listing them."""

from __future__ import annotations

from enum import StrEnum

from yutang_shared.access import Access
from yutang_shared.auth import Role


class Scope(StrEnum):
    """What a token may do in members; a field's description names the scope it needs."""

    MEMBERS_READ = "members:read"
    MEMBERS_WRITE = "members:write"
    ORDERS_READ = "orders:read"  # orders, refunds and members' order statistics
    ORDERS_WRITE = "orders:write"  # record orders and refunds (tills, shops, partner systems)
    BEHAVIOUR_WRITE = "behaviour:write"  # record behaviour events (mini-program, official account, partners)
    INSIGHTS_WRITE = "insights:write"  # refresh RFM, stages and automatic tags (the lifecycle-refresh flow)
    AUDIENCES_READ = "audiences:read"  # preview audiences, read saved ones and their members
    AUDIENCES_WRITE = "audiences:write"  # save, materialise and export audiences
    TAGS_WRITE = "tags:write"  # the tag taxonomy and tagging members


# Staff read their store's orders and record till orders and counter refunds; behaviour comes from systems.
STAFF = {Scope.MEMBERS_READ, Scope.MEMBERS_WRITE, Scope.ORDERS_READ, Scope.ORDERS_WRITE}
ACCESS = Access({Role.OPS: None, Role.STAFF: STAFF})
requires = ACCESS.requires
self_or = ACCESS.self_or
