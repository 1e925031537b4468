"""OAuth2 client credentials: ops register a client, the client gets tokens at /oauth/token (basic or post), the
secret rotates and the client can be revoked; refusals are RFC 6749 errors. Also the JWKS."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support import SubgraphClient, Tokens

REGISTER = """
mutation Register($name: String!, $role: ClientRole!, $scopes: [String!]!, $stores: [String!]) {
  registerClient(name: $name, role: $role, scopes: $scopes, allowedStores: $stores, rateLimitPerSecond: 5,
                 rateLimitPerDay: 1000) {
    __typename
    ... on ClientSecretSuccess { clientSecret client { clientId role scopes allowedStores rateLimitPerSecond } }
    ... on InvalidClientError { code }
  }
}
"""
ROTATE = """mutation($id: String!) { rotateClientSecret(clientId: $id) {
  __typename ... on ClientSecretSuccess { clientSecret } ... on ClientNotFoundError { code } } }"""
REVOKE = """mutation($id: String!) { revokeClient(clientId: $id) {
  __typename ... on RevokeClientSuccess { client { revokedAt } } ... on ClientNotFoundError { code } } }"""
CLIENTS = "query($all: Boolean!) { clients(includeRevoked: $all) { clientId revokedAt } }"


async def register(api: httpx.AsyncClient, tokens: Tokens, **overrides: Any) -> dict[str, Any]:
    variables = {
        "name": "POS vendor",
        "role": "PARTNER",
        "scopes": ["members:read", "points:write"],
        "stores": ["S001"],
    }
    result = await SubgraphClient(api, tokens)(REGISTER, {**variables, **overrides}, token=tokens.ops())
    payload: dict[str, Any] = result["data"]["registerClient"]
    return payload


async def token(api: httpx.AsyncClient, client_id: str, secret: str, **form: str) -> httpx.Response:
    return await api.post("/oauth/token", data={"grant_type": "client_credentials", **form}, auth=(client_id, secret))


async def test_a_registered_client_gets_a_token_with_its_claims(
    identity_api: httpx.AsyncClient, tokens: Tokens
) -> None:
    registered = await register(identity_api, tokens)
    client_id, secret = registered["client"]["clientId"], registered["clientSecret"]

    response = await token(identity_api, client_id, secret)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    jwks = (await identity_api.get("/.well-known/jwks.json")).json()
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(body["access_token"])["kid"]]
    claims = jwt.decode(body["access_token"], key.key, algorithms=["RS256"], audience="yutang-api")
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, "members:read points:write")
    assert claims["sub"] == claims["client_id"] == client_id
    assert (claims["role"], claims["scopes"], claims["stores"]) == (
        "partner",
        ["members:read", "points:write"],
        ["S001"],
    )
    assert (claims["rl_s"], claims["rl_d"]) == (5, 1000)


async def test_client_secret_post_works_and_narrows_scopes(identity_api: httpx.AsyncClient, tokens: Tokens) -> None:
    registered = await register(identity_api, tokens)
    form = {
        "grant_type": "client_credentials",
        "client_id": registered["client"]["clientId"],
        "client_secret": registered["clientSecret"],
        "scope": "members:read",
    }

    response = await identity_api.post("/oauth/token", data=form)

    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "members:read"


@pytest.mark.parametrize(
    ("form", "secret", "status", "error"),
    [
        pytest.param({}, "wrong", 401, "invalid_client", id="wrong-secret"),
        pytest.param({"grant_type": "password"}, None, 400, "unsupported_grant_type", id="grant-type"),
        pytest.param({"scope": "groups:write"}, None, 400, "invalid_scope", id="scope-not-registered"),
    ],
)
async def test_bad_token_requests_are_rfc6749_errors(
    identity_api: httpx.AsyncClient, tokens: Tokens, form: dict[str, str], secret: str | None, status: int, error: str
) -> None:
    registered = await register(identity_api, tokens)

    response = await token(identity_api, registered["client"]["clientId"], secret or registered["clientSecret"], **form)

    assert (response.status_code, response.json()["error"]) == (status, error)


async def test_an_unknown_client_is_invalid_client(identity_api: httpx.AsyncClient) -> None:
    response = await token(identity_api, "cli_unknown", "whatever")

    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


async def test_rotation_refuses_the_old_secret(identity_api: httpx.AsyncClient, tokens: Tokens) -> None:
    registered = await register(identity_api, tokens)
    client_id = registered["client"]["clientId"]

    rotated = await SubgraphClient(identity_api, tokens)(ROTATE, {"id": client_id}, token=tokens.ops())
    new_secret = rotated["data"]["rotateClientSecret"]["clientSecret"]

    assert (await token(identity_api, client_id, registered["clientSecret"])).status_code == 401
    assert (await token(identity_api, client_id, new_secret)).status_code == 200


async def test_a_revoked_client_gets_no_token_and_leaves_the_list(
    identity_api: httpx.AsyncClient, tokens: Tokens
) -> None:
    registered = await register(identity_api, tokens)
    client_id = registered["client"]["clientId"]
    api = SubgraphClient(identity_api, tokens)

    revoked = await api(REVOKE, {"id": client_id}, token=tokens.ops())
    listed = await api(CLIENTS, {"all": False}, token=tokens.ops())
    rotate = await api(ROTATE, {"id": client_id}, token=tokens.ops())

    assert revoked["data"]["revokeClient"]["client"]["revokedAt"]
    assert (await token(identity_api, client_id, registered["clientSecret"])).json()["error"] == "invalid_client"
    assert client_id not in [c["clientId"] for c in listed["data"]["clients"]]
    assert rotate["data"]["rotateClientSecret"]["code"] == "MEMBERS_CLIENT_NOT_FOUND"


@pytest.mark.parametrize(
    "overrides",
    [{"scopes": []}, {"scopes": ["not a scope"]}, {"name": " "}, {"stores": ["bad code!"]}],
)
async def test_invalid_registrations_write_nothing(
    identity_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine, overrides: dict[str, Any]
) -> None:
    payload = await register(identity_api, tokens, **overrides)

    async with engine.connect() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM members.oauth_clients"))).scalar_one()
    assert payload == {"__typename": "InvalidClientError", "code": "MEMBERS_INVALID_CLIENT"}
    assert count == 0


async def test_only_operations_manage_clients(identity_api: httpx.AsyncClient, tokens: Tokens) -> None:
    variables = {"name": "x", "role": "SERVICE", "scopes": ["members:read"], "stores": []}

    result = await SubgraphClient(identity_api, tokens)(REGISTER, variables, token=tokens.staff())

    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_secret_is_stored_as_a_slow_hash(
    identity_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    registered = await register(identity_api, tokens)

    async with engine.connect() as connection:
        stored = (await connection.execute(text("SELECT secret_hash FROM members.oauth_clients"))).scalar_one()
    assert stored.startswith("scrypt$")
    assert registered["clientSecret"] not in stored


async def test_each_client_token_issue_is_audited(
    identity_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    registered = await register(identity_api, tokens)
    client_id = registered["client"]["clientId"]

    issued = await token(identity_api, client_id, registered["clientSecret"])
    await token(identity_api, client_id, registered["clientSecret"])

    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                text("SELECT actor, role, client_id, outcome FROM members.audit_log WHERE action = 'token_issue'")
            )
        ).all()
    assert issued.status_code == 200
    assert [tuple(row) for row in rows] == [(client_id, "partner", client_id, "ok")] * 2
