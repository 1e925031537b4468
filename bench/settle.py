"""Waiting for the events a scenario caused: every outbox relayed and every consumer caught up.

A ledger write records a `points.balance-changed` event in loyalty's outbox; loyalty's relay publishes it to NATS
and members' consumer applies it in a transaction of its own. The raw baselines write the same outbox rows, so
they cause the same work, but faster than the consumer applies it: without waiting, a baseline's backlog is
worked off during the next scenarios and charged to them (CPU, and cores taken from their requests). The bench
waits after every write scenario's round until the pipeline is empty, and reports the CPU up to then apart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import httpx

from yutang_dev.stack import Ports

SERVICES = ("members", "loyalty", "community")
POLL_SECONDS = 0.2
TIMEOUT_SECONDS = 300.0


class Settle:
    """Polls the subgraphs' /health until no outbox holds an unpublished event and no consumer has one pending."""

    def __init__(self, ports: Ports, client: httpx.AsyncClient, timeout: float = TIMEOUT_SECONDS) -> None:
        self.urls = [f"http://127.0.0.1:{ports.subgraph(name)}/health" for name in SERVICES]
        self.client = client
        self.timeout = timeout

    async def backlog(self) -> int:
        """Events not yet relayed plus events not yet applied (or acknowledged), over the three services."""
        reports = await asyncio.gather(*(self.client.get(url) for url in self.urls))
        return sum(_waiting(report.json()) for report in reports)

    async def __call__(self) -> float:
        """Wait until nothing is waiting; the seconds waited. Raises TimeoutError past `timeout`."""
        started = time.perf_counter()
        while (waiting := await self.backlog()) > 0:
            if time.perf_counter() - started > self.timeout:
                raise TimeoutError(f"{waiting} events still waiting after {self.timeout:.0f} s")
            await asyncio.sleep(POLL_SECONDS)
        return time.perf_counter() - started


def _waiting(report: Mapping[str, Any]) -> int:
    outbox = int(report.get("outbox", {}).get("unpublished", 0))
    consumers = report.get("events", {}).get("consumers", {})
    lag = sum(int(c.get("num_pending", 0)) + int(c.get("num_ack_pending", 0)) for c in consumers.values())
    return outbox + lag
