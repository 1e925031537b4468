"""Service tests of member registration on the real database."""

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from members.pii import MobileVault
from members.profile.models import Member, SourceChannel
from members.registration.errors import InvalidMobile
from members.registration.service import register_member
from members.uow import MembersUnitOfWork
from yutang_shared.db import session_factory


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(Member))).scalar_one())


async def test_registering_stores_the_mobile_encrypted_and_masked(engine: AsyncEngine, vault: MobileVault) -> None:
    uow = MembersUnitOfWork(session_factory(engine))

    result = await register_member(
        uow, vault, mobile="+86 138 0013 8000", nickname="小鱼", source_channel=SourceChannel.STORE_QR
    )

    assert result.created
    assert result.member.mobile_masked == "138****8000"
    assert "13800138000" not in result.member.mobile_ciphertext
    assert vault.reveal(result.member.mobile_ciphertext) == "13800138000"


async def test_the_same_mobile_twice_is_one_member(engine: AsyncEngine, vault: MobileVault) -> None:
    uow = MembersUnitOfWork(session_factory(engine))
    first = await register_member(uow, vault, mobile="13800138000", nickname="a", source_channel=SourceChannel.ADS)

    again = await register_member(uow, vault, mobile="138-0013-8000", nickname="b", source_channel=SourceChannel.OTHER)

    assert not again.created
    assert again.member.id == first.member.id
    assert again.member.nickname == "a"
    assert await _count(engine) == 1


async def test_concurrent_registrations_of_one_mobile_create_one_member(
    engine: AsyncEngine, vault: MobileVault
) -> None:
    sessions = session_factory(engine)

    results = await asyncio.gather(
        *(
            register_member(
                MembersUnitOfWork(sessions),
                vault,
                mobile="13900139000",
                nickname=None,
                source_channel=SourceChannel.STREET_PROMOTION,
            )
            for _ in range(8)
        )
    )

    assert len({r.member.id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert await _count(engine) == 1


async def test_invalid_mobile_writes_nothing(engine: AsyncEngine, vault: MobileVault) -> None:
    with pytest.raises(InvalidMobile):
        await register_member(
            MembersUnitOfWork(session_factory(engine)),
            vault,
            mobile="12345",
            nickname=None,
            source_channel=SourceChannel.OTHER,
        )

    assert await _count(engine) == 0


async def test_a_nickname_of_32_emoji_sequences_is_stored_whole(engine: AsyncEngine, vault: MobileVault) -> None:
    nickname = "👨‍👩‍👧‍👦" * 32  # 224 code points: more than the old 32-code-point column held

    result = await register_member(
        MembersUnitOfWork(session_factory(engine)),
        vault,
        mobile="13800138000",
        nickname=nickname,
        source_channel=SourceChannel.OTHER,
    )

    async with engine.connect() as connection:
        stored = (await connection.execute(select(Member.nickname))).scalar_one()  # type: ignore[call-overload]
    assert result.member.nickname == nickname
    assert stored == nickname
