"""Order → points: the time from `recordOrder` through the gateway until `member { loyalty { pending } }` through
the gateway shows the order's points (members' outbox → relay → NATS → loyalty-earning → ledger). One order at a
time, polled every 2 ms, so the figure is the pipeline's latency rather than a queue's."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.api import Api, BenchRequestError, success

ORGANISATION = """mutation {
  createRegion(input: {code: "BR", name: "Bench region"}) { __typename }
  createStore(input: {code: "BS1", name: "Bench store", regionCode: "BR"}) { __typename } }"""
RECORD_ORDER = """mutation($i: RecordOrderInput!) { recordOrder(input: $i) {
  __typename ... on RecordOrderSuccess { order { id } } ... on Error { message } } }"""
PENDING = "query($id: UUID!) { member(id: $id) { loyalty { pending } } }"
POLL_SECONDS = 0.002
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Latencies:
    samples: list[float]  # seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


async def order_to_points(api: Api, members: Sequence[uuid.UUID], samples: int = 200) -> Latencies:
    """`samples` orders of ¥10 each (10 points), each timed from sending recordOrder to the points showing."""
    await api.direct("members", ORGANISATION)
    latencies: list[float] = []
    for n in range(samples):
        member = str(members[n % len(members)])
        before = (await api.gateway(PENDING, {"id": member}))["member"]["loyalty"]["pending"]
        order = {
            "externalId": f"bench-{uuid.uuid4().hex[:16]}",
            "memberId": member,
            "storeCode": "BS1",
            "channel": "IN_STORE",
            "paidFen": 1_000,
            "lines": [{"sku": "B1", "category": "bench", "quantity": 1, "unitPriceFen": 1_000}],
            "occurredAt": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
        }
        started = time.perf_counter()
        success((await api.gateway(RECORD_ORDER, {"i": order}))["recordOrder"], "recordOrder")
        while (await api.gateway(PENDING, {"id": member}))["member"]["loyalty"]["pending"] < before + 10:
            if time.perf_counter() - started > TIMEOUT_SECONDS:
                raise BenchRequestError(f"points of an order not visible after {TIMEOUT_SECONDS:.0f} s")
            await _sleep()
        latencies.append(time.perf_counter() - started)
    return Latencies(latencies)


def report(latencies: Latencies) -> None:
    s = latencies.samples
    print()
    print(f"order → points visible via gateway ({len(s)} orders, one at a time; recordOrder sent → pending shows)")
    print(
        f"  p50 {latencies.percentile(50):.1f} ms  p90 {latencies.percentile(90):.1f} ms  "
        f"p99 {latencies.percentile(99):.1f} ms  max {max(s) * 1000:.1f} ms  mean {statistics.mean(s) * 1000:.1f} ms"
    )


async def _sleep() -> None:
    await asyncio.sleep(POLL_SECONDS)
