"""Changing members over HTTP: profile fields, consent, freezing and closing (erasure), lookups by mobile and
WeChat id, events in the outbox; each refusal is a typed error that changes nothing."""

import uuid
from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from members.config import MembersSettings
from members.profile.service import link_wechat, member_login_state
from members.uow import MembersUnitOfWork
from tests.members.factories import make_member_in, make_store, register
from tests.support import SubgraphClient, Tokens
from yutang_shared.db import create_engine, session_factory

UPDATE = """
mutation($input: UpdateMemberProfileInput!) {
  updateMemberProfile(input: $input) {
    __typename
    ... on MemberSuccess { member { nickname gender birthday city occupation avatarUrl homeStoreCode } }
    ... on Error { message }
    ... on InvalidBirthdayError { code } ... on InvalidProfileError { code } ... on MemberFrozenError { code }
    ... on MemberClosedError { code } ... on StoreNotFoundError { code } ... on MemberNotFoundError { code }
  }
}
"""
STATUS = """
mutation($id: UUID!) {
  freeze: freezeMember(memberId: $id) { __typename }
}
"""
CLOSE = """
mutation($id: UUID!) {
  closeMember(memberId: $id) {
    __typename ... on MemberSuccess { member { id mobile nickname birthday status closedAt sourceChannel } }
    ... on MemberClosedError { code }
  }
}
"""
CONSENT = """
mutation($id: UUID!, $given: Boolean!) {
  setMarketingConsent(memberId: $id, given: $given, channel: MINI_PROGRAM) {
    __typename ... on MemberSuccess { member { marketingConsent marketingConsentChannel marketingConsentAt } }
  }
}
"""
ME = "{ me { id nickname mobile } }"
BY_MOBILE = "query($m: String!) { memberByMobile(mobile: $m) { id mobile } }"
BY_WECHAT = "query($u: String, $a: String, $o: String) { memberByWechat(unionid: $u, appId: $a, openid: $o) { id } }"
LIST = """
query($filter: MembersFilter) { members(filter: $filter) { totalCount edges { node { id } } } }
"""


def uow() -> tuple[MembersUnitOfWork, object]:
    engine = create_engine(MembersSettings().database_url, pool_size=0)
    return MembersUnitOfWork(session_factory(engine)), engine


