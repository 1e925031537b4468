"""Process and port inspection (psutil) for the supervisor: who holds a port, is a recorded pid still ours."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket

import psutil  # type: ignore[import-untyped]

__all__ = [
    "PortInUseError",
    "create_time",
    "describe",
    "group_alive",
    "group_members",
    "is_same_process",
    "port_holder",
    "port_in_use",
    "require_free_port",
    "signal_group",
]


class PortInUseError(RuntimeError):
    """A port the stack needs is taken; the message says by which process."""


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing can listen on `host:port` right now (TIME_WAIT leftovers don't count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def port_holder(port: int) -> int | None:
    """The pid listening on `port`, when the system lets us see it."""
    try:
        connections = psutil.net_connections(kind="inet")
    except psutil.AccessDenied:
        return None
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return int(conn.pid)
    return None


def require_free_port(port: int, owner: str) -> None:
    """Raise PortInUseError naming the process that holds `port`, so the developer knows what to stop."""
    if not port_in_use(port):
        return
    pid = port_holder(port)
    if pid is None:
        raise PortInUseError(
            f"port {port} (for {owner}) is already in use by another process; "
            f"`ss -ltnp 'sport = :{port}'` shows which. Stop it, or set another port."
        )
    raise PortInUseError(
        f"port {port} (for {owner}) is already in use by pid {pid}: {describe(pid)}\n"
        f"  probably left over from an earlier run; stop it with `kill {pid}` and try again."
    )


def describe(pid: int) -> str:
    """`pid`'s command line, shortened, for messages."""
    try:
        cmdline = " ".join(psutil.Process(pid).cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return "(process details unavailable)"
    return cmdline if len(cmdline) <= 160 else cmdline[:157] + "…"


def create_time(pid: int) -> float | None:
    """When `pid` started (seconds since the epoch); None when it is gone."""
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def is_same_process(pid: int, started: float) -> bool:
    """True when `pid` is alive and is the process that started at `started` (not a recycled pid)."""
    actual = create_time(pid)
    return actual is not None and abs(actual - started) < 1.0


def group_members(pgid: int, *, since: float = 0.0) -> list[int]:
    """Live (non-zombie) processes of process group `pgid` started at or after `since`."""
    members: list[int] = []
    for process in psutil.process_iter(["pid", "status", "create_time"]):
        info = process.info
        if info["status"] == psutil.STATUS_ZOMBIE or (info["create_time"] or 0.0) < since - 1.0:
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(info["pid"]) == pgid:
                members.append(int(info["pid"]))
    return members


def group_alive(pgid: int) -> bool:
    """True while any non-zombie process remains in group `pgid`."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return bool(group_members(pgid))


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Send `sig` to every process of group `pgid`; a group that is already gone is fine."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
