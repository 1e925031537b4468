"""A small process supervisor: start children in their own process groups, prefix their output, check health,
stop them all (SIGTERM, then SIGKILL), and clean up after a supervisor that was itself killed.

Used by `make run` and by the end-to-end tests.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TextIO

import httpx

from yutang_dev import procs

__all__ = ["ChildFailedError", "ProcessSpec", "StackError", "Supervisor", "reap_leftovers"]

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.2
_TAIL_LINES = 25


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """One child process.

    `env` is the child's complete environment. `health_url` answers 2xx once the child is ready; without one the
    child counts as healthy once it has run for `settle_seconds`. `port` is checked to be free before anything
    starts. `after` names children that must be healthy before this one starts.
    """

    name: str
    argv: Sequence[str]
    cwd: Path
    env: Mapping[str, str]
    health_url: str | None = None
    port: int | None = None
    after: tuple[str, ...] = ()
    settle_seconds: float = 5.0


class StackError(RuntimeError):
    """The stack could not start or stay up; the message says which child and shows its last lines."""


class ChildFailedError(StackError):
    """A child exited (or never became healthy); `name` says which."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass(eq=False)
class _Child:
    spec: ProcessSpec
    process: subprocess.Popen[bytes]
    log_path: Path
    started_at: float = field(default_factory=time.monotonic)
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=_TAIL_LINES))
    pump: threading.Thread | None = None
    healthy: bool = False


