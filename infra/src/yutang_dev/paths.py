"""Where things live: the repository root, the development data directory and the virtualenv's Python."""

from __future__ import annotations

import sys
from pathlib import Path

from yutang_shared.settings import default_data_dir

__all__ = ["data_dir", "python", "repo_root"]

_MARKER = "Makefile"


def repo_root() -> Path:
    """The directory holding the Makefile: found from this module's location, else from the working directory."""
    here = Path(__file__).resolve()
    cwd = Path.cwd().resolve()
    for candidate in (*here.parents, cwd, *cwd.parents):
        if (candidate / _MARKER).is_file() and (candidate / "services").is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the repository root (a directory with a {_MARKER} and services/)")


def data_dir() -> Path:
    """`$YUTANG_DATA_DIR`, else `.data` under the working directory; always absolute."""
    return default_data_dir()


def python() -> str:
    """The interpreter running this module: the virtualenv's Python when started through the Makefile."""
    return sys.executable
