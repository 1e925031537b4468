"""Embedded PostgreSQL 16 (the pgserver wheel) for development and tests, robust to killed owners and stale pids.

pgserver alone reuses any live process whose pid is in `postmaster.pid`, stops the server when the first Python
process exits, and leaves a dead pid behind after SIGKILL. This wrapper checks that the pid really is this data
directory's postmaster, removes stale pid and socket lock files, starts without pgserver's atexit stop, and stops
explicitly with `pg_ctl stop -m fast`.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

from yutang_dev import sql
from yutang_dev._pgserver import BIN_DIR, new_server
from yutang_dev.paths import data_dir

__all__ = ["EmbeddedPostgres", "PostmasterPid", "default_pg_dir"]

log = logging.getLogger(__name__)

_SYSTEM_USER = "pgserver"  # pgserver runs postgres as this OS user when we are root
_READY_TIMEOUT_SECONDS = 30.0
_STOP_TIMEOUT_SECONDS = 30


def default_pg_dir() -> Path:
    """`$YUTANG_DATA_DIR/pg` (`.data/pg` under the working directory by default)."""
    return data_dir() / "pg"


@dataclass(frozen=True, slots=True)
class PostmasterPid:
    """What `postmaster.pid` says: pid, socket directory, port and status (`starting`, `ready`, `stopping`)."""

    pid: int
    socket_dir: Path | None
    port: int
    status: str

    @classmethod
    def read(cls, pgdata: Path) -> PostmasterPid | None:
        """Parse the pid file; None when absent or unreadable (a half-written file counts as `starting`)."""
        try:
            lines = (pgdata / "postmaster.pid").read_text().splitlines()
        except FileNotFoundError:
            return None
        if not lines or not lines[0].strip().isdigit():
            return None
        field = [line.strip() for line in lines] + [""] * 8
        return cls(
            pid=int(field[0]),
            socket_dir=Path(field[4]) if field[4] else None,
            port=int(field[3]) if field[3].isdigit() else 5432,
            status=field[7] or "starting",
        )


class EmbeddedPostgres:
    """One PostgreSQL cluster in `data_dir`, reachable only through a Unix socket."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.data_dir = (data_dir or default_pg_dir()).expanduser().resolve()
        self._system_user = _SYSTEM_USER if os.geteuid() == 0 else None

    def __repr__(self) -> str:
        return f"EmbeddedPostgres({str(self.data_dir)!r})"

    def start(self) -> None:
        """Start the server, or reuse the one already running for this data directory; idempotent."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._locked():
            if self._wait_until_ready():
                log.info("PostgreSQL already running for %s (pid %s)", self.data_dir, self._pid())
                return
            self._remove_stale_files()
            began = time.monotonic()
            new_server(self.data_dir)
            log.info("PostgreSQL started in %.1f s: %s", time.monotonic() - began, self.data_dir)

    def stop(self) -> None:
        """Stop the server (fast shutdown: sessions are disconnected); idempotent."""
        if not self.data_dir.exists():
            return
        with self._locked():
            info = PostmasterPid.read(self.data_dir)
            if info is None:
                return
            if not self._is_postmaster(info.pid):
                self._remove_stale_files()
                return
            self._pg_ctl_stop(info.pid)
            log.info("PostgreSQL stopped: %s", self.data_dir)

    def is_running(self) -> bool:
        """True when this data directory's postmaster is alive and accepting connections."""
        info = PostmasterPid.read(self.data_dir)
        return info is not None and info.status == "ready" and self._is_postmaster(info.pid)

    def url(self, database: str = "yutang", driver: str | None = "asyncpg") -> str:
        """A SQLAlchemy URL on the server's socket; `driver=None` gives a plain `postgresql://` URL for libpq."""
        info = PostmasterPid.read(self.data_dir)
        if info is None or info.socket_dir is None or not self.is_running():
            raise RuntimeError(f"embedded PostgreSQL is not running in {self.data_dir}: call start() first")
        scheme = "postgresql" if driver is None else f"postgresql+{driver}"
        port = "" if info.port == 5432 else f"&port={info.port}"
        return f"{scheme}://postgres@/{sql.validate_name(database)}?host={info.socket_dir}{port}"

    def ensure_database(self, name: str) -> None:
        """Create database `name` unless it exists."""
        if sql.create_database(self.url("postgres", driver=None), name):
            log.info("created database %s", name)

    def drop_database(self, name: str) -> None:
        """Drop database `name` if it exists, disconnecting its sessions."""
        sql.drop_database(self.url("postgres", driver=None), name)

    def _pid(self) -> int | None:
        info = PostmasterPid.read(self.data_dir)
        return info.pid if info else None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise start/stop of one data directory across processes."""
        lock_path = self.data_dir.parent / f".{self.data_dir.name}.lock"
        with lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _is_postmaster(self, pid: int) -> bool:
        """The pid is a live (non-zombie) postgres process serving this data directory, not a recycled pid."""
        try:
            process = psutil.Process(pid)
            if process.status() == psutil.STATUS_ZOMBIE or process.name() != "postgres":
                return False
            return str(self.data_dir) in process.cmdline() or Path(process.cwd()) == self.data_dir
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return False

    def _wait_until_ready(self) -> bool:
        """True when a live postmaster is (or becomes, while starting) ready; False when there is none."""
        deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
        while (info := PostmasterPid.read(self.data_dir)) is not None and self._is_postmaster(info.pid):
            if info.status == "ready":
                return True
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL in {self.data_dir} stays {info.status!r}; see {self.data_dir}/log")
            time.sleep(0.1)
        return False

    def _remove_stale_files(self) -> None:
        """Delete a pid file (and its socket lock) left by a postmaster that is gone, and stop its orphans.

        Orphaned backends of a killed postmaster would still use the data directory: they are stopped first.
        """
        info = PostmasterPid.read(self.data_dir)
        pid_file = self.data_dir / "postmaster.pid"
        if info is None and not pid_file.exists():
            return
        log.warning("removing stale %s (pid %s is not this server's postmaster)", pid_file, info.pid if info else "?")
        self._stop_orphans()
        pid_file.unlink(missing_ok=True)
        if info is not None and info.socket_dir is not None:
            (info.socket_dir / f".s.PGSQL.{info.port}.lock").unlink(missing_ok=True)
            (info.socket_dir / f".s.PGSQL.{info.port}").unlink(missing_ok=True)

    def _orphans(self) -> list[Any]:
        """Live postgres processes working in this data directory (every postgres process chdirs to it)."""
        found = []
        for process in psutil.process_iter(["name", "status"]):
            if process.info["name"] != "postgres" or process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                if Path(process.cwd()) == self.data_dir:
                    found.append(process)
        return found

    def _stop_orphans(self) -> None:
        orphans = self._orphans()
        if not orphans:
            return
        log.warning("stopping %d orphaned postgres process(es) of %s", len(orphans), self.data_dir)
        for process in orphans:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.terminate()
        _, alive = psutil.wait_procs(orphans, timeout=3)
        for process in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(alive, timeout=3)

    def _pg_ctl_stop(self, pid: int) -> None:
        argv = [str(BIN_DIR / "pg_ctl"), "-D", str(self.data_dir), "-w", "-m", "fast", "stop"]
        try:
            subprocess.run(
                argv,
                user=self._system_user,
                cwd=self.data_dir,
                capture_output=True,
                check=True,
                timeout=_STOP_TIMEOUT_SECONDS,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            log.warning("pg_ctl stop failed (%s); killing postmaster %s", exc, pid)
            self._kill(pid)

    def _kill(self, pid: int) -> None:
        try:
            process = psutil.Process(pid)
            process.terminate()
            process.wait(5)
        except psutil.TimeoutExpired:
            process.kill()
        except psutil.NoSuchProcess:
            pass
        self._remove_stale_files()
