"""The measurements, side by side in one run, each beside a baseline doing the same work:

P1  the federated member query through the gateway (members + loyalty + community) beside the members-only query
    straight to the members subgraph (signed like the gateway), with 1 and with 16 concurrent clients; and
    `{ __typename }` through the gateway, which no subgraph sees: the gateway's own cost.
P2a ledger writes through the gateway (adjustPoints, one per request, 16 clients; adjustPointsBatch, 100 per
    request, 4 clients) beside the same transactions in raw SQL through asyncpg on the same database.
P7  order → points: recordOrder through the gateway until the order's pending points show through the gateway
    (bench/points.py), p50 and p99.
Check-in: checkIn through the gateway with 16 clients beside a raw asyncpg loop doing the same writes
    (bench/checkin.py); `python -m bench --only checkin` runs it alone.

Every scenario runs once to warm up, then ROUNDS times; scenarios are interleaved within a round so that drift
(the ledger growing, autovacuum, a noisy neighbour) touches a scenario and its baseline alike. Figures are medians
over the rounds; ratios are the median of each round's ratio, with the lowest and highest round beside it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvloop

from bench import checkin
from bench.api import (
    ADJUST,
    ADJUST_BATCH,
    FEDERATED,
    MEMBER_ONLY,
    SUBJECT,
    TYPENAME,
    Api,
    BenchRequestError,
    success,
)
from bench.bound import bound_lines
from bench.cpu import CLIENT, PUMPS, CpuMeter
from bench.graduation import measure_graduation
from bench.ingest import measure_gateway_ingest, measure_import
from bench.load import Call, Run, drive
from bench.points import order_to_points
from bench.points import report as points_report
from bench.raw import ACTOR, RawLedger, asyncpg_dsn
from bench.seed import seed
from bench.settle import Settle
from yutang_dev.keys import KeyPaths
from yutang_dev.stack import Ports


@dataclass(frozen=True, slots=True)
class Settings:
    rounds: int = 3
    seconds: float = 2.5  # per scenario per round
    warmup_seconds: float = 0.7
    many: int = 16  # concurrent clients of the "16 clients" scenarios and of adjustPoints
    batch_clients: int = 3  # concurrent adjustPointsBatch requests (and raw batch transactions)
    batch_size: int = 100
    only_points: bool = False  # run only P7 (order → points)
    only_hot_path: bool = False  # run only P1 and P2a (reads and ledger writes), no P7, ingest or import
    only: str | None = None  # run one measurement alone (`checkin`, `insights`)
    import_members: int = 20_000  # the bulk import's generated files (0: skip the import measurement)
    import_orders: int = 200_000
    graduation_members: int = 10_000  # VIP graduation bench (0: skip; 100_000 for the size)
    only_graduation: bool = False  # run only the VIP graduation bench
    insights_members: int = 20_000  # P9's generated brand (0: skip P9); 1 000 000 / 10 000 000 for the full case
    insights_orders: int = 200_000


@dataclass(frozen=True, slots=True)
class Scenario:
    key: str
    label: str
    workers: int
    call: Call
    unit: str = "req"  # what `Run.units` counts: requests, or ledger writes
    events: bool = False  # its calls record events: wait after each run until they are relayed and applied


# The processes whose CPU is shown, in this order.
PROCESSES = ("gateway", "members", "loyalty", "community", "postgres", CLIENT, PUMPS)


async def measure(
    *, ports: Ports, keys: KeyPaths, pids: Mapping[str, int], database_url: str, settings: Settings
) -> None:
    run_id = uuid.uuid4().hex[:8]
    cpu = CpuMeter(pids)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        api = Api(ports, keys, client)
        if settings.only_graduation:
            await graduation_report(ports, keys, database_url, settings)
            return
        members = await seed(api, run_id)
        random.Random(7).shuffle(members)
        if settings.only_points:
            points_report(await order_to_points(api, members))
            return
        if settings.only == "checkin":
            await measure_checkin(api, members, database_url, settings, cpu, Settle(ports, client))
            return
        results: dict[str, list[Run]] = {}
        reads = read_scenarios(api, members, settings)
        await rounds(reads, settings, cpu, results)
        settle = Settle(ports, client)
        async with RawLedger(asyncpg_dsn(database_url), size=settings.many) as raw:
            writes = write_scenarios(api, raw, members, settings, run_id)
            await rounds(writes, settings, cpu, results, settle)
            await check_written(raw, results)
        if settings.only_hot_path:
            report(results, [*reads, *writes], settings)
            return
        latencies = await order_to_points(api, members)
        ingest = await measure_gateway_ingest(api, database_url, [str(m) for m in members])
    report(results, [*reads, *writes], settings)
    points_report(latencies)
    await measure_checkin(api, members, database_url, settings, cpu, Settle(ports, client))
    print("\norder ingest: recordOrders ×100 via the gateway beside raw batched inserts of the same rows")
    for line in ingest:
        print(f"  {line}")
    if settings.import_members:
        print(f"\nbulk import of {settings.import_members} members and {settings.import_orders} orders beside raw COPY")
        with tempfile.TemporaryDirectory(prefix="yb-import-") as work:
            lines = await measure_import(
                database_url, Path(work), members=settings.import_members, orders=settings.import_orders
            )
        for line in lines:
            print(f"  {line}")
    if settings.graduation_members:
        await graduation_report(ports, keys, database_url, settings)


async def graduation_report(ports: Ports, keys: KeyPaths, database_url: str, settings: Settings) -> None:
    print("\nVIP graduation: the vip-graduation flow beside the same gateway calls without Prefect", flush=True)
    lines = await measure_graduation(
        ports=ports, keys=keys, dsn=asyncpg_dsn(database_url), members=settings.graduation_members
    )
    for line in lines:
        print(f"  {line}")


async def measure_checkin(
    api: Api, members: Sequence[uuid.UUID], database_url: str, settings: Settings, cpu: CpuMeter, settle: Settle
) -> None:
    """Check-in throughput: checkIn through the gateway beside the raw SQL loop, `many` clients each."""
    print(f"\ncheck-in: checkIn via the gateway beside a raw SQL loop doing the same writes, {settings.many} clients")
    results: dict[str, list[Run]] = {}
    async with RawLedger(asyncpg_dsn(database_url), size=settings.many) as raw:
        found = checkin.scenarios(api, raw, members, settings.many)
        await rounds(
            [Scenario(k, label, settings.many, call, "check-in", events=True) for k, label, call in found],
            settings,
            cpu,
            results,
            settle,
        )
    for line in checkin.report(
        [r.units_per_s for r in results["checkin"]], [r.units_per_s for r in results["rawcheckin"]]
    ):
        print(f"  {line}")


async def check_written(raw: RawLedger, results: Mapping[str, list[Run]]) -> None:
    """Every write counted was committed: the ledger holds at least as many entries per actor (warm-ups add more)."""
    for actor, keys in ((SUBJECT, ("adj", "batch")), (ACTOR, ("rawadj", "rawbatch"))):
        counted = sum(run.units for key in keys for run in results[key])
        if (found := await raw.entries_by(actor)) < counted:
            raise BenchRequestError(f"{actor}: {counted} writes counted but only {found} ledger entries")


def read_scenarios(api: Api, members: Sequence[uuid.UUID], settings: Settings) -> list[Scenario]:
    ids = [str(member) for member in members]

    async def federated(n: int) -> int:
        member = (await api.gateway(FEDERATED, {"id": ids[n % len(ids)]}))["member"]
        if member is None or not member["groups"] or member["loyalty"]["balance"] <= 0:
            raise BenchRequestError(f"the federated query found too little: {member}")
        return 1

    async def direct(n: int) -> int:
        if (await api.direct("members", MEMBER_ONLY, {"id": ids[n % len(ids)]}))["member"] is None:
            raise BenchRequestError("the members subgraph did not find a seeded member")
        return 1

    async def typename(n: int) -> int:
        await api.gateway(TYPENAME)
        return 1

    many = settings.many
    return [
        Scenario("fed1", "federated member query via gateway, 1 client", 1, federated),
        Scenario("dir1", "members-only query direct to members, 1 client", 1, direct),
        Scenario("tn1", "{ __typename } via gateway, 1 client", 1, typename),
        Scenario("fed16", f"federated member query via gateway, {many} clients", many, federated),
        Scenario("dir16", f"members-only query direct to members, {many} clients", many, direct),
        Scenario("tn16", f"{{ __typename }} via gateway, {many} clients", many, typename),
    ]


def write_scenarios(
    api: Api, raw: RawLedger, members: Sequence[uuid.UUID], settings: Settings, run_id: str
) -> list[Scenario]:
    """Writes of 1 point each, spread over every seeded account (consecutive writes, and the 100 members of
    consecutive batches, are different accounts), under idempotency keys unique to this run."""
    serial = itertools.count()  # shared by all write scenarios and rounds: every key is new
    size = settings.batch_size

    def batch_members() -> list[uuid.UUID]:
        first = next(serial) * size
        return [members[(first + j) % len(members)] for j in range(size)]

    async def gateway_single(_: int) -> int:
        k = next(serial)
        item = {
            "memberId": str(members[k % len(members)]),
            "points": 1,
            "reason": "bench",
            "idempotencyKey": f"g-{run_id}-{k}",
        }
        success((await api.gateway(ADJUST, {"i": item}))["adjustPoints"], "adjustPoints")
        return 1

    async def raw_single(_: int) -> int:
        k = next(serial)
        return await raw.adjust(members[k % len(members)], 1, f"r-{run_id}-{k}")

    async def gateway_batch(_: int) -> int:
        tag = f"gb-{run_id}-{next(serial)}"
        items = [
            {"memberId": str(member), "points": 1, "reason": "bench", "idempotencyKey": f"{tag}-{j}"}
            for j, member in enumerate(batch_members())
        ]
        for payload in (await api.gateway(ADJUST_BATCH, {"i": items}))["adjustPointsBatch"]:
            success(payload, "adjustPointsBatch")
        return len(items)

    async def raw_batch(_: int) -> int:
        tag = f"rb-{run_id}-{next(serial)}"
        return await raw.adjust_batch([(member, 1, f"{tag}-{j}") for j, member in enumerate(batch_members())])

    many, few = settings.many, settings.batch_clients
    return [
        Scenario("adj", f"adjustPoints via gateway, {many} clients", many, gateway_single, "write", events=True),
        Scenario("rawadj", f"raw asyncpg transaction, {many} connections", many, raw_single, "write", events=True),
        Scenario(
            "batch", f"adjustPointsBatch ×{size} via gateway, {few} clients", few, gateway_batch, "write", events=True
        ),
        Scenario("rawbatch", f"raw batched SQL ×{size}, {few} connections", few, raw_batch, "write", events=True),
    ]


async def rounds(
    scenarios: Sequence[Scenario],
    settings: Settings,
    cpu: CpuMeter,
    results: dict[str, list[Run]],
    settle: Settle | None = None,
) -> None:
    """Warm every scenario up, then run the rounds; after a scenario whose calls record events (and after the
    warm-ups) wait until those events are relayed and applied, so that no run works off another's backlog."""
    for scenario in scenarios:
        await drive(scenario.call, workers=scenario.workers, seconds=settings.warmup_seconds)
    if settle is not None:
        await settle()
    for number in range(1, settings.rounds + 1):
        for scenario in scenarios:
            waits = settle if scenario.events else None
            run = await drive(scenario.call, workers=scenario.workers, seconds=settings.seconds, cpu=cpu, settle=waits)
            results.setdefault(scenario.key, []).append(run)
            settled = f", events applied {run.settle_s:.1f} s later" if waits else ""
            print(
                f"  round {number}  {scenario.label:<56} p50 {run.p50_ms:7.1f} ms  p90 {run.p90_ms:7.1f} ms  "
                f"{run.units_per_s:8.0f} {scenario.unit}/s  ({run.calls} calls in {run.elapsed:.1f} s, "
                f"slowest {max(run.latencies) * 1000:.0f} ms{settled})",
                flush=True,
            )


