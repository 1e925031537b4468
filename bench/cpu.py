"""CPU time of the stack's processes (and their children), read before and after each measurement."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Mapping

import psutil  # type: ignore[import-untyped]

CLIENT = "bench"  # this process: the load generator and the raw baselines' driver, without the log pumps
PUMPS = "logs"  # this process's threads that copy the stack's output to its log file (the Supervisor's pumps)


def _own(process: psutil.Process) -> float:
    """User + system time of one process, including the children it has already waited for."""
    times = process.cpu_times()
    return float(times.user + times.system + times.children_user + times.children_system)


def _tree(process: psutil.Process) -> float:
    """CPU seconds of a process and every live descendant; exited descendants are in their parent's
    children_* times once reaped (PostgreSQL backends of closed connections, for example)."""
    total = _own(process)
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            total += _own(child)
    return total


class CpuMeter:
    """Snapshots of CPU seconds per named process tree; `CLIENT` counts this process alone (its children are
    the stack)."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.me = psutil.Process(os.getpid())

    @property
    def names(self) -> list[str]:
        return [*self.processes, CLIENT, PUMPS]

    def snapshot(self) -> dict[str, float]:
        seconds = {name: _tree(process) for name, process in self.processes.items()}
        times = self.me.cpu_times()
        pump_ids = {t.native_id for t in threading.enumerate() if t.name.startswith("pump-")}
        pumps = sum(t.user_time + t.system_time for t in self.me.threads() if t.id in pump_ids)
        seconds[PUMPS] = float(pumps)
        seconds[CLIENT] = float(times.user + times.system) - seconds[PUMPS]
        return seconds


def delta(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    return {name: max(0.0, after[name] - before[name]) for name in before}
