"""Before / after of the refresh statements on one seeded database: the statements of an older commit (read with
`git show`) against the current ones, alternating, each in a rolled-back transaction from an empty
`member_insights`: baseline + refresh (a first run), then the refresh again (a re-run). Prints wall seconds and
the PostgreSQL backend's CPU seconds (user + system from /proc/<pid>/stat; the database must run on this machine),
alone and with its parallel workers' (counted through the postmaster's reaped children).

python -m bench.insights_ab --database-url URL [--before ec2ce6c] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import time
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import text

from members.insights import sql as current_sql
from members.insights.service import refresh_params
from yutang_shared.db import create_engine, session_factory

AS_OF = date(2026, 11, 30)
SQL_PATH = "services/members/src/members/insights/sql.py"
RESET = (
    "DELETE FROM members.outbox WHERE type = 'member.stage-changed'",
    "DELETE FROM members.stage_transitions",
    "DELETE FROM members.member_insights",
    "DELETE FROM members.insight_baselines",
)


def statements_of(commit: str) -> ModuleType:
    """The insights SQL module as it was at `commit`."""
    root = Path(__file__).resolve().parent.parent
    source = subprocess.run(
        ["git", "show", f"{commit}:{SQL_PATH}"], cwd=root, check=True, capture_output=True, text=True
    ).stdout
    module = ModuleType(f"insights_sql_{commit}")
    exec(compile(source, f"{commit}:{SQL_PATH}", "exec"), module.__dict__)  # noqa: S102 (our own history)
    return module


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def backend_cpu(pid: int) -> float:
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cluster_cpu(pid: int) -> float:
    """The backend's CPU plus what its postmaster's exited children used (parallel workers, once reaped; also
    any autovacuum worker that ended meanwhile: a private server keeps that small)."""
    postmaster = _stat(int(_stat(pid)[1]))
    return backend_cpu(pid) + (int(postmaster[13]) + int(postmaster[14])) / os.sysconf("SC_CLK_TCK")


async def _baseline(session: Any, statements: ModuleType, params: dict[str, Any]) -> None:
    """The date's baseline: one INSERT … SELECT before, a parallel-capable SELECT then its INSERT after."""
    if not hasattr(statements, "BASELINE_INSERT"):
        await session.execute(text(statements.BASELINE), params)
        return
    computed = (await session.execute(text(statements.BASELINE), params)).mappings().one()
    await session.execute(text(statements.BASELINE_INSERT), {**params, **computed})


async def _refresh(session: Any, statements: ModuleType, params: dict[str, Any]) -> None:
    """The shard statement(s): since the facts moved into a parallel CREATE TABLE AS, FACTS first (with the
    date's premium unit price as a bound value), REFRESH, then the temporary table dropped."""
    if not hasattr(statements, "FACTS"):
        await session.execute(text(statements.REFRESH), params)
        return
    premium = await session.execute(text(statements.BASELINE_PREMIUM), params)
    await session.execute(text(statements.FACTS), {**params, "premium_unit_fen": premium.scalar_one()})
    await session.execute(text(statements.REFRESH), params)
    await session.execute(text(f"DROP TABLE {statements.FACTS_TABLE}"))


async def _one(sessions: Any, statements: ModuleType) -> tuple[float, ...]:
    """(first run wall, backend CPU, CPU with workers, re-run wall, backend CPU, CPU with workers), rolled back."""
    params = refresh_params(AS_OF, 0, 1)
    async with sessions() as session:
        for statement in RESET:
            await session.execute(text(statement))
        pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        await session.execute(text("SET LOCAL work_mem = '256MB'"))
        marks = [(time.perf_counter(), backend_cpu(pid), cluster_cpu(pid))]
        await _baseline(session, statements, params)
        await _refresh(session, statements, params)
        marks.append((time.perf_counter(), backend_cpu(pid), cluster_cpu(pid)))
        await _refresh(session, statements, params)
        marks.append((time.perf_counter(), backend_cpu(pid), cluster_cpu(pid)))
        await session.rollback()
    (w0, c0, a0), (w1, c1, a1), (w2, c2, a2) = marks
    return w1 - w0, c1 - c0, a1 - a0, w2 - w1, c2 - c1, a2 - a1


async def measure(database_url: str, before: str, rounds: int) -> None:
    engine = create_engine(database_url, pool_size=1)
    sessions = session_factory(engine)
    variants = (("before", statements_of(before)), ("after", current_sql))
    try:
        for round_ in range(1, rounds + 1):
            for name, statements in variants:
                first, first_cpu, first_all, again, again_cpu, again_all = await _one(sessions, statements)
                print(
                    f"round {round_} {name:6}: first run {first:6.2f} s wall {first_cpu:6.2f} s CPU "
                    f"({first_all:6.2f} s with workers); re-run {again:6.2f} s wall {again_cpu:6.2f} s CPU "
                    f"({again_all:6.2f} s with workers); load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.insights_ab", description=__doc__)
    parser.add_argument("--database-url", required=True, help="postgresql+asyncpg://… of a seeded database")
    parser.add_argument("--before", default="ec2ce6c", help="the commit whose statements are 'before'")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    asyncio.run(measure(args.database_url, args.before, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