# ----------------------------------------------------------------------------------------------------- report


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def _spread(values: Sequence[float]) -> str:
    """Lowest to highest round, and that range as a share of the median."""
    mid = _median(values)
    share = (max(values) - min(values)) / mid * 100 if mid else 0.0
    return f"±{share / 2:.0f}%"


@dataclass(frozen=True, slots=True)
class Comparison:
    metric: str
    value: list[float]  # per round
    baseline: list[float]  # per round
    unit: str
    ratio: list[float]  # per round
    goal: str = "–"
    passed: bool | None = None


def _per_round(a: list[Run], b: list[Run], f: Callable[[Run, Run], float]) -> list[float]:
    return [f(x, y) for x, y in zip(a, b, strict=True)]


def comparisons(results: Mapping[str, list[Run]], settings: Settings) -> list[Comparison]:
    r = results
    many = settings.many
    added1 = _per_round(r["fed1"], r["dir1"], lambda f, d: f.p50_ms - d.p50_ms)
    added16 = _per_round(r["fed16"], r["dir16"], lambda f, d: f.p50_ms - d.p50_ms)
    tput = _per_round(r["fed16"], r["dir16"], lambda f, d: f.units_per_s / d.units_per_s)
    adj = _per_round(r["adj"], r["rawadj"], lambda g, w: g.units_per_s / w.units_per_s)
    batch = _per_round(r["batch"], r["rawbatch"], lambda g, w: g.units_per_s / w.units_per_s)

    def p50(key: str) -> list[float]:
        return [run.p50_ms for run in r[key]]

    def rate(key: str) -> list[float]:
        return [run.units_per_s for run in r[key]]

    def p50_ratio(a: str, b: str) -> list[float]:
        return _per_round(r[a], r[b], lambda x, y: x.p50_ms / y.p50_ms)

    return [
        Comparison(
            "gateway adds at p50, 1 client (federated − direct)",
            added1,
            p50("dir1"),
            "ms",
            p50_ratio("fed1", "dir1"),
            "≤ 3 ms",
            _median(added1) <= 3,
        ),
        Comparison(
            f"gateway adds at p50, {many} clients (federated − direct)",
            added16,
            p50("dir16"),
            "ms",
            p50_ratio("fed16", "dir16"),
        ),
        Comparison(
            f"federated req/s, {many} clients ÷ direct members req/s",
            rate("fed16"),
            rate("dir16"),
            "/s",
            tput,
            "≥ 0.8×",
            _median(tput) >= 0.8,
        ),
        Comparison("{ __typename } via gateway p50, 1 client", p50("tn1"), p50("dir1"), "ms", p50_ratio("tn1", "dir1")),
        Comparison(
            f"{{ __typename }} via gateway req/s, {many} clients",
            rate("tn16"),
            rate("dir16"),
            "/s",
            _per_round(r["tn16"], r["dir16"], lambda t, d: t.units_per_s / d.units_per_s),
        ),
        Comparison(
            f"adjustPoints writes/s, {many} clients ÷ raw",
            rate("adj"),
            rate("rawadj"),
            "/s",
            adj,
            "≥ 0.2×",
            _median(adj) >= 0.2,
        ),
        Comparison(
            f"adjustPointsBatch ×{settings.batch_size} writes/s, {settings.batch_clients} clients ÷ raw",
            rate("batch"),
            rate("rawbatch"),
            "/s",
            batch,
            "≥ 0.5×",
            _median(batch) >= 0.5,
        ),
    ]


