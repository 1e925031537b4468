"""Imports pgserver once, quietly: it warns at import time when XDG_RUNTIME_DIR is unset."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from pgserver._commands import POSTGRES_BIN_PATH
    from pgserver.postgres_server import PostgresServer

__all__ = ["BIN_DIR", "new_server"]

BIN_DIR: Path = Path(POSTGRES_BIN_PATH)


def new_server(pgdata: Path) -> Any:
    """A pgserver handle that initialises and starts the cluster and never stops it by itself.

    pgserver registers an atexit hook and keeps a per-process registry; we stop the server explicitly instead, so
    both are undone here.
    """
    import atexit

    server = PostgresServer(pgdata, cleanup_mode=None)
    atexit.unregister(server._cleanup)
    PostgresServer._instances.pop(pgdata, None)
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)
    return server
