"""Embedded PostgreSQL: idempotent start, clean stop, recovery from killed owners, stale pid files, long paths."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import psutil  # type: ignore[import-untyped]
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from yutang_dev import sql
from yutang_dev.pg import EmbeddedPostgres, PostmasterPid


def _postmaster_pid(pg: EmbeddedPostgres) -> int:
    info = PostmasterPid.read(pg.data_dir)
    assert info is not None
    return info.pid


def _wait_until_dead(pid: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.02)
    raise AssertionError(f"pid {pid} is still alive")


async def _select_one(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        value: int = await connection.fetchval("SELECT 1")
    finally:
        await connection.close()
    return value


async def test_start_twice_reuses_the_same_server(pg: EmbeddedPostgres) -> None:
    # given a started server
    pg.start()
    first_url, first_pid = pg.url(), _postmaster_pid(pg)

    # when it is started again
    pg.start()

    # then it is the same server, reachable through asyncpg and SQLAlchemy
    assert pg.url() == first_url
    assert _postmaster_pid(pg) == first_pid
    assert first_url.startswith("postgresql+asyncpg://postgres@/yutang?host=/")
    pg.ensure_database("yutang")
    assert await _select_one(pg.url("yutang", driver=None)) == 1
    engine = create_async_engine(pg.url("yutang"))
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
    await engine.dispose()


def test_stop_is_clean_and_idempotent(pg: EmbeddedPostgres) -> None:
    # given a running server
    pg.start()
    pid = _postmaster_pid(pg)

    # when it is stopped twice
    pg.stop()
    pg.stop()

    # then the postmaster is gone, its pid file too, and no URL is handed out
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not (pg.data_dir / "postmaster.pid").exists()
    assert not pg.is_running()
    with pytest.raises(RuntimeError, match="not running"):
        pg.url()


def test_ensure_and_drop_database(pg: EmbeddedPostgres) -> None:
    pg.start()
    server = pg.url("postgres", driver=None)

    pg.ensure_database("scratch_one")
    pg.ensure_database("scratch_one")
    assert sql.database_exists(server, "scratch_one")

    pg.drop_database("scratch_one")
    pg.drop_database("scratch_one")
    assert not sql.database_exists(server, "scratch_one")
    with pytest.raises(ValueError, match="invalid database name"):
        pg.ensure_database('x"; DROP DATABASE postgres; --')


def test_start_after_the_owning_process_was_sigkilled(pg: EmbeddedPostgres) -> None:
    # given a server started by another Python process that is then killed with SIGKILL
    owner = subprocess.Popen([sys.executable, "-c", _OWNER_SCRIPT, str(pg.data_dir)], stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None
    assert owner.stdout.readline().strip() == "ready"
    os.kill(owner.pid, signal.SIGKILL)
    owner.wait()

    # when this process starts the same data directory
    pg.start()

    # then it reuses the surviving server and queries work
    pg.ensure_database("yutang")
    assert sql.psql(pg.url("yutang"), "SELECT 1") == "1"


_OWNER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from yutang_dev.pg import EmbeddedPostgres
    EmbeddedPostgres(Path(sys.argv[1])).start()
    print("ready", flush=True)
    time.sleep(60)
    """
)


async def test_start_after_the_postmaster_was_sigkilled(pg: EmbeddedPostgres) -> None:
    # given a server whose postmaster died with SIGKILL, leaving its pid file and maybe orphaned backends
    pg.start()
    pid = _postmaster_pid(pg)
    os.kill(pid, signal.SIGKILL)
    _wait_until_dead(pid)

    # when it is started again
    pg.start()

    # then a new postmaster serves queries
    assert _postmaster_pid(pg) != pid
    pg.ensure_database("yutang")
    assert await _select_one(pg.url("yutang", driver=None)) == 1


async def test_start_with_a_pid_file_naming_a_live_unrelated_process(pg: EmbeddedPostgres) -> None:
    # given a stopped server whose postmaster.pid names a recycled pid (here: this test process)
    pg.start()
    socket_dir = PostmasterPid.read(pg.data_dir)
    assert socket_dir is not None
    pg.stop()
    stale = ["" for _ in range(8)]
    stale[0], stale[1], stale[3], stale[4], stale[7] = (
        str(os.getpid()),
        str(pg.data_dir),
        "5432",
        "/nonexistent",
        "ready",
    )
    (pg.data_dir / "postmaster.pid").write_text("\n".join(stale) + "\n")
    assert not pg.is_running()

    # when it is started
    pg.start()

    # then the stale file is replaced by a real server's
    assert _postmaster_pid(pg) != os.getpid()
    pg.ensure_database("yutang")
    assert await _select_one(pg.url("yutang", driver=None)) == 1


async def test_deep_data_dir_gets_a_short_socket_path(short_dir: Path) -> None:
    # given a data directory whose socket path would exceed the Unix socket limit
    deep = short_dir.joinpath(*(["a-rather-long-directory-name"] * 4), "pg")
    assert len(str(deep / ".s.PGSQL.5432")) > 107
    pg = EmbeddedPostgres(deep)
    try:
        # when it starts
        pg.start()

        # then the socket lives elsewhere and the URL points there
        info = PostmasterPid.read(pg.data_dir)
        assert info is not None
        assert info.socket_dir is not None
        assert len(str(info.socket_dir / ".s.PGSQL.5432")) <= 107
        assert f"host={info.socket_dir}" in pg.url()
        assert await _select_one(pg.url("postgres", driver=None)) == 1
    finally:
        pg.stop()