async def test_a_member_edits_their_own_profile_but_not_their_home_store(
    members_api: SubgraphClient, tokens: Tokens
) -> None:
    await make_store(members_api, tokens.ops(), "S1")
    me = (await register(members_api, tokens.ops(), "13800138000"))["member"]["id"]
    changes = {"memberId": me, "nickname": "大鱼", "gender": "FEMALE", "birthday": "1990-05-01", "city": "上海"}

    edited = (await members_api(UPDATE, {"input": changes}, token=tokens.member(me)))["data"]["updateMemberProfile"]
    moving = await members_api(UPDATE, {"input": {"memberId": me, "homeStoreCode": "S1"}}, token=tokens.member(me))
    cleared = await members_api(UPDATE, {"input": {"memberId": me, "city": None}}, token=tokens.member(me))

    assert edited["member"] == {
        "nickname": "大鱼",
        "gender": "FEMALE",
        "birthday": "1990-05-01",
        "city": "上海",
        "occupation": None,
        "avatarUrl": None,
        "homeStoreCode": None,
    }
    assert moving["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert cleared["data"]["updateMemberProfile"]["member"]["city"] is None
    assert cleared["data"]["updateMemberProfile"]["member"]["nickname"] == "大鱼"


async def test_bad_profile_input_is_a_typed_error_and_changes_nothing(
    members_api: SubgraphClient, tokens: Tokens
) -> None:
    member_id = (await register(members_api, tokens.ops(), "13800138000"))["member"]["id"]
    tomorrow = (date.today() + timedelta(days=2)).isoformat()

    def update(**fields: object) -> object:
        return members_api(UPDATE, {"input": {"memberId": member_id, "city": "北京", **fields}}, token=tokens.ops())

    outcomes = [
        (await update(**fields))["data"]["updateMemberProfile"]  # type: ignore[index]
        for fields in (
            {"birthday": tomorrow},
            {"birthday": "1899-12-31"},
            {"avatarUrl": "javascript:alert(1)"},
            {"occupation": "x" * 65},
            {"homeStoreCode": "S404"},
            {"memberId": str(uuid.uuid4())},
        )
    ]
    read = await members_api("query($id: UUID!) { member(id: $id) { city } }", {"id": member_id}, token=tokens.ops())

    assert [o["code"] for o in outcomes] == [
        "MEMBERS_INVALID_BIRTHDAY",
        "MEMBERS_INVALID_BIRTHDAY",
        "MEMBERS_INVALID_PROFILE",
        "MEMBERS_INVALID_PROFILE",
        "MEMBERS_UNKNOWN_STORE",
        "MEMBERS_UNKNOWN_MEMBER",
    ]
    assert read["data"]["member"]["city"] is None


async def test_a_frozen_member_cannot_be_edited_or_log_in(members_api: SubgraphClient, tokens: Tokens) -> None:
    member_id = (await register(members_api, tokens.ops(), "13800138000"))["member"]["id"]
    await members_api(STATUS, {"id": member_id}, token=tokens.ops())

    edit = (await members_api(UPDATE, {"input": {"memberId": member_id, "city": "北京"}}, token=tokens.ops()))["data"]
    consent = (await members_api(CONSENT, {"id": member_id, "given": False}, token=tokens.member(member_id)))["data"]
    unit, engine = uow()
    state = await member_login_state(unit, uuid.UUID(member_id))
    await engine.dispose()  # type: ignore[attr-defined]

    assert edit["updateMemberProfile"]["code"] == "MEMBERS_MEMBER_FROZEN"
    assert consent["setMarketingConsent"]["member"]["marketingConsent"] == "WITHDRAWN"
    assert state is not None
    assert (state.status.value, state.can_log_in) == ("frozen", False)


async def test_closing_erases_personal_data_and_keeps_the_facts(
    members_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    await make_store(members_api, tokens.ops(), "S1")
    member_id = await make_member_in(members_api, tokens.ops(), "13800138000", "S1")
    await members_api(UPDATE, {"input": {"memberId": member_id, "birthday": "1990-01-01"}}, token=tokens.ops())
    unit, own = uow()
    await link_wechat(unit, member_id=uuid.UUID(member_id), unionid="u-1", app_id="wxapp", openid="o-1")
    await own.dispose()  # type: ignore[attr-defined]

    closed = (await members_api(CLOSE, {"id": member_id}, token=tokens.member(member_id)))["data"]["closeMember"]
    again = (await members_api(CLOSE, {"id": member_id}, token=tokens.ops()))["data"]["closeMember"]
    edit = (await members_api(UPDATE, {"input": {"memberId": member_id, "city": "x"}}, token=tokens.ops()))["data"]
    by_wechat = await members_api(BY_WECHAT, {"u": "u-1"}, token=tokens.ops())
    by_mobile = await members_api(BY_MOBILE, {"m": "13800138000"}, token=tokens.ops())
    anew = await register(members_api, tokens.ops(), "13800138000")

    member = closed["member"]
    assert (member["mobile"], member["nickname"], member["birthday"], member["status"]) == (None, None, None, "CLOSED")
    assert member["sourceChannel"] == "STORE_QR"
    assert again["code"] == "MEMBERS_MEMBER_CLOSED"
    assert edit["updateMemberProfile"]["code"] == "MEMBERS_MEMBER_CLOSED"
    assert by_wechat["data"]["memberByWechat"] is None
    assert by_mobile["data"]["memberByMobile"] is None
    assert anew["created"] is True
    assert anew["member"]["id"] != member_id
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT mobile_fingerprint, mobile_ciphertext, wechat_unionid, home_store_code "
                    "FROM members.members WHERE id = :id"
                ),
                {"id": member_id},
            )
        ).one()
        openids = (await connection.execute(text("SELECT count(*) FROM members.member_wechat_ids"))).scalar_one()
        types = (
            (
                await connection.execute(
                    text("SELECT type FROM members.outbox WHERE aggregate_id = :id ORDER BY seq"), {"id": member_id}
                )
            )
            .scalars()
            .all()
        )
    assert tuple(row) == (None, None, None, "S1")
    assert openids == 0
    assert types[-2:] == ["member.updated", "member.closed"]


