"""Every mutation of the members subgraph and what its audit entries name as target type.

Each mutation records its success in the audit log in the same transaction as its change (outcome `ok`) and its
refusals in a transaction of their own (`FORBIDDEN` or the error code). Batches (`recordOrders`,
`recordBehaviour`) write one entry per item: the order or member and `ok`, or no target and the item's error code.
tests/members/audit/test_coverage.py fails when a mutation of the schema is missing here or lacks the audit of
its refusals.
"""

from __future__ import annotations

from collections.abc import Mapping

AUDITED_MUTATIONS: Mapping[str, str] = {
    # the member profile (members.profile.service._finish)
    "updateMemberProfile": "member",
    "assignGuide": "member",
    "setMarketingConsent": "member",
    "freezeMember": "member",
    "unfreezeMember": "member",
    "closeMember": "member",
    "changeMyMobile": "member",  # members.profile.service.change_mobile
    # registration (members.registration.service.register_member)
    "registerMember": "member",
    # orders, refunds and behaviour (members.orders.service): one entry per order or event
    "recordOrder": "order",
    "recordOrders": "order",
    "recordRefund": "order",
    "recordBehaviour": "member",
    # the organisation (members.organisation.service._done)
    "createRegion": "region",
    "updateRegion": "region",
    "deactivateRegion": "region",
    "createStore": "store",
    "updateStore": "store",
    "deactivateStore": "store",
    "createWarehouse": "warehouse",
    "updateWarehouse": "warehouse",
    "deactivateWarehouse": "warehouse",
    "createStaff": "staff",
    "updateStaff": "staff",
    "deactivateStaff": "staff",
    "handOverMembers": "staff",
    # OAuth clients (members.identity.clients): the client id, never the secret
    "registerClient": "client",
    "rotateClientSecret": "client",
    "revokeClient": "client",
    # member intelligence (members.insights, members.audiences, members.tags)
    "refreshInsights": "insights",
    "saveAudience": "audience",
    "materializeAudience": "audience",
    "exportAudience": "audience",
    "createTagCategory": "tag",
    "createTagGroup": "tag",
    "createTag": "tag",
    "updateTag": "tag",
    "retireTag": "tag",
    "mergeTags": "tag",
    "applyTag": "tag",
    "removeTag": "tag",
    "applyTagToAudience": "tag",
    "applyAutomaticTags": "tag",
}
