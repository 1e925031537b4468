"""The measurements: gateway overhead on the federated member query, and batched versus single ledger writes."""

from __future__ import annotations

import json
import statistics
import time
import uuid
from typing import Any

import httpx

from yutang_dev.keys import KeyPaths
from yutang_dev.stack import Ports
from yutang_shared.auth import SIGNATURE_HEADER, Role, issue_token, sign_body

MEMBERS = 50
REQUESTS = 300
ADJUSTMENTS = 500


class Api:
    """Calls the gateway, or a subgraph directly with the gateway's signature."""

    def __init__(self, ports: Ports, keys: KeyPaths) -> None:
        self.ports = ports
        self.token = issue_token(keys.jwt_private.read_text(), subject="bench", role=Role.OPS)
        self.secret = keys.gateway_secret.read_text().strip().encode()
        self.client = httpx.Client(timeout=30)

    def gateway(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.ports.gateway}/graphql"
        response = self.client.post(url, json={"query": query, "variables": variables}, headers=self._auth())
        return self._data(response)

    def direct(self, subgraph: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables}).encode()
        headers = {**self._auth(), SIGNATURE_HEADER: sign_body(self.secret, body), "content-type": "application/json"}
        url = f"http://127.0.0.1:{self.ports.subgraph(subgraph)}/graphql"
        return self._data(self.client.post(url, content=body, headers=headers))

    def _auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}

    @staticmethod
    def _data(response: httpx.Response) -> dict[str, Any]:
        body: dict[str, Any] = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"benchmark request failed: {response.status_code} {body}")
        data: dict[str, Any] = body["data"]
        return data


REGISTER = """mutation($m: String!) { registerMember(input: {mobile: $m, sourceChannel: OTHER}) {
  ... on RegisterMemberSuccess { member { id } } } }"""
FEDERATED = "query($id: UUID!) { member(id: $id) { nickname loyalty { balance } groups { name } } }"
MEMBER_ONLY = "query($id: UUID!) { member(id: $id) { nickname } }"
ADJUST = """mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { __typename } }"""
BATCH = """mutation($i: [AdjustPointsInput!]!) { adjustPointsBatch(inputs: $i) { __typename } }"""


def _p50_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _timed(calls: list[Any]) -> list[float]:
    samples = []
    for call in calls:
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def gateway_overhead(api: Api, members: list[str]) -> None:
    """p50 of the three-subgraph member query through the gateway, beside the members part called directly."""
    ids = [members[i % len(members)] for i in range(REQUESTS)]  # varied ids: the gateway deduplicates identical calls
    for member_id in ids[:20]:
        api.gateway(FEDERATED, {"id": member_id})
        api.direct("members", MEMBER_ONLY, {"id": member_id})
    via_gateway = _timed([lambda m=m: api.gateway(FEDERATED, {"id": m}) for m in ids])
    direct = _timed([lambda m=m: api.direct("members", MEMBER_ONLY, {"id": m}) for m in ids])
    ratio = _p50_ms(via_gateway) / _p50_ms(direct)
    print(
        f"federated member query via gateway (3 subgraphs) vs members subgraph direct, {REQUESTS} requests each: "
        f"p50 {_p50_ms(via_gateway):.1f} ms vs {_p50_ms(direct):.1f} ms → {ratio:.2f}×"
    )


def ledger_batching(api: Api, members: list[str]) -> None:
    """Ledger writes through the gateway: one adjustPoints per write, beside adjustPointsBatch of 100."""
    run = uuid.uuid4().hex[:8]

    def item(i: int, kind: str) -> dict[str, Any]:
        key = f"bench-{run}-{kind}-{i}"
        return {"memberId": members[i % len(members)], "points": 1, "reason": "bench", "idempotencyKey": key}

    started = time.perf_counter()
    for i in range(ADJUSTMENTS):
        api.gateway(ADJUST, {"i": item(i, "single")})
    single = time.perf_counter() - started
    started = time.perf_counter()
    for first in range(0, ADJUSTMENTS, 100):
        api.gateway(BATCH, {"i": [item(i, "batch") for i in range(first, first + 100)]})
    batched = time.perf_counter() - started
    print(
        f"ledger writes via gateway, {ADJUSTMENTS} adjustments over {len(members)} accounts: one per request "
        f"{ADJUSTMENTS / single:.0f}/s vs batches of 100 {ADJUSTMENTS / batched:.0f}/s → {single / batched:.2f}×"
    )


def run_all(*, ports: Ports, keys: KeyPaths) -> None:
    api = Api(ports, keys)
    members = [
        api.gateway(REGISTER, {"m": f"1380000{i:04d}"})["registerMember"]["member"]["id"] for i in range(MEMBERS)
    ]
    gateway_overhead(api, members)
    ledger_batching(api, members)
