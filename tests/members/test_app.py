"""The members app uses the settings it was built with: its vault comes from them, never from a global."""

import httpx
import pytest
from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from members.app import create_app
from members.config import MembersSettings
from members.pii import MobileVault
from members.profile.models import Member
from tests.members.factories import register
from tests.support import SubgraphClient, Tokens


async def test_the_app_seals_mobiles_with_the_key_of_its_settings(
    engine: AsyncEngine, tokens: Tokens, vault: MobileVault
) -> None:
    key = Fernet.generate_key()
    app = create_app(MembersSettings(pii_key=SecretStr(key.decode())))

    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # Litestar's ASGI types are narrower
    async with httpx.AsyncClient(transport=transport, base_url="http://subgraph") as client:
        created = await register(SubgraphClient(client, tokens), tokens.ops(), "13800138000")
    await app.state.engine.dispose()

    async with engine.connect() as connection:
        sealed = (await connection.execute(select(Member.mobile_ciphertext))).scalar_one()  # type: ignore[call-overload]
    assert created["member"]["mobile"] == "13800138000"
    assert MobileVault(key).reveal(sealed) == "13800138000"
    with pytest.raises(InvalidToken):
        vault.reveal(sealed)
