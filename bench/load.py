"""A closed-loop load generator: `workers` coroutines call one operation back to back for a fixed time."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.cpu import CpuMeter, delta

# One call: gets a sequence number unique within the run (to vary ids and keys), answers how many units of work
# (requests or ledger writes) it did.
Call = Callable[[int], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Run:
    """One timed run of one scenario."""

    latencies: list[float]  # seconds per call
    elapsed: float  # seconds, first call started to last call done
    units: int  # requests, or ledger writes for the write scenarios
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process over the run
    # CPU seconds per process from the first call until the events the run caused were relayed and applied
    # (`settle`), and the seconds that waiting took after the last call; empty and 0 without `settle`
    cpu_settled: dict[str, float] = field(default_factory=dict)
    settle_s: float = 0.0

    @property
    def calls(self) -> int:
        return len(self.latencies)

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def p90_ms(self) -> float:
        return percentile(self.latencies, 90) * 1000

    @property
    def calls_per_s(self) -> float:
        return self.calls / self.elapsed

    @property
    def units_per_s(self) -> float:
        return self.units / self.elapsed

    def cpu_ms_per_unit(self, name: str) -> float:
        return self.cpu.get(name, 0.0) * 1000 / max(self.units, 1)

    def settled_cpu_ms_per_unit(self, name: str) -> float:
        return self.cpu_settled.get(name, 0.0) * 1000 / max(self.units, 1)


def percentile(samples: list[float], pct: int) -> float:
    if not samples:
        return float("nan")
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


async def drive(
    call: Call,
    *,
    workers: int,
    seconds: float,
    cpu: CpuMeter | None = None,
    settle: Callable[[], Awaitable[float]] | None = None,
) -> Run:
    """Run `call` from `workers` concurrent coroutines until `seconds` have passed; calls in flight at the deadline
    finish and count. CPU is read just before the first call and just after the last one; with `settle` (which
    waits for the work the calls left behind, see bench.settle) once more after it."""
    numbers = itertools.count()
    latencies: list[float] = []
    units = 0
    deadline = 0.0

    async def worker() -> None:
        nonlocal units
        while time.perf_counter() < deadline:
            number = next(numbers)
            started = time.perf_counter()
            done = await call(number)  # not `units += await …`: that reads `units` before awaiting
            latencies.append(time.perf_counter() - started)
            units += done

    before = cpu.snapshot() if cpu else {}
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(worker() for _ in range(workers)))
    elapsed = time.perf_counter() - started
    used = delta(before, cpu.snapshot()) if cpu else {}
    if settle is None:
        return Run(latencies=latencies, elapsed=elapsed, units=units, cpu=used)
    waited = await settle()
    settled = delta(before, cpu.snapshot()) if cpu else {}
    return Run(latencies=latencies, elapsed=elapsed, units=units, cpu=used, cpu_settled=settled, settle_s=waited)
