"""Identity through the real gateway: the identity endpoints on the gateway's origin, a partner client's token
used for GraphQL, per-client rate limits, and login refusals."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt

from tests.stack import Stack
from tests.support import Tokens

REGISTER = """
mutation($name: String!, $perSecond: Int, $perDay: Int) {
  registerClient(name: $name, role: PARTNER, scopes: ["members:read"], rateLimitPerSecond: $perSecond,
                 rateLimitPerDay: $perDay) {
    __typename ... on ClientSecretSuccess { clientSecret client { clientId } }
  }
}
"""
MEMBERS = "{ members(first: 1) { edges { node { id } } } }"


def origin(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.ports.gateway}"


def client_token(stack: Stack, ops: str, name: str, **limits: int) -> str:
    """Register a partner client through the gateway and get a token from the gateway's /oauth/token."""
    registered = stack.query(REGISTER, {"name": name, **limits}, token=ops).json()["data"]["registerClient"]
    response = httpx.post(
        f"{origin(stack)}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(registered["client"]["clientId"], registered["clientSecret"]),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def test_a_partner_token_from_the_gateway_calls_graphql(stack: Stack, ops: str) -> None:
    token = client_token(stack, ops, "POS e2e")

    result = stack.query(MEMBERS, token=token)

    assert result.status_code == 200, result.text
    assert "errors" not in result.json()


def test_the_jwks_is_served_on_the_gateway_origin_and_names_the_token_key(stack: Stack, tokens: Tokens) -> None:
    jwks = httpx.get(f"{origin(stack)}/.well-known/jwks.json", timeout=30).json()

    kid = jwt.get_unverified_header(tokens.ops())["kid"]
    assert kid in [key["kid"] for key in jwks["keys"]]


def test_login_refusals_come_back_through_the_gateway(stack: Stack) -> None:
    wrong = httpx.post(
        f"{origin(stack)}/oauth/token", data={"grant_type": "client_credentials"}, auth=("cli_x", "y"), timeout=30
    )
    bad = httpx.post(f"{origin(stack)}/auth/refresh", json={"refresh_token": "made-up"}, timeout=30)

    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_grant")


def test_a_client_over_its_limit_is_throttled_while_another_is_not(stack: Stack, ops: str) -> None:
    limited = client_token(stack, ops, "tight", perSecond=1, perDay=2)
    other = client_token(stack, ops, "roomy")

    answers = [stack.query(MEMBERS, token=limited) for _ in range(3)]
    unaffected = stack.query(MEMBERS, token=other)

    throttled = answers[-1]
    assert throttled.status_code == 429, throttled.text
    assert int(throttled.headers["retry-after"]) >= 1
    assert throttled.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert unaffected.status_code == 200
    assert "errors" not in unaffected.json()


def test_a_token_signed_with_an_unknown_key_is_refused(stack: Stack, tokens: Tokens) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(65537, 2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "yutang",
        "aud": "yutang-api",
        "sub": "x",
        "role": "ops",
        "iat": now,
        "exp": now + 60,
    }
    token = jwt.encode(claims, other, algorithm="RS256", headers={"kid": "not-a-known-kid"})

    response = stack.query(MEMBERS, token=token)

    assert response.status_code == 401
