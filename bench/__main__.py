"""Starts a private stack (embedded PostgreSQL, three subgraphs, the gateway) and runs every benchmark."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from bench.measure import run_all
from yutang_dev.keys import ensure_keys
from yutang_dev.migrate import upgrade
from yutang_dev.pg import EmbeddedPostgres
from yutang_dev.stack import Ports, base_env, stack_specs
from yutang_dev.supervisor import Supervisor


def main() -> int:
    data = Path(tempfile.mkdtemp(prefix="yb-", dir="/tmp"))
    pg = EmbeddedPostgres(data / "pg")
    try:
        keys = ensure_keys(data)
        pg.start()
        pg.ensure_database("bench")
        env = base_env(data_dir=data, keys=keys, database_url=pg.url("bench"))
        upgrade(pg.url("bench"))
        ports = Ports.free()
        print("starting the stack…", flush=True)
        with (
            (data / "stack.log").open("w") as out,
            Supervisor(stack_specs(env=env, ports=ports, with_prefect=False), data_dir=data, out=out) as stack,
        ):
            stack.wait_healthy(timeout=120)
            os.environ["YUTANG_DATA_DIR"] = str(data)
            run_all(ports=ports, keys=keys)
    finally:
        pg.stop()
        shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
