"""Helpers the tests share: tokens, a signed GraphQL client for one subgraph app, small factories."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from yutang_shared.auth import SIGNATURE_HEADER, Role, issue_token, sign_body


@dataclass(frozen=True)
class Tokens:
    """Development tokens signed with the test session's key pair."""

    keys: Path

    def _issue(self, role: Role, subject: str, scopes: tuple[str, ...] = (), **claims: Any) -> str:
        return issue_token(
            (self.keys / "jwt-private.pem").read_text(), subject=subject, role=role, scopes=scopes, **claims
        )

    def ops(self) -> str:
        return self._issue(Role.OPS, "ops-test")

    def staff(self) -> str:
        return self._issue(Role.STAFF, "staff-test")

    def staff_in(
        self,
        *roles: str,
        stores: tuple[str, ...] = (),
        regions: tuple[str, ...] = (),
        subject: str = "staff-test",
    ) -> str:
        """A staff token with staff roles (guide, store_manager, supervisor, operations, content_editor) and the
        store and region codes they work for, as identity mints them from the staff record."""
        return self._issue(Role.STAFF, subject, staff_roles=roles, stores=stores, regions=regions)

    def partner_for(self, *scopes: str, stores: tuple[str, ...] = (), client_id: str = "partner-test") -> str:
        """A partner token limited to `stores` (none: every store), issued to an OAuth2 client."""
        return self._issue(Role.PARTNER, client_id, scopes, stores=stores, client_id=client_id)

    def member(self, member_id: uuid.UUID | str) -> str:
        return self._issue(Role.MEMBER, str(member_id))

    def partner(self, *scopes: str) -> str:
        return self._issue(Role.PARTNER, "partner-test", scopes)

    def service(self, *scopes: str) -> str:
        return self._issue(Role.SERVICE, "service-test", scopes)

    @property
    def secret(self) -> bytes:
        return (self.keys / "gateway-secret").read_text().strip().encode()


class SubgraphClient:
    """Posts GraphQL to one subgraph app in-process, signed as the gateway would sign it."""

    def __init__(self, client: httpx.AsyncClient, tokens: Tokens) -> None:
        self.client = client
        self.tokens = tokens

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None, sign: bool = True
    ) -> httpx.Response:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        headers = {"content-type": "application/json"}
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        if sign:
            headers[SIGNATURE_HEADER] = sign_body(self.tokens.secret, body)
        return await self.client.post("/graphql", content=body, headers=headers)

    async def __call__(self, query: str, variables: dict[str, Any] | None = None, *, token: str) -> dict[str, Any]:
        """The JSON answer of a call that must reach GraphQL (HTTP 200)."""
        response = await self.post(query, variables, token=token)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result
