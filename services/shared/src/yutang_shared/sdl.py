"""Exports a subgraph's SDL to a file, or checks that the committed file still matches (`--check`)."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from strawberry.schema import BaseSchema


def render(target: str) -> str:
    """The SDL of `module:attribute`, exactly as the live `_service { sdl }` answers it."""
    module_name, _, attribute = target.partition(":")
    schema: BaseSchema = getattr(importlib.import_module(module_name), attribute)
    return schema.as_str().rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", help="module:attribute of the strawberry schema")
    parser.add_argument("path", type=Path, help="the schema.graphql file")
    parser.add_argument("--check", action="store_true", help="fail when the file differs instead of writing it")
    args = parser.parse_args(argv)
    sdl = render(args.target)
    current = args.path.read_text() if args.path.exists() else ""
    if args.check:
        if current != sdl:
            print(f"{args.path} is out of date: run `make sdl` and commit it", file=sys.stderr)
            return 1
        return 0
    if current != sdl:
        args.path.write_text(sdl)
        print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
