"""The process supervisor behind `make run` and the end-to-end tests, exercised with throwaway children."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest

from yutang_dev import procs
from yutang_dev.stack import ChildFailedError, Ports, ProcessSpec, Supervisor, reap_leftovers

CHATTY = textwrap.dedent(
    """
    import json, time
    print(json.dumps({"level": "info", "msg": "hello"}), flush=True)
    time.sleep(60)
    """
)
CRASH_LATER = "import time; print('about to fail', flush=True); time.sleep(1.0); raise SystemExit(3)"
CRASH_NOW = "print('cannot bind: boom', flush=True); raise SystemExit(2)"
STUBBORN = textwrap.dedent(
    """
    import signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    subprocess.Popen([sys.executable, "-c", code])
    print("stubborn", flush=True)
    time.sleep(60)
    """
)

ON_STOP_PROBE = textwrap.dedent(
    """
    import signal, socket, sys, time
    def probe(*_):
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=1).close()
            state = "up"
        except OSError:
            state = "down"
        open("{report}", "w").write(state)
        sys.exit(0)
    signal.signal(signal.SIGTERM, probe)
    print("waiting", flush=True)
    while True:
        time.sleep(0.1)
    """
)


def _python(name: str, code: str, **kwargs: object) -> ProcessSpec:
    return ProcessSpec(name=name, argv=[sys.executable, "-c", code], cwd=Path.cwd(), env=dict(os.environ), **kwargs)  # type: ignore[arg-type]


def _http(name: str, port: int, **kwargs: object) -> ProcessSpec:
    return ProcessSpec(
        name=name,
        argv=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=Path.cwd(),
        env=dict(os.environ),
        health_url=f"http://127.0.0.1:{port}/",
        port=port,
        **kwargs,  # type: ignore[arg-type]
    )


def _gone(pids: list[int]) -> bool:
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            continue
    return True


def test_starts_children_waits_for_health_and_stops_them(short_dir: Path) -> None:
    # given an HTTP server and a chatty JSON-lines child
    port = Ports.free().members
    out = io.StringIO()
    specs = [_http("web", port), _python("chatty", CHATTY, settle_seconds=0.3)]

    # when they run until healthy and are stopped
    with Supervisor(specs, data_dir=short_dir, out=out) as supervisor:
        supervisor.wait_healthy(timeout=20)
        pids = list(supervisor.pids.values())
        assert all(psutil.pid_exists(pid) for pid in pids)
    # then output is prefixed (JSON kept intact) and logged, and nothing is left behind
    assert _gone(pids)
    assert all(not procs.group_members(pid) for pid in pids)
    chatty = [line for line in out.getvalue().splitlines() if line.startswith("chatty")]
    assert chatty
    assert json.loads(chatty[0].split(" | ", 1)[1]) == {"level": "info", "msg": "hello"}
    assert '"msg": "hello"' in (short_dir / "logs" / "chatty.log").read_text()
    assert not list((short_dir / "run").glob("supervisor-*.json"))


def test_a_crashing_child_stops_the_others(short_dir: Path) -> None:
    # given a healthy stack where one child dies after a second
    port = Ports.free().members
    specs = [_http("web", port), _python("fragile", CRASH_LATER, settle_seconds=0.2)]
    supervisor = Supervisor(specs, data_dir=short_dir, out=io.StringIO())
    with supervisor:
        supervisor.wait_healthy(timeout=20)
        pids = list(supervisor.pids.values())

        # when watching it
        code = supervisor.watch()

    # then the crash is reported and every other child stopped
    assert code == 1
    assert _gone(pids)
    assert not procs.port_in_use(port)


def test_a_child_dying_before_healthy_is_named_with_its_last_lines(short_dir: Path) -> None:
    port = Ports.free().members
    specs = [_http("web", port), _python("broken", CRASH_NOW, health_url=f"http://127.0.0.1:{port + 1}/")]

    with (
        pytest.raises(ChildFailedError, match="broken exited with code 2") as failure,
        Supervisor(specs, data_dir=short_dir, out=io.StringIO()) as supervisor,
    ):
        supervisor.wait_healthy(timeout=20)

    assert failure.value.name == "broken"
    assert "cannot bind: boom" in str(failure.value)


def test_health_timeout_names_the_child(short_dir: Path) -> None:
    never = Ports.free().members  # nothing listens there
    specs = [_python("silent", CHATTY, health_url=f"http://127.0.0.1:{never}/health")]

    with (
        pytest.raises(ChildFailedError, match="not healthy after 1 s: silent") as failure,
        Supervisor(specs, data_dir=short_dir, out=io.StringIO()) as supervisor,
    ):
        supervisor.wait_healthy(timeout=1)

    assert '"msg": "hello"' in str(failure.value)


def test_dependents_start_once_their_dependency_is_healthy(short_dir: Path) -> None:
    port = Ports.free().members
    specs = [_python("late", CHATTY, after=("web",), settle_seconds=0.2), _http("web", port)]

    with Supervisor(specs, data_dir=short_dir, out=io.StringIO()) as supervisor:
        assert set(supervisor.pids) == {"web"}
        supervisor.wait_healthy(timeout=20)
        assert set(supervisor.pids) == {"web", "late"}


def test_dependents_stop_before_what_they_depend_on(short_dir: Path) -> None:
    # given a child that, when told to stop, records whether the server it depends on still answers
    port = Ports.free().members
    report = short_dir / "report.txt"
    dependent = _python("dependent", ON_STOP_PROBE.format(port=port, report=report), after=("web",), settle_seconds=0.3)

    # when the supervisor stops
    with Supervisor([_http("web", port), dependent], data_dir=short_dir, out=io.StringIO()) as supervisor:
        supervisor.wait_healthy(timeout=20)

    # then the dependency was still up while the dependent stopped
    assert report.read_text() == "up"


def test_stop_kills_children_and_grandchildren_that_ignore_sigterm(short_dir: Path) -> None:
    supervisor = Supervisor([_python("stubborn", STUBBORN, settle_seconds=0.5)], data_dir=short_dir, grace_seconds=0.5)
    with supervisor:
        supervisor.wait_healthy(timeout=20)
        pgid = supervisor.pids["stubborn"]
        deadline = time.monotonic() + 5
        while len(procs.group_members(pgid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(procs.group_members(pgid)) == 2

    assert procs.group_members(pgid) == []
    supervisor.stop()  # idempotent


def test_port_in_use_names_the_holder(short_dir: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]

        with pytest.raises(procs.PortInUseError, match=rf"port {port} \(for web\).*pid {os.getpid()}"):
            Supervisor([_http("web", port)], data_dir=short_dir).start()


def test_leftovers_of_a_killed_supervisor_are_stopped(short_dir: Path) -> None:
    # given a child recorded by a supervisor process that no longer exists
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    dead_owner = subprocess.Popen(["true"])
    dead_owner.wait()
    record = {
        "owner": {"pid": dead_owner.pid, "started": time.time() - 10},
        "children": [{"name": "orphan", "pid": orphan.pid, "started": procs.create_time(orphan.pid)}],
    }
    (short_dir / "run").mkdir()
    (short_dir / "run" / "supervisor-1-abc.json").write_text(json.dumps(record))

    # when a new supervisor starts in the same data dir
    reap_leftovers(short_dir)

    # then the orphan is stopped and the record removed
    assert orphan.wait(timeout=5) == -signal.SIGTERM
    assert not list((short_dir / "run").iterdir())