def report(results: Mapping[str, list[Run]], scenarios: Sequence[Scenario], settings: Settings) -> None:
    print()
    print(f"medians of {settings.rounds} rounds of {settings.seconds:g} s (spread: half the range between rounds)")
    print(f"  {'scenario':<56} {'p50 ms':>8} {'p90 ms':>8} {'rate':>14} {'spread':>7}")
    for s in scenarios:
        runs = results[s.key]
        rates = [run.units_per_s for run in runs]
        print(
            f"  {s.label:<56} {_median([x.p50_ms for x in runs]):8.1f} {_median([x.p90_ms for x in runs]):8.1f} "
            f"{_median(rates):9.0f} {s.unit + '/s':<4} {_spread(rates):>7}"
        )
    print()
    print("CPU ms per request (per write for the ledger scenarios), median of the rounds")
    print(f"  {'scenario':<56}" + "".join(f"{name:>10}" for name in PROCESSES) + f"{'total':>10}")
    for s in scenarios:
        runs = results[s.key]
        per = {name: _median([run.cpu_ms_per_unit(name) for run in runs]) for name in PROCESSES}
        cells = "".join(f"{per[name]:10.3f}" for name in PROCESSES)
        print(f"  {s.label:<56}{cells}{sum(per.values()):10.3f}")
    print(f"  ({CLIENT}: this load generator / raw-SQL driver; {PUMPS}: its threads copying the stack's logs)")
    _settled_cpu(results, [s for s in scenarios if s.events])
    print()
    print("CPU bound: with every core busy a rate is at most cores ÷ CPU per request, so a ratio of two rates is at")
    print("most the inverse ratio of their CPU (bench/bound.py; medians of the rounds)")
    pairs = [
        (f"federated ÷ direct req/s, {settings.many} clients", "fed16", "dir16", ("loyalty", "community")),
        (f"adjustPoints ÷ raw writes/s, {settings.many} clients", "adj", "rawadj", ("loyalty",)),
        (f"adjustPointsBatch ×{settings.batch_size} ÷ raw batched writes/s", "batch", "rawbatch", ("loyalty",)),
    ]
    for line in bound_lines(results, pairs, typename="tn16"):
        print(f"  {line}")
    print()
    print("summary: each metric, its baseline, the ratio (median of the rounds' ratios), the rounds' range, the goal")
    print(f"  {'metric':<58} {'value':>10} {'baseline':>10} {'ratio':>7} {'rounds':>15}  goal")
    for c in comparisons(results, settings):
        mark = "" if c.passed is None else (" ✓" if c.passed else " ✗")
        fmt = "{:10.1f}" if c.unit == "ms" else "{:10.0f}"
        value, baseline = fmt.format(_median(c.value)), fmt.format(_median(c.baseline))
        judged = (
            f"{min(c.value):.1f}–{max(c.value):.1f} ms" if c.unit == "ms" else f"{min(c.ratio):.2f}–{max(c.ratio):.2f}×"
        )
        print(f"  {c.metric:<58} {value} {baseline} {_median(c.ratio):6.2f}× {judged:>15}  {c.goal}{mark}")
    print("  (value and baseline: ms for latencies, per second for rates; rounds: lowest–highest round of the value")
    print("   for latency rows, of the ratio for rate rows)")


