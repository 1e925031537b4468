"""Through the real gateway: request body limit, CORS, the GraphiQL page and introspection.

Non-default settings are checked on a second gateway process started here against the same subgraphs.
"""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from graphql import get_introspection_query

from tests.stack import Stack
from yutang_dev.paths import repo_root

MIB = 1024 * 1024
TYPENAME = b'{"query": "{ __typename }", "variables": {"pad": "%s"}}'


def padded(size: int) -> bytes:
    """A JSON GraphQL request of exactly `size` bytes."""
    return TYPENAME % (b"x" * (size - len(TYPENAME % b"")))


def post(url: str, body: bytes | Iterator[bytes], token: str, **headers: str) -> httpx.Response:
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}", **headers}
    return httpx.post(url, content=body, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def custom_gateway(stack: Stack, data_dir: Path) -> Iterator[str]:
    """A second gateway with a 4 KiB body limit and one allowed CORS origin; its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {key: value for key, value in os.environ.items() if key != "LOG_LEVEL"}
    env.update(
        {f"YUTANG_{name.upper()}_URL": stack.subgraph(name) for name in ("members", "loyalty", "community")},
        YUTANG_DATA_DIR=str(data_dir),
        YUTANG_GATEWAY_PORT=str(port),
        YUTANG_GATEWAY_MAX_BODY_BYTES="4096",
        YUTANG_CORS_ORIGINS="https://h5.example.com, https://console.example.com",
    )
    argv = ["node", "node_modules/.bin/hive-gateway", "supergraph", "supergraph.graphql", "-c", "gateway.config.ts"]
    with (data_dir / "custom-gateway.log").open("w") as out:
        process = subprocess.Popen(
            [*argv, "--hive-router-runtime"], cwd=repo_root() / "gateway", env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (data_dir / "custom-gateway.log").read_text()[-2000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthcheck", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the second gateway did not become healthy"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_a_body_over_one_mebibyte_is_refused_with_413(stack: Stack, ops: str) -> None:
    within = post(stack.gateway, padded(MIB), ops)
    declared = post(stack.gateway, padded(MIB + 1), ops)
    streamed = post(stack.gateway, iter([padded(MIB + 1)[:1000], padded(MIB + 1)[1000:]]), ops)

    assert within.status_code == 200, within.text
    for response in (declared, streamed):
        assert response.status_code == 413, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


def test_the_body_limit_is_configurable(custom_gateway: str, ops: str) -> None:
    within = post(custom_gateway, padded(4096), ops)
    over = post(custom_gateway, padded(4097), ops)

    assert within.status_code == 200, within.text
    assert over.status_code == 413
    assert over.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


def test_no_origin_is_allowed_cross_origin_by_default(stack: Stack, ops: str) -> None:
    simple = post(stack.gateway, padded(100), ops, origin="https://h5.example.com")
    preflight = httpx.options(
        stack.gateway, headers={"origin": "https://h5.example.com", "access-control-request-method": "POST"}
    )

    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers
    assert "access-control-allow-origin" not in preflight.headers


def test_only_the_configured_origins_are_allowed(custom_gateway: str, ops: str) -> None:
    preflight = {"access-control-request-method": "POST", "access-control-request-headers": "authorization"}

    allowed = httpx.options(custom_gateway, headers={"origin": "https://console.example.com", **preflight})
    other = httpx.options(custom_gateway, headers={"origin": "https://evil.example.com", **preflight})
    other_post = post(custom_gateway, padded(100), ops, origin="https://evil.example.com")

    assert allowed.headers["access-control-allow-origin"] == "https://console.example.com"
    assert "authorization" in allowed.headers["access-control-allow-headers"]
    assert "access-control-allow-origin" not in other.headers
    assert "access-control-allow-origin" not in other_post.headers


def test_the_graphiql_page_is_compressed_and_offers_a_sample_operation(stack: Stack) -> None:
    with httpx.stream("GET", stack.gateway, headers={"accept": "text/html", "accept-encoding": "gzip"}) as response:
        compressed = b"".join(response.iter_raw())

    page = gzip.decompress(compressed).decode()
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert len(compressed) * 3 < len(page)
    assert "query FirstMembers" in page
    assert "members(first: 10)" in page
    assert "Bearer <paste a token from make token>" in page
    assert '"includeActiveOperationHeaders":true' in page  # introspection sends the pasted token


def test_introspection_works_with_a_token_and_is_refused_without(stack: Stack, ops: str) -> None:
    introspection = get_introspection_query(descriptions=True)

    with_token = stack.query(introspection, token=ops)
    without = stack.query(introspection, token=None)

    assert with_token.status_code == 200
    types = {t["name"] for t in with_token.json()["data"]["__schema"]["types"]}
    assert {"Member", "Group", "LoyaltyAccount"} <= types
    assert without.status_code == 401
    assert without.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
