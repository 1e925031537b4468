"""A running stack of subgraph processes and Hive Gateway, and how to call it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from yutang_dev.stack import Ports


@dataclass(frozen=True)
class Stack:
    """A running stack and how to call it."""

    ports: Ports
    logs: Path

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway}/graphql"

    def subgraph(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports.subgraph(name)}/graphql"

    def query(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None, **headers: str
    ) -> httpx.Response:
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        return httpx.post(
            self.gateway, json={"query": query, "variables": variables or {}}, headers=headers, timeout=30
        )
