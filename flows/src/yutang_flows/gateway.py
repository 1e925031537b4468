"""A small GraphQL client for the gateway, holding the flows' service credential (never database access)."""

from __future__ import annotations

import os
import uuid
from typing import Any

import httpx


class GatewayError(RuntimeError):
    """The gateway answered with top-level GraphQL errors or a non-200 status."""


def gateway_url() -> str:
    return os.environ.get("YUTANG_GATEWAY_URL", "http://127.0.0.1:4000/graphql")


def service_token() -> str:
    token = os.environ.get("YUTANG_SERVICE_TOKEN", "")
    if not token:
        raise GatewayError("YUTANG_SERVICE_TOKEN is not set: flows need a service credential for the gateway")
    return token


def execute(query: str, variables: dict[str, Any], *, request_id: str | None = None) -> dict[str, Any]:
    """Run one GraphQL operation through the gateway and return `data`; raise GatewayError on any error."""
    headers = {
        "authorization": f"Bearer {service_token()}",
        "x-request-id": request_id or f"flow-{uuid.uuid4().hex}",
    }
    response = httpx.post(gateway_url(), json={"query": query, "variables": variables}, headers=headers, timeout=30)
    if response.status_code != 200:
        raise GatewayError(f"gateway answered HTTP {response.status_code}: {response.text[:500]}")
    body: dict[str, Any] = response.json()
    if body.get("errors"):
        raise GatewayError(f"gateway errors: {body['errors']}")
    data: dict[str, Any] = body["data"]
    return data