async def test_lookups_by_mobile_and_wechat_are_exact(members_api: SubgraphClient, tokens: Tokens) -> None:
    member_id = (await register(members_api, tokens.ops(), "13800138000"))["member"]["id"]
    unit, own = uow()
    await link_wechat(unit, member_id=uuid.UUID(member_id), app_id="wxapp", openid="o-1")
    await own.dispose()  # type: ignore[attr-defined]

    by_mobile = await members_api(BY_MOBILE, {"m": "+86 138-0013-8000"}, token=tokens.ops())
    by_openid = await members_api(BY_WECHAT, {"a": "wxapp", "o": "o-1"}, token=tokens.ops())
    other_app = await members_api(BY_WECHAT, {"a": "other", "o": "o-1"}, token=tokens.ops())
    bad = await members_api(BY_MOBILE, {"m": "12"}, token=tokens.ops())
    as_member = await members_api(BY_MOBILE, {"m": "13800138000"}, token=tokens.member(member_id))

    assert by_mobile["data"]["memberByMobile"] == {"id": member_id, "mobile": "13800138000"}
    assert by_openid["data"]["memberByWechat"] == {"id": member_id}
    assert other_app["data"]["memberByWechat"] is None
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert as_member["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_me_and_list_filters(members_api: SubgraphClient, tokens: Tokens) -> None:
    await make_store(members_api, tokens.ops(), "S1")
    in_store = await make_member_in(members_api, tokens.ops(), "13800138000", "S1")
    other = await make_member_in(members_api, tokens.ops(), "13900139000", None)
    await members_api(CONSENT, {"id": other, "given": True}, token=tokens.ops())

    me = await members_api(ME, token=tokens.member(in_store))
    not_member = await members_api(ME, token=tokens.ops())
    by_store = await members_api(LIST, {"filter": {"homeStoreCode": "S1"}}, token=tokens.ops())
    consenting = await members_api(LIST, {"filter": {"marketingConsent": "GIVEN"}}, token=tokens.ops())

    assert me["data"]["me"]["id"] == in_store
    assert not_member == {"data": {"me": None}}  # an ops token has no member of its own
    assert [e["node"]["id"] for e in by_store["data"]["members"]["edges"]] == [in_store]
    assert [e["node"]["id"] for e in consenting["data"]["members"]["edges"]] == [other]


async def test_the_birthday_goes_out_as_a_month_day_when_it_changes(
    members_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    # given: a registered member without a birthday
    member_id = (await register(members_api, tokens.ops(), "13800138000"))["member"]["id"]

    # when: they give a birthday, change only their city, give the same birthday again, clear it, set it, close
    for fields in (
        {"birthday": "1990-05-01"},
        {"city": "上海"},
        {"birthday": "1990-05-01"},
        {"birthday": None},
        {"birthday": "1988-02-29"},
    ):
        await members_api(UPDATE, {"input": {"memberId": member_id, **fields}}, token=tokens.member(member_id))
    await members_api(CLOSE, {"id": member_id}, token=tokens.ops())

    # then: every event carries the month-day only (never the year), and `changed` names the birthday when it changed
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                text("SELECT type, data FROM members.outbox WHERE aggregate_id = :id ORDER BY seq"), {"id": member_id}
            )
        ).all()
    assert [(t, d.get("birthday_md", "absent"), "birthday" in d.get("changed", [])) for t, d in rows] == [
        ("member.registered", None, False),
        ("member.updated", "05-01", True),
        ("member.updated", None, True),
        ("member.updated", "02-29", True),
        ("member.updated", None, True),  # closing erases the birthday
        ("member.closed", "absent", False),
    ]
    assert not any("1990" in str(d) or "1988" in str(d) for _, d in rows)