class Supervisor:
    """Runs `specs` as a group; a context manager that stops every child on exit.

    Output of each child goes to `out` as `name | line` and to `<data_dir>/logs/<name>.log`; the pids are
    recorded in `<data_dir>/run/` so that a later supervisor can stop children orphaned by a SIGKILL.
    """

    def __init__(
        self,
        specs: Sequence[ProcessSpec],
        *,
        data_dir: Path,
        out: TextIO | None = None,
        grace_seconds: float = 10.0,
    ) -> None:
        _validate(specs)
        self._specs = list(specs)
        self._data_dir = data_dir
        self._out = out if out is not None else sys.stdout
        self._grace = grace_seconds
        self._children: dict[str, _Child] = {}
        self._out_lock = threading.Lock()
        self._width = max((len(spec.name) for spec in specs), default=0)
        self._record = data_dir / "run" / f"supervisor-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        self._stopped = False
        self._hurry = False

    def __enter__(self) -> Supervisor:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def pids(self) -> dict[str, int]:
        """The pid (and process group id) of every started child."""
        return {name: child.process.pid for name, child in self._children.items()}

    def start(self) -> None:
        """Stop leftovers of a killed supervisor, check every port is free, start the children without `after`."""
        if self._stopped:
            raise StackError("this supervisor was stopped; make a new one")
        reap_leftovers(self._data_dir)
        for spec in self._specs:
            if spec.port is not None:
                procs.require_free_port(spec.port, spec.name)
        self._start_ready()

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Block until every child is healthy (starting the `after` ones as their dependencies become healthy).

        Raises ChildFailedError when a child exits first or does not become healthy within `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        log.info("waiting for %s…", ", ".join(spec.name for spec in self._specs))
        with httpx.Client(timeout=2.0) as client:
            while not self._all_healthy():
                self._start_ready()
                for child in list(self._children.values()):
                    if not child.healthy:
                        self._check(child, client)
                if time.monotonic() > deadline:
                    raise self._timeout_error(timeout)
                time.sleep(_POLL_SECONDS)

    def watch(self) -> int:
        """Block until Ctrl-C (returns 0) or until a child exits (returns 1); either way stop everything."""
        try:
            while True:
                for child in self._children.values():
                    code = child.process.poll()
                    if code is not None:
                        return self._child_died(child, code)
                time.sleep(_POLL_SECONDS)
        except KeyboardInterrupt:
            log.info("stopping…")
            self.stop()
            return 0

    def stop(self) -> None:
        """SIGTERM every child's process group, SIGKILL what is left after the grace period; idempotent.

        Dependents stop before what they depend on (the flows pause their schedules while Prefect is still up).
        """
        if self._stopped:
            return
        self._stopped = True
        for wave in self._stop_waves():
            self._stop_wave(wave)
        for child in self._children.values():
            if child.pump is not None:
                child.pump.join(timeout=2.0)
        self._record.unlink(missing_ok=True)

    def last_lines(self, name: str) -> list[str]:
        """The last output lines of child `name` (at most 25)."""
        return list(self._children[name].lines)

    def _start_ready(self) -> None:
        for spec in self._specs:
            if spec.name not in self._children and all(self._is_healthy(dep) for dep in spec.after):
                self._spawn(spec)

    def _is_healthy(self, name: str) -> bool:
        child = self._children.get(name)
        return child is not None and child.healthy

    def _all_healthy(self) -> bool:
        return all(self._is_healthy(spec.name) for spec in self._specs)

    def _spawn(self, spec: ProcessSpec) -> None:
        log_path = self._data_dir / "logs" / f"{spec.name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = log_path.open("wb")
        try:
            process = subprocess.Popen(
                list(spec.argv),
                cwd=spec.cwd,
                env=dict(spec.env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: Ctrl-C reaches only us, stop() reaches grandchildren
            )
        except OSError as exc:
            log_file.close()
            raise ChildFailedError(spec.name, f"cannot start {spec.name} ({shlex.join(spec.argv)}): {exc}") from exc
        child = _Child(spec=spec, process=process, log_path=log_path)
        child.pump = threading.Thread(target=self._pump, args=(child, log_file), name=f"pump-{spec.name}", daemon=True)
        child.pump.start()
        self._children[spec.name] = child
        self._write_record()
        log.info("started %s (pid %d): %s", spec.name, process.pid, shlex.join(spec.argv))

    def _pump(self, child: _Child, log_file: IO[bytes]) -> None:
        """Copy the child's output to its log file and, prefixed with its name, to `out`."""
        assert child.process.stdout is not None
        prefix = f"{child.spec.name:<{self._width}} | "
        with log_file, child.process.stdout as stream:
            for raw in iter(stream.readline, b""):
                log_file.write(raw)
                log_file.flush()
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                child.lines.append(line)
                self._echo(prefix + line)

    def _echo(self, text: str) -> None:
        with self._out_lock:
            try:
                self._out.write(text + "\n")
                self._out.flush()
            except (ValueError, OSError):  # the stream was closed (interpreter shutdown, pipe gone)
                pass

    def _check(self, child: _Child, client: httpx.Client) -> None:
        code = child.process.poll()
        if code is not None:
            if child.pump is not None:
                child.pump.join(timeout=1.0)
            raise ChildFailedError(
                child.spec.name,
                f"{child.spec.name} exited with code {code} before it was healthy\n{self._tail(child)}",
            )
        if self._probe(child, client):
            child.healthy = True
            log.info("%s… ok (%.1f s)", child.spec.name, time.monotonic() - child.started_at)

    def _probe(self, child: _Child, client: httpx.Client) -> bool:
        if child.spec.health_url is None:
            return time.monotonic() - child.started_at >= child.spec.settle_seconds
        try:
            return client.get(child.spec.health_url).is_success
        except httpx.HTTPError:
            return False

    def _timeout_error(self, timeout: float) -> ChildFailedError:
        pending = [spec for spec in self._specs if not self._is_healthy(spec.name)]
        parts = []
        for spec in pending:
            child = self._children.get(spec.name)
            if child is None:
                parts.append(f"{spec.name} never started: it waits for {', '.join(spec.after)}")
            else:
                parts.append(f"{spec.name} is not healthy ({spec.health_url or 'still starting'})\n{self._tail(child)}")
        names = ", ".join(spec.name for spec in pending)
        return ChildFailedError(pending[0].name, f"not healthy after {timeout:.0f} s: {names}\n" + "\n".join(parts))

    def _tail(self, child: _Child) -> str:
        lines = "\n".join(f"    {line}" for line in child.lines) or "    (no output)"
        return f"  last lines of {child.spec.name}:\n{lines}\n  full log: {child.log_path}"

    def _child_died(self, child: _Child, code: int) -> int:
        if child.pump is not None:
            child.pump.join(timeout=1.0)
        log.error("%s exited with code %d; stopping the others\n%s", child.spec.name, code, self._tail(child))
        self.stop()
        return 1

    def _stop_waves(self) -> list[list[_Child]]:
        """Started children grouped so that each wave holds only children nobody still running depends on."""
        remaining = list(reversed(self._children.values()))
        waves: list[list[_Child]] = []
        while remaining:
            needed = {dep for child in remaining for dep in child.spec.after}
            wave = [child for child in remaining if child.spec.name not in needed] or remaining
            waves.append(wave)
            remaining = [child for child in remaining if child not in wave]
        return waves

    def _stop_wave(self, wave: list[_Child]) -> None:
        for child in wave:
            procs.signal_group(child.process.pid, signal.SIGTERM)
        try:
            self._wait_for_exit(wave, time.monotonic() + (0.0 if self._hurry else self._grace))
        except KeyboardInterrupt:
            log.warning("interrupted again: killing every child now")
            self._hurry = True
        for child in wave:
            self._kill_if_alive(child)

    def _wait_for_exit(self, children: list[_Child], deadline: float) -> None:
        while any(_alive(child) for child in children) and time.monotonic() < deadline:
            time.sleep(0.05)

    def _kill_if_alive(self, child: _Child) -> None:
        if _alive(child):
            log.warning("%s did not stop within %.0f s: killing it", child.spec.name, self._grace)
            procs.signal_group(child.process.pid, signal.SIGKILL)
        try:
            child.process.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            log.error("%s (pid %d) survived SIGKILL", child.spec.name, child.process.pid)

    def _write_record(self) -> None:
        """Record our pid and the children's, so a later run can clean up if we get SIGKILLed."""
        record = {
            "owner": {"pid": os.getpid(), "started": procs.create_time(os.getpid())},
            "children": [
                {"name": name, "pid": child.process.pid, "started": procs.create_time(child.process.pid)}
                for name, child in self._children.items()
            ],
        }
        self._record.parent.mkdir(parents=True, exist_ok=True)
        self._record.write_text(json.dumps(record))


def _alive(child: _Child) -> bool:
    """The child, or anything left in its process group, is still running."""
    return child.process.poll() is None or procs.group_alive(child.process.pid)


def _validate(specs: Sequence[ProcessSpec]) -> None:
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"process names must be unique: {names}")
    for spec in specs:
        unknown = set(spec.after) - set(names)
        if unknown:
            raise ValueError(f"{spec.name} waits for unknown process(es): {', '.join(sorted(unknown))}")


def reap_leftovers(data_dir: Path, *, grace_seconds: float = 5.0) -> None:
    """Stop children recorded by supervisors under `data_dir` that died without stopping them (SIGKILL)."""
    for record in sorted((data_dir / "run").glob("supervisor-*.json")):
        try:
            data: dict[str, Any] = json.loads(record.read_text())
            owner = data["owner"]
            if owner["started"] is not None and procs.is_same_process(owner["pid"], owner["started"]):
                continue  # a live supervisor owns these children
            for child in data["children"]:
                _reap(child["name"], child["pid"], child["started"], grace_seconds)
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring unreadable supervisor record %s", record)
        record.unlink(missing_ok=True)


def _reap(name: str, pgid: int, started: float | None, grace_seconds: float) -> None:
    """Stop what is left of one orphaned child's process group."""
    if started is None or (procs.create_time(pgid) is not None and not procs.is_same_process(pgid, started)):
        return  # the pid was recycled: its group can't hold our processes any more
    if not procs.group_members(pgid, since=started):
        return
    log.warning("stopping %s (process group %d) left running by an earlier run that was killed", name, pgid)
    procs.signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while procs.group_members(pgid, since=started) and time.monotonic() < deadline:
        time.sleep(0.1)
    procs.signal_group(pgid, signal.SIGKILL)
