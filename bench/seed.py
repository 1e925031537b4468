"""Data for the benchmarks: members, groups, memberships and points, so that the federated member query does
real work in all three subgraphs. Written straight to the subgraphs (signed like the gateway): seeding is not
measured, and the gateway would only make it slower."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from bench.api import ADJUST_BATCH, CREATE_GROUP, JOIN_GROUP, REGISTER, Api, success

T = TypeVar("T")
R = TypeVar("R")

MEMBERS = 320
GROUPS = 16
GROUPS_PER_MEMBER = 2
WELCOME_POINTS = 500
_WORKERS = 16


async def in_parallel(items: Sequence[T], call: Callable[[T], Awaitable[R]], workers: int = _WORKERS) -> list[R]:
    """`call` on every item, at most `workers` at a time; results in the items' order."""
    gate = asyncio.Semaphore(workers)

    async def one(item: T) -> R:
        async with gate:
            return await call(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


async def seed(api: Api, run: str) -> list[uuid.UUID]:
    """Register MEMBERS members, open GROUPS groups, put each member in GROUPS_PER_MEMBER of them and give each
    WELCOME_POINTS points; returns the member ids."""
    started = time.perf_counter()

    async def register(i: int) -> uuid.UUID:
        variables = {"i": {"mobile": f"139{i:08d}", "nickname": f"鱼{i}", "sourceChannel": "STORE_QR"}}
        payload = success((await api.direct("members", REGISTER, variables))["registerMember"], "registerMember")
        return uuid.UUID(payload["member"]["id"])

    async def create_group(i: int) -> uuid.UUID:
        variables = {"i": {"type": "BASIC", "scopeKind": "COMMUNITY", "scopeName": f"翠湖小区{i:02d}"}}
        payload = success((await api.direct("community", CREATE_GROUP, variables))["createGroup"], "createGroup")
        return uuid.UUID(payload["group"]["id"])

    members = await in_parallel(range(MEMBERS), register)
    await _directories_caught_up(api)
    groups = await in_parallel(range(GROUPS), create_group)

    async def join(pair: tuple[uuid.UUID, uuid.UUID]) -> None:
        group, member = pair
        success(
            (await api.direct("community", JOIN_GROUP, {"g": str(group), "m": str(member)}))["joinGroup"], "joinGroup"
        )

    pairs = [
        (groups[(i + 5 * k) % GROUPS], member) for i, member in enumerate(members) for k in range(GROUPS_PER_MEMBER)
    ]
    await in_parallel(pairs, join)

    async def welcome(first: int) -> None:
        inputs = [
            {
                "memberId": str(member),
                "points": WELCOME_POINTS,
                "reason": "开卡礼",
                "idempotencyKey": f"welcome-{run}-{member}",
            }
            for member in members[first : first + 100]
        ]
        for payload in (await api.direct("loyalty", ADJUST_BATCH, {"i": inputs}))["adjustPointsBatch"]:
            success(payload, "adjustPointsBatch")

    await in_parallel(range(0, MEMBERS, 100), welcome, workers=4)
    print(
        f"seeded {MEMBERS} members, {GROUPS} groups, {MEMBERS * GROUPS_PER_MEMBER} memberships and "
        f"{WELCOME_POINTS} points each straight to the subgraphs in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return members


async def _directories_caught_up(api: Api, within: float = 60.0) -> None:
    """Wait until loyalty and community applied every member.registered (their /health shows no consumer lag and
    members' outbox is empty): they refuse points and groups for members they have not heard of yet."""
    deadline = time.perf_counter() + within
    while time.perf_counter() < deadline:
        health = {
            name: (await api.client.get(url.removesuffix("/graphql") + "/health")).json()
            for name, url in api.subgraph_urls.items()
        }
        consumers = [c for h in health.values() for c in h.get("events", {}).get("consumers", {}).values()]
        if (
            not health["members"].get("outbox", {}).get("unpublished")
            and len(consumers) >= 2
            and all(c.get("num_pending") == 0 and c.get("num_ack_pending") == 0 for c in consumers)
        ):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the member directories did not catch up within {within:.0f} s")
