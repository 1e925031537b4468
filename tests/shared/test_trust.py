"""The trust boundary every subgraph shares: only gateway-signed calls with a valid token reach GraphQL."""

import time

from tests.support import SubgraphClient, Tokens
from yutang_shared.auth import SIGNATURE_HEADER, sign_body

SERVICE_SDL = "{ _service { sdl } }"


async def test_an_unsigned_call_is_refused_even_with_a_valid_token(members_api: SubgraphClient, tokens: Tokens) -> None:
    response = await members_api.post(SERVICE_SDL, token=tokens.ops(), sign=False)

    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "GATEWAY_SIGNATURE_REQUIRED"


async def test_a_signature_over_another_body_is_refused(members_api: SubgraphClient, tokens: Tokens) -> None:
    forged = sign_body(tokens.secret, b'{"query": "{ __typename }"}')
    response = await members_api.client.post(
        "/graphql",
        content=b'{"query": "{ _service { sdl } }"}',
        headers={
            "authorization": f"Bearer {tokens.ops()}",
            SIGNATURE_HEADER: forged,
            "content-type": "application/json",
        },
    )

    assert response.status_code == 403


async def test_a_stale_signature_is_refused(members_api: SubgraphClient, tokens: Tokens) -> None:
    body = b'{"query": "{ _service { sdl } }"}'
    stale = sign_body(tokens.secret, body, timestamp=int(time.time()) - 3600)
    response = await members_api.client.post(
        "/graphql",
        content=body,
        headers={
            "authorization": f"Bearer {tokens.ops()}",
            SIGNATURE_HEADER: stale,
            "content-type": "application/json",
        },
    )

    assert response.status_code == 403


async def test_a_signed_call_without_a_valid_token_is_refused(members_api: SubgraphClient, tokens: Tokens) -> None:
    missing = await members_api.post(SERVICE_SDL, token=None)
    garbage = await members_api.post(SERVICE_SDL, token="not.a.jwt")

    assert missing.status_code == 401
    assert garbage.status_code == 401
    assert garbage.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_signed_call_with_a_token_is_answered_with_a_request_id(
    members_api: SubgraphClient, tokens: Tokens
) -> None:
    body = b'{"query": "{ _service { sdl } }"}'
    response = await members_api.client.post(
        "/graphql",
        content=body,
        headers={
            "authorization": f"Bearer {tokens.ops()}",
            SIGNATURE_HEADER: sign_body(tokens.secret, body),
            "content-type": "application/json",
            "x-request-id": "req-123",
        },
    )

    assert response.status_code == 200
    assert "type Member" in response.json()["data"]["_service"]["sdl"]
    assert response.headers["x-request-id"] == "req-123"


async def test_health_needs_no_token(members_api: SubgraphClient) -> None:
    response = await members_api.client.get("/health")

    assert response.status_code == 200
    health = response.json()
    assert {k: health[k] for k in ("status", "service", "database")} == {
        "status": "ok",
        "service": "members",
        "database": "ok",
    }
    assert health["outbox"]["unpublished"] >= 0  # the events backlog is part of health
