"""Starts a private stack (embedded PostgreSQL, three subgraphs, the gateway) and runs every benchmark.

python -m bench [--rounds 3] [--seconds 2.5] [--only-points | --only-hot-path | --only checkin|insights]
                [--only-graduation] [--import-members N] [--import-orders N] [--graduation-members N]
                [--insights-members N] [--insights-orders N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.measure import Settings, run_all
from yutang_dev.keys import ensure_keys
from yutang_dev.migrate import upgrade
from yutang_dev.nats import EmbeddedNats
from yutang_dev.pg import EmbeddedPostgres, PostmasterPid
from yutang_dev.stack import Ports, base_env, stack_specs
from yutang_dev.supervisor import Supervisor


def _settings(argv: list[str] | None) -> Settings:
    defaults = Settings()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=defaults.rounds, help="timed rounds of every scenario")
    parser.add_argument("--seconds", type=float, default=defaults.seconds, help="length of one scenario's round")
    parser.add_argument("--only-points", action="store_true", help="only the order → points latency (P7)")
    parser.add_argument(
        "--only-hot-path", action="store_true", help="only P1 (reads) and P2a (ledger writes), the hot path"
    )
    parser.add_argument(
        "--only",
        choices=["checkin", "insights"],
        help="run one measurement alone (checkin: check-in throughput; insights: P9, no stack)",
    )
    parser.add_argument("--import-members", type=int, default=defaults.import_members, help="bulk import size")
    parser.add_argument("--import-orders", type=int, default=defaults.import_orders, help="bulk import size")
    parser.add_argument(
        "--graduation-members", type=int, default=defaults.graduation_members, help="VIP graduation size (100000)"
    )
    parser.add_argument("--only-graduation", action="store_true", help="only VIP graduation (flow vs no Prefect)")
    parser.add_argument("--insights-members", type=int, default=defaults.insights_members, help="P9 members")
    parser.add_argument("--insights-orders", type=int, default=defaults.insights_orders, help="P9 orders")
    args = parser.parse_args(argv)
    return Settings(
        rounds=args.rounds,
        seconds=args.seconds,
        only_points=args.only_points,
        only_hot_path=args.only_hot_path,
        only=args.only,
        import_members=args.import_members,
        import_orders=args.import_orders,
        graduation_members=args.graduation_members,
        only_graduation=args.only_graduation,
        insights_members=args.insights_members,
        insights_orders=args.insights_orders,
    )


def _postmaster(pg: EmbeddedPostgres) -> int:
    info = PostmasterPid.read(pg.data_dir)
    if info is None:
        raise RuntimeError(f"no postmaster.pid in {pg.data_dir}")
    return info.pid


def _insights(pg: EmbeddedPostgres, settings: Settings) -> None:
    """P9 on a database of its own (the other benchmarks' members would blur its figures)."""
    from bench.insights import run

    pg.ensure_database("insights")
    url = pg.url("insights")
    upgrade(url)
    run(url, members=settings.insights_members, orders=settings.insights_orders)


def main(argv: list[str] | None = None) -> int:
    settings = _settings(argv)
    started = time.perf_counter()
    data = Path(tempfile.mkdtemp(prefix="yb-", dir="/tmp"))
    pg = EmbeddedPostgres(data / "pg")
    bus = EmbeddedNats(data / "nats", port=Ports.free().gateway)
    try:
        keys = ensure_keys(data)
        pg.start()
        pg.ensure_database("bench")
        database_url = pg.url("bench")
        bus.start()
        env = base_env(data_dir=data, keys=keys, database_url=database_url, nats_url=bus.url)
        upgrade(database_url)
        if settings.only == "insights":
            _insights(pg, settings)
            return 0
        ports = Ports.free()
        print(f"starting the stack (its output: {data / 'stack.log'})…", flush=True)
        with (
            (data / "stack.log").open("w") as out,
            Supervisor(stack_specs(env=env, ports=ports, with_prefect=False), data_dir=data, out=out) as stack,
        ):
            stack.wait_healthy(timeout=120)
            print(f"stack healthy after {time.perf_counter() - started:.0f} s", flush=True)
            os.environ["YUTANG_DATA_DIR"] = str(data)
            pids = {**stack.pids, "postgres": _postmaster(pg)}
            run_all(ports=ports, keys=keys, pids=pids, database_url=database_url, settings=settings)
        alone = settings.only_points or settings.only_hot_path or settings.only or settings.only_graduation
        if settings.insights_members and not alone:
            _insights(pg, settings)
    finally:
        bus.stop()
        pg.stop()
        shutil.rmtree(data, ignore_errors=True)
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
