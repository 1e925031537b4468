"""A logged-in member binds or changes their mobile with a WeChat `getPhoneNumber` code (changeMyMobile), through
the real WeChat client against the fake server: one member per mobile, typed refusals that change nothing,
audited, and `member.updated` without the number."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from members.audit.service import Actor
from members.config import MembersSettings
from members.pii import MobileVault
from members.profile.errors import MobileTaken
from members.profile.service import change_mobile
from members.uow import MembersUnitOfWork
from tests.members.identity.test_member_login import first_login
from tests.support import SubgraphClient, Tokens
from yutang_dev.fake_wechat import FakeWechat
from yutang_shared.db import session_factory

CHANGE = """
mutation($code: String!) {
  changeMyMobile(phoneCode: $code) {
    __typename
    ... on MemberSuccess { member { id mobile } }
    ... on WechatCodeError { code } ... on WechatUnavailableError { code } ... on MobileTakenError { code }
    ... on InvalidProfileError { code } ... on MemberFrozenError { code } ... on MemberClosedError { code }
  }
}
"""
BY_MOBILE = "query($mobile: String!) { memberByMobile(mobile: $mobile) { id } }"
REGISTER = "mutation($m: String!) { registerMember(input: {mobile: $m, sourceChannel: OTHER}) { __typename ... on RegisterMemberSuccess { created member { id } } } }"  # noqa: E501
FREEZE = "mutation($id: UUID!) { freezeMember(memberId: $id) { __typename } }"
CLOSE = "mutation($id: UUID!) { closeMember(memberId: $id) { __typename } }"


async def _change(api: httpx.AsyncClient, tokens: Tokens, code: str, token: str) -> dict[str, Any]:
    body = await SubgraphClient(api, tokens)(CHANGE, {"code": code}, token=token)
    assert "errors" not in body, body
    answer: dict[str, Any] = body["data"]["changeMyMobile"]
    return answer


async def _mobile_of(engine: AsyncEngine, member_id: str) -> str | None:
    async with engine.connect() as connection:
        masked: str | None = await connection.scalar(
            text("SELECT mobile_masked FROM members.members WHERE id = :id"), {"id": member_id}
        )
    return masked


async def _updates(engine: AsyncEngine, member_id: str) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT data FROM members.outbox WHERE aggregate_id = :id AND type = 'member.updated' ORDER BY seq"),
            {"id": member_id},
        )
        return [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in rows]


async def _audit(engine: AsyncEngine, member_id: str) -> list[tuple[str, str, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT actor, outcome, coalesce(target_id, '') FROM members.audit_log "
                "WHERE action = 'changeMyMobile' ORDER BY at"
            ),
        )
        return [tuple(row) for row in rows if row[0] == member_id]  # type: ignore[misc]


async def test_a_member_changes_their_mobile_and_the_old_number_is_free_again(
    identity_api: httpx.AsyncClient, fake: FakeWechat, tokens: Tokens, engine: AsyncEngine
) -> None:
    # given: a member who logged in with 13822220001
    pair = await first_login(identity_api, fake, openid="o-change", phone="13822220001")
    member = pair["subject"]

    # when: they confirm a new number through the mini-program's getPhoneNumber button
    answer = await _change(identity_api, tokens, fake.issue("phone", phone="13822220002"), pair["access_token"])

    # then: the new number is theirs, the old one finds nobody and registers as a new member
    graphql = SubgraphClient(identity_api, tokens)
    by_new = await graphql(BY_MOBILE, {"mobile": "13822220002"}, token=tokens.ops())
    by_old = await graphql(BY_MOBILE, {"mobile": "13822220001"}, token=tokens.ops())
    again = await graphql(REGISTER, {"m": "13822220001"}, token=tokens.ops())
    assert answer == {"__typename": "MemberSuccess", "member": {"id": member, "mobile": "13822220002"}}
    assert by_new["data"]["memberByMobile"] == {"id": member}
    assert by_old["data"]["memberByMobile"] is None
    assert again["data"]["registerMember"]["created"] is True
    assert again["data"]["registerMember"]["member"]["id"] != member
    # and: one member.updated naming the change but not the number; one audit entry
    updates = await _updates(engine, member)
    assert [u["changed"] for u in updates] == [["mobile"]]
    assert "1382222" not in json.dumps(updates)
    assert await _audit(engine, member) == [(member, "ok", member)]


async def test_the_same_number_again_changes_nothing(
    identity_api: httpx.AsyncClient, fake: FakeWechat, tokens: Tokens, engine: AsyncEngine
) -> None:
    pair = await first_login(identity_api, fake, openid="o-same", phone="13822220011")

    answer = await _change(identity_api, tokens, fake.issue("phone", phone="13822220011"), pair["access_token"])

    assert answer["__typename"] == "MemberSuccess"
    assert await _updates(engine, pair["subject"]) == []


async def test_another_members_number_is_refused_and_nothing_changes(
    identity_api: httpx.AsyncClient, fake: FakeWechat, tokens: Tokens, engine: AsyncEngine
) -> None:
    # given: two members
    first = await first_login(identity_api, fake, openid="o-taken-1", phone="13822220021")
    await first_login(identity_api, fake, openid="o-taken-2", phone="13822220022")

    # when: the first tries to take the second's number
    answer = await _change(identity_api, tokens, fake.issue("phone", phone="13822220022"), first["access_token"])

    # then: refused, typed; their number stays; the refusal is audited with its code
    assert answer == {"__typename": "MobileTakenError", "code": "MEMBERS_MOBILE_TAKEN"}
    assert await _mobile_of(engine, first["subject"]) == "138****0021"
    assert await _updates(engine, first["subject"]) == []
    assert [row[1] for row in await _audit(engine, first["subject"])] == ["MEMBERS_MOBILE_TAKEN"]


async def test_unknown_and_used_codes_are_typed_refusals(
    identity_api: httpx.AsyncClient, fake: FakeWechat, tokens: Tokens, engine: AsyncEngine
) -> None:
    pair = await first_login(identity_api, fake, openid="o-codes", phone="13822220031")
    used = fake.issue("phone", phone="13822220032")
    assert (await _change(identity_api, tokens, used, pair["access_token"]))["__typename"] == "MemberSuccess"

    unknown = await _change(identity_api, tokens, "never-issued", pair["access_token"])
    reused = await _change(identity_api, tokens, used, pair["access_token"])
    login_code = await _change(identity_api, tokens, fake.issue("login"), pair["access_token"])  # wrong kind

    assert unknown == {"__typename": "WechatCodeError", "code": "MEMBERS_WECHAT_CODE_INVALID"}
    assert reused == {"__typename": "WechatCodeError", "code": "MEMBERS_WECHAT_CODE_USED"}
    assert login_code == {"__typename": "WechatCodeError", "code": "MEMBERS_WECHAT_CODE_INVALID"}
    assert await _mobile_of(engine, pair["subject"]) == "138****0032"


async def test_wechat_down_is_a_typed_refusal(
    identity_api: httpx.AsyncClient, fake: FakeWechat, tokens: Tokens, engine: AsyncEngine
) -> None:
    pair = await first_login(identity_api, fake, openid="o-busy", phone="13822220041")
    fake.busy = 50  # more than the client's retries

    answer = await _change(identity_api, tokens, fake.issue("phone", phone="13822220042"), pair["access_token"])

    fake.busy = 0
    assert answer == {"__typename": "WechatUnavailableError", "code": "MEMBERS_WECHAT_UNAVAILABLE"}
    assert await _mobile_of(engine, pair["subject"]) == "138****0041"


async def test_frozen_and_closed_members_are_refused_before_the_code_is_spent(
    identity_api: httpx.AsyncClient, fake: FakeWechat, tokens: Tokens, engine: AsyncEngine
) -> None:
    # given: a frozen member and a closed one, each still holding an access token
    graphql = SubgraphClient(identity_api, tokens)
    frozen = await first_login(identity_api, fake, openid="o-frozen", phone="13822220051")
    closed = await first_login(identity_api, fake, openid="o-closed", phone="13822220052")
    await graphql(FREEZE, {"id": frozen["subject"]}, token=tokens.ops())
    await graphql(CLOSE, {"id": closed["subject"]}, token=tokens.ops())
    code = fake.issue("phone", phone="13822220053")

    # when
    on_frozen = await _change(identity_api, tokens, code, frozen["access_token"])
    on_closed = await _change(identity_api, tokens, code, closed["access_token"])

    # then: typed refusals, and the code is still good (WeChat was not asked)
    assert on_frozen == {"__typename": "MemberFrozenError", "code": "MEMBERS_MEMBER_FROZEN"}
    assert on_closed == {"__typename": "MemberClosedError", "code": "MEMBERS_MEMBER_CLOSED"}
    assert await _mobile_of(engine, frozen["subject"]) == "138****0051"
    assert await _mobile_of(engine, closed["subject"]) is None
    assert code in fake.codes


async def test_only_a_member_changes_their_own_mobile(
    identity_api: httpx.AsyncClient, fake: FakeWechat, tokens: Tokens
) -> None:
    code = fake.issue("phone", phone="13822220061")
    for token in (tokens.ops(), tokens.staff_in("operations"), tokens.service("members:write")):
        body = await SubgraphClient(identity_api, tokens)(CHANGE, {"code": code}, token=token)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], body
    assert code in fake.codes


async def test_two_members_racing_for_one_number_one_wins(
    identity_api: httpx.AsyncClient, fake: FakeWechat, engine: AsyncEngine
) -> None:
    # given: two members
    first = await first_login(identity_api, fake, openid="o-race-1", phone="13822220071")
    second = await first_login(identity_api, fake, openid="o-race-2", phone="13822220072")
    sessions = session_factory(engine)
    vault = MobileVault(MembersSettings().pii_key_bytes())

    async def change(member: str) -> str:
        try:
            await change_mobile(
                MembersUnitOfWork(sessions),
                vault,
                Actor(member, "member"),
                member_id=uuid.UUID(member),
                mobile="13822220079",
            )
        except MobileTaken:
            return "taken"
        return "ok"

    # when: both take the same new number at once
    outcomes = await asyncio.gather(change(first["subject"]), change(second["subject"]))

    # then: exactly one has it (the unique fingerprint decides); the other keeps their number
    assert sorted(outcomes) == ["ok", "taken"]
    masks = {await _mobile_of(engine, first["subject"]), await _mobile_of(engine, second["subject"])}
    assert "138****0079" in masks
    assert masks & {"138****0071", "138****0072"}
