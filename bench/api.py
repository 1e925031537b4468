"""GraphQL calls for the benchmarks: through the gateway, or straight to a subgraph signed like the gateway."""

from __future__ import annotations

import json
from typing import Any

import httpx

from yutang_dev.keys import KeyPaths
from yutang_dev.stack import Ports
from yutang_shared.auth import SIGNATURE_HEADER, Role, issue_token, sign_body

REGISTER = """mutation($i: RegisterMemberInput!) { registerMember(input: $i) {
  __typename ... on RegisterMemberSuccess { member { id } } ... on Error { message } } }"""
CREATE_GROUP = """mutation($i: CreateGroupInput!) { createGroup(input: $i) {
  __typename ... on CreateGroupSuccess { group { id } } ... on Error { message } } }"""
JOIN_GROUP = """mutation($g: UUID!, $m: UUID!) { joinGroup(groupId: $g, memberId: $m, channel: STORE_QR) {
  __typename ... on Error { message } } }"""
FEDERATED = "query($id: UUID!) { member(id: $id) { nickname loyalty { balance } groups { name } } }"
MEMBER_ONLY = "query($id: UUID!) { member(id: $id) { nickname } }"
TYPENAME = "{ __typename }"
ADJUST = """mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) {
  __typename ... on AdjustPointsSuccess { account { balance } } ... on Error { message } } }"""
ADJUST_BATCH = """mutation($i: [AdjustPointsInput!]!) { adjustPointsBatch(inputs: $i) {
  __typename ... on Error { message } } }"""

SUBJECT = "bench"  # the token's subject: the ledger's `actor` of every write through the gateway


class BenchRequestError(RuntimeError):
    """A benchmark request failed or was refused; the stack (or work in progress on it) is broken."""


class Api:
    """Calls the gateway, or a subgraph directly with the gateway's HMAC signature over the body."""

    def __init__(self, ports: Ports, keys: KeyPaths, client: httpx.AsyncClient) -> None:
        self.client = client
        self.gateway_url = f"http://127.0.0.1:{ports.gateway}/graphql"
        self.subgraph_urls = {name: f"http://127.0.0.1:{ports.subgraph(name)}/graphql" for name in _SUBGRAPHS}
        # Limits far above any load this bench makes: the gateway's default per-subject limit (20/s) would
        # measure the limiter, not the stack.
        limits = {"rl_s": 1_000_000, "rl_d": 1_000_000_000}
        token = issue_token(keys.jwt_private.read_text(), subject=SUBJECT, role=Role.OPS, extra=limits)
        self.auth = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        self.secret = keys.gateway_secret.read_text().strip().encode()

    async def gateway(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = _body(query, variables)
        return _data(await self.client.post(self.gateway_url, content=body, headers=self.auth))

    async def direct(self, subgraph: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = _body(query, variables)
        headers = {**self.auth, SIGNATURE_HEADER: sign_body(self.secret, body)}
        return _data(await self.client.post(self.subgraph_urls[subgraph], content=body, headers=headers))


_SUBGRAPHS = ("members", "loyalty", "community")


def _body(query: str, variables: dict[str, Any] | None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


def _data(response: httpx.Response) -> dict[str, Any]:
    try:
        body: dict[str, Any] = response.json()
    except ValueError as exc:
        raise BenchRequestError(f"HTTP {response.status_code}: {response.text[:500]}") from exc
    if response.status_code != 200 or body.get("errors"):
        raise BenchRequestError(f"HTTP {response.status_code}: {json.dumps(body, ensure_ascii=False)[:1000]}")
    data: dict[str, Any] = body["data"]
    return data


def success(payload: dict[str, Any], what: str) -> dict[str, Any]:
    """The payload when it is a `…Success` union member; a refusal (an Error member) raises."""
    if not str(payload.get("__typename", "")).endswith("Success"):
        raise BenchRequestError(f"{what} refused: {json.dumps(payload, ensure_ascii=False)}")
    return payload
