"""Through the real gateway: tokens the subgraphs would refuse are refused at the gateway already, with HTTP 401."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from tests.stack import Stack
from tests.support import Tokens

MEMBERS = "{ members(first: 1) { edges { node { id } } } }"
ABSENT = object()


def signed(tokens: Tokens, **overrides: Any) -> str:
    """A token signed with the session's key: valid claims, with `overrides` applied (ABSENT drops a claim)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "yutang",
        "aud": "yutang-api",
        "sub": "ops-test",
        "role": "ops",
        "scopes": [],
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    claims = {key: value for key, value in claims.items() if value is not ABSENT}
    return jwt.encode(claims, (tokens.keys / "jwt-private.pem").read_text(), algorithm="RS256")


def test_a_well_formed_token_passes(stack: Stack, tokens: Tokens) -> None:
    result = stack.query(MEMBERS, token=signed(tokens))

    assert result.status_code == 200
    assert "errors" not in result.json(), result.json()


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"exp": ABSENT}, id="no-exp"),
        pytest.param({"iat": ABSENT}, id="no-iat"),
        pytest.param({"sub": ABSENT}, id="no-sub"),
        pytest.param({"iss": ABSENT}, id="no-iss"),
        pytest.param({"aud": ABSENT}, id="no-aud"),
        pytest.param({"iat": int(time.time()) + 3600}, id="iat-in-the-future"),
        pytest.param({"role": "admin"}, id="unknown-role"),
        pytest.param({"role": ABSENT}, id="no-role"),
        pytest.param({"scopes": "members:read"}, id="scopes-a-string"),
        pytest.param({"scopes": ["members:read", 7]}, id="scopes-not-all-strings"),
    ],
)
def test_a_token_the_subgraphs_would_refuse_is_refused_by_the_gateway(
    stack: Stack, tokens: Tokens, overrides: dict[str, Any]
) -> None:
    response = stack.query(MEMBERS, token=signed(tokens, **overrides))

    assert response.status_code == 401, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "path" not in error  # refused by the gateway, not by a subgraph


def test_a_small_clock_skew_is_tolerated(stack: Stack, tokens: Tokens) -> None:
    response = stack.query(MEMBERS, token=signed(tokens, iat=int(time.time()) + 20))

    assert response.status_code != 401, response.text


def test_an_expired_token_is_refused_as_expired(stack: Stack, tokens: Tokens) -> None:
    now = int(time.time())

    response = stack.query(MEMBERS, token=signed(tokens, iat=now - 3600, exp=now - 10))

    assert response.status_code == 401
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "expired" in error["message"]