def _settled_cpu(results: Mapping[str, list[Run]], scenarios: Sequence[Scenario]) -> None:
    """CPU per write up to the moment its events were relayed (loyalty) and applied (members), median of rounds."""
    if not scenarios:
        return
    print()
    print("CPU ms per write including the events it caused (points.balance-changed relayed and applied by members)")
    print(f"  {'scenario':<56}" + "".join(f"{name:>10}" for name in PROCESSES) + f"{'total':>10}{'waited':>9}")
    for s in scenarios:
        runs = results[s.key]
        per = {name: _median([run.settled_cpu_ms_per_unit(name) for run in runs]) for name in PROCESSES}
        cells = "".join(f"{per[name]:10.3f}" for name in PROCESSES)
        waited = _median([run.settle_s for run in runs])
        print(f"  {s.label:<56}{cells}{sum(per.values()):10.3f}{waited:8.1f}s")
    print("  (waited: after the run's last call, until no event was left to relay or apply)")


def header(settings: Settings) -> str:
    cpus = os.cpu_count()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"yutang bench {when}: {platform.machine()} {cpus} CPUs, Python {platform.python_version()}; "
        f"{settings.rounds} rounds × {settings.seconds:g} s per scenario; {_load()}"
    )


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


def run_all(
    *, ports: Ports, keys: KeyPaths, pids: Mapping[str, int], database_url: str, settings: Settings | None = None
) -> None:
    settings = settings or Settings()
    print(header(settings), flush=True)
    started = time.perf_counter()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(measure(ports=ports, keys=keys, pids=pids, database_url=database_url, settings=settings))
    print(f"measured in {time.perf_counter() - started:.0f} s; {_load()}")
