"""What the CPU per request allows: the highest ratio of two scenarios' rates a CPU-bound machine can give.

On a machine whose cores are all busy, a scenario's rate is at most cores ÷ (CPU per request over every process it
keeps busy), so the ratio of two scenarios' rates is at most the inverse ratio of their CPU per request, whatever
the code does with its waits. A single-threaded process (each uvicorn worker, the gateway's node, this load
generator) caps a rate at 1 ÷ its own CPU per request, busy cores or not. A measured ratio above the bound means
a run did not keep the cores busy (its busiest single process, or a shared machine's other load, set its rate).
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Mapping, Sequence

from bench.cpu import CLIENT
from bench.load import Run

STACK = ("gateway", "members", "loyalty", "community", "postgres")
SINGLE_THREADED = ("gateway", "members", "loyalty", "community", CLIENT)  # postgres has a process per connection


def cpu_ms(runs: Sequence[Run], names: Sequence[str], *, settled: bool = False) -> float:
    """Median over the rounds of the CPU ms per unit summed over `names`."""
    per = (run.settled_cpu_ms_per_unit if settled else run.cpu_ms_per_unit for run in runs)
    return statistics.median(sum(f(name) for name in names) for f in per) if runs else 0.0


def busiest(runs: Sequence[Run]) -> tuple[str, float]:
    """The single-threaded process with the most CPU per unit (median of the rounds) and that CPU in ms."""
    found = {name: statistics.median(run.cpu_ms_per_unit(name) for run in runs) for name in SINGLE_THREADED}
    name = max(found, key=lambda n: found[n])
    return name, found[name]


def _ratio(results: Mapping[str, list[Run]], value: str, baseline: str) -> float:
    return statistics.median(
        v.units_per_s / b.units_per_s for v, b in zip(results[value], results[baseline], strict=True)
    )


def bound_lines(
    results: Mapping[str, list[Run]], pairs: Sequence[tuple[str, str, str, tuple[str, ...]]], typename: str
) -> list[str]:
    """For each (label, value key, baseline key, processes): the CPU of both sides, the bound it sets on the ratio
    of their rates, the measured ratio, and the bound if `processes` (the subgraph doing the work) cost nothing;
    then each scenario's caps (all cores, busiest single process)."""
    cores = os.cpu_count() or 1
    every = (*STACK, CLIENT)
    lines = [
        f"{'ratio (CPU ms per request: value ÷ baseline)':<58} {'stack':>15} {'bound':>6} "
        f"{'+ load gen.':>15} {'bound':>6} {'measured':>9}"
    ]
    for label, value, baseline, free in pairs:
        for settled in (False, True) if results[value][0].cpu_settled else (False,):
            stack = cpu_ms(results[value], STACK, settled=settled), cpu_ms(results[baseline], STACK, settled=settled)
            full = cpu_ms(results[value], every, settled=settled), cpu_ms(results[baseline], every, settled=settled)
            measured = f" {_ratio(results, value, baseline):8.2f}×" if not settled else ""
            lines.append(
                f"{('  the same, events applied' if settled else label):<58} {stack[0]:7.2f}÷{stack[1]:<6.2f} "
                f"{stack[1] / stack[0]:5.2f}× {full[0]:7.2f}÷{full[1]:<6.2f} {full[1] / full[0]:5.2f}×{measured}"
            )
        if free:
            lines.append(_without(results, value, baseline, free))
        if typename in results and value == pairs[0][1]:
            lines.append(_gateway_alone(results, baseline, typename))
    lines.append(
        f"caps on a rate: {cores} cores ÷ CPU of stack and load generator; 1 ÷ CPU of the busiest single process"
    )
    for _, value, baseline, _free in pairs:
        for key in (value, baseline):
            name, ms = busiest(results[key])
            total = cpu_ms(results[key], every)
            lines.append(
                f"  {key:<10} ≤ {cores * 1000 / total:8.0f}/s (all cores)  ≤ {1000 / ms:8.0f}/s ({name} at {ms:.2f} ms)"
                f"  measured {statistics.median(r.units_per_s for r in results[key]):8.0f}/s"
            )
    return lines


def _gateway_alone(results: Mapping[str, list[Run]], baseline: str, typename: str) -> str:
    """The bound if every hop but the gateway's own minimum (`{ __typename }`) cost nothing on top of `baseline`."""
    gateway = cpu_ms(results[typename], ("gateway",))
    direct, full = cpu_ms(results[baseline], STACK), cpu_ms(results[baseline], (*STACK, CLIENT))
    return (
        f"{'  the same if the gateway cost only its { __typename } CPU':<58} "
        f"{direct + gateway:7.2f}÷{direct:<6.2f} {direct / (direct + gateway):5.2f}× "
        f"{full + gateway:7.2f}÷{full:<6.2f} {full / (full + gateway):5.2f}×"
    )


def _without(results: Mapping[str, list[Run]], value: str, baseline: str, free: tuple[str, ...]) -> str:
    """The bound if `free` cost no CPU at all and every other process what it measured: what the rest of the path
    (the gateway, PostgreSQL, the events, the load generator) allows whatever those subgraphs do."""
    rest = [name for name in STACK if name not in free]
    stack = cpu_ms(results[value], rest), cpu_ms(results[baseline], STACK)
    full = cpu_ms(results[value], (*rest, CLIENT)), cpu_ms(results[baseline], (*STACK, CLIENT))
    label = f"  the same if {' and '.join(free)} cost nothing"
    return (
        f"{label:<58} {stack[0]:7.2f}÷{stack[1]:<6.2f} {stack[1] / stack[0]:5.2f}× "
        f"{full[0]:7.2f}÷{full[1]:<6.2f} {full[1] / full[0]:5.2f}×"
    )
