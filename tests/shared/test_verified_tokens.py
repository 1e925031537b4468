"""The subgraphs' token cache: a token verifies once per process, and a cached token still expires."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from tests.support import Tokens
from yutang_shared import auth
from yutang_shared.auth import InvalidToken, Role, VerifiedTokens, issue_token


def _keys(tokens: Tokens) -> tuple[str, str]:
    keys: Path = tokens.keys
    return (keys / "jwt-private.pem").read_text(), (keys / "jwt-public.pem").read_text()


def test_a_token_is_verified_once_and_answered_from_the_cache(tokens: Tokens, monkeypatch: pytest.MonkeyPatch) -> None:
    private, public = _keys(tokens)
    token = issue_token(private, subject="ops-1", role=Role.OPS)
    cache = VerifiedTokens(public, issuer="yutang", audience="yutang-api")
    calls: list[str] = []
    real = auth._verified

    def counting(token: str, key: str | auth.KeySet, **kwargs: str) -> tuple[auth.Principal, float]:
        calls.append(token)
        return real(token, key, **kwargs)

    monkeypatch.setattr(auth, "_verified", counting)

    principals = [cache.verify(token) for _ in range(5)]

    assert {p.subject for p in principals} == {"ops-1"}
    assert len(calls) == 1


def test_a_cached_token_is_refused_once_it_expires(tokens: Tokens, monkeypatch: pytest.MonkeyPatch) -> None:
    private, public = _keys(tokens)
    token = issue_token(private, subject="ops-1", role=Role.OPS)
    cache = VerifiedTokens(public, issuer="yutang", audience="yutang-api")
    cache.verify(token)
    later = time.time() + 13 * 3600  # past the 12-hour lifetime and the clock-skew allowance

    monkeypatch.setattr(auth.time, "time", lambda: later)

    with pytest.raises(InvalidToken, match="expired"):
        cache.verify(token)


def test_a_token_signed_by_another_key_is_refused_every_time(tokens: Tokens, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    forged = issue_token(other.decode(), subject="ops-1", role=Role.OPS)
    cache = VerifiedTokens(_keys(tokens)[1], issuer="yutang", audience="yutang-api")

    for _ in range(2):
        with pytest.raises(InvalidToken):
            cache.verify(forged)


def test_an_iat_a_little_ahead_is_accepted_like_the_gateway_does(tokens: Tokens) -> None:
    private, public = _keys(tokens)
    now = int(time.time())
    claims = {"iss": "yutang", "aud": "yutang-api", "sub": "s", "role": "ops", "iat": now + 30, "exp": now + 600}
    token = jwt.encode(claims, private, algorithm="RS256")

    assert VerifiedTokens(public, issuer="yutang", audience="yutang-api").verify(token).subject == "s"


def test_the_cache_keeps_at_most_its_size(tokens: Tokens) -> None:
    private, public = _keys(tokens)
    cache = VerifiedTokens(public, issuer="yutang", audience="yutang-api", size=3)

    for i in range(5):
        cache.verify(issue_token(private, subject=f"s{i}", role=Role.OPS))

    assert len(cache._seen) == 3
